"""Run a recipe into a run directory, and the demo (every embedded recipe, quick mode).

A run directory holds (DESIGN.md, "Runs on disk"): ``config.yaml`` (resolved),
``log.jsonl``, ``tb/`` (TensorBoard events), ``checkpoints/<model>/last.pt``,
``models/<model>.pt`` (the networks each task exports: :mod:`unpaired.engine.records`),
``metrics.json``, ``report.md``, ``report.html`` and PNG figures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from lightning_fabric import Fabric

from unpaired import __version__
from unpaired.config import apply_overrides, load_yaml, to_dict
from unpaired.data.root import data_dir
from unpaired.engine import FitResult, RunLogger, make_fabric, seed_everything
from unpaired.engine.devices import Precision, Strategy, check_device_options, launch
from unpaired.errors import ConfigError
from unpaired.recipes import RECIPES, RecipeSpec, get
from unpaired.recipes._claims import Verdict, claims_for
from unpaired.recipes._run_report import RunView, comparison_figure, write_demo, write_report
from unpaired.recipes.base import BudgetExhausted, RunContext
from unpaired.report import Figure, Report, Table, plot_curves


@dataclass
class Outcome:
    name: str
    out: Path
    status: str  # "completed" | "stopped"
    message: str
    report: Report | None
    is_main: bool = True  # rank 0 (the process that writes and prints)
    view: RunView | None = None  # what report.html shows: claim, verdicts, full report

    @property
    def claim(self) -> str:
        """What the recipe reproduces (``recipes/_claims_table.py``); "" if undeclared."""
        return self.view.claim if self.view is not None else ""

    @property
    def verdicts(self) -> list[Verdict]:
        """The recipe's claims checked against this run's ``metrics.json``."""
        return self.view.verdicts if self.view is not None else []


def resolve_config(
    spec: RecipeSpec,
    *,
    quick: bool = False,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """The recipe's config: defaults, then ``QUICK`` (if quick), the YAML file, ``--set``."""
    module = spec.load()
    cfg = module.Config()
    if quick:
        cfg = apply_overrides(cfg, getattr(module.Config, "QUICK", {}))
    if config_file is not None:
        cfg = apply_overrides(cfg, load_yaml(config_file))
    if overrides:
        cfg = apply_overrides(cfg, overrides)
    return cfg


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            out += _diff(old.get(k), new.get(k), f"{prefix}{k}.")
        return out
    return [] if old == new else [f"{prefix[:-1]}: {old!r} -> {new!r}"]


def run_recipe(
    name: str,
    *,
    quick: bool = False,
    out: str | Path | None = None,
    data_dir_option: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    devices: int = 1,
    num_nodes: int = 1,
    strategy: Strategy = "ddp",
    seed: int = 0,
    precision: Precision = "32-true",
    resume: bool = False,
    max_minutes: float | None = None,
    progress: bool | None = None,
    threads: int | None = None,
    fabric: Fabric | None = None,
) -> Outcome:
    """Resolve the config, train every model of recipe ``name``, write the run directory.

    ``threads`` sets torch's intra-op threads (``None``: torch's default). Small models
    run fastest with 1, and many threads on a busy machine can be an order of magnitude
    slower than one. ``devices`` (per machine), ``num_nodes`` and ``strategy`` go to
    :func:`~unpaired.engine.make_fabric` (ignored when ``fabric`` is given).
    """
    spec = get(name)
    cfg = resolve_config(spec, quick=quick, config_file=config_file, overrides=overrides)
    check = getattr(spec.load(), "check", None)
    if check is not None:  # a recipe's own input check (e.g. its folders), before any output
        check(cfg)
    if max_minutes is not None and not max_minutes > 0:
        raise ConfigError(f"--max-minutes must be > 0, got {max_minutes}")
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    if fabric is None:
        check_device_options(devices, precision, num_nodes=num_nodes, strategy=strategy)
    if data_dir_option is not None:
        data_dir(data_dir_option)  # a --data-dir that does not exist is an error up front
    out_path = Path(out) if out is not None else Path("runs") / name
    resolved = {
        "recipe": name,
        "quick": quick,
        "seed": seed,
        "devices": devices,
        "num_nodes": num_nodes,
        "strategy": strategy,
        "precision": precision,
        "config": to_dict(cfg),
    }
    config_path = out_path / "config.yaml"
    if config_path.exists():
        if not resume:
            raise ConfigError(
                f"{out_path} already holds a run; pass --resume to continue it or choose another --out"
            )
        previous = yaml.safe_load(config_path.read_text()) or {}
        previous.pop("version", None)
        changes = _diff(
            {k: previous.get(k) for k in ("recipe", "quick", "seed", "config")},
            {k: resolved[k] for k in ("recipe", "quick", "seed", "config")},
        )
        if changes:
            raise ConfigError(
                f"cannot resume {out_path} with a different config ({'; '.join(changes[:3])})"
            )

    if fabric is None:
        fabric = launch(
            make_fabric(devices, precision=precision, num_nodes=num_nodes, strategy=strategy)
        )
    is_main = fabric.global_rank == 0
    if is_main:
        out_path.mkdir(parents=True, exist_ok=True)
        config_path.write_text(
            yaml.safe_dump({"version": __version__, **resolved}, sort_keys=False)
        )
    seed_everything(seed)
    logger = RunLogger(out_path, enabled=is_main)
    ctx = RunContext(
        out=out_path,
        fabric=fabric,
        logger=logger,
        seed=seed,
        quick=quick,
        resume=resume,
        data_dir_option=data_dir_option,
        deadline=None if max_minutes is None else time.monotonic() + 60.0 * max_minutes,
        progress=progress,
    )
    status, message, report = "completed", "", None
    started = time.monotonic()
    try:
        report = spec.load().run(cfg, ctx)
    except BudgetExhausted as e:
        status, message = "stopped", str(e)
    finally:
        logger.close()
    outcome = Outcome(name, out_path, status, message, report, is_main)
    if is_main:
        outcome.view = write_run(out_path, spec, report, ctx.fits, status=status, message=message)
        outcome.view.seconds = time.monotonic() - started
    return outcome


def _model_table(fits: Mapping[str, FitResult]) -> Table:
    rows = [
        [n, f.steps, "yes" if f.completed else "no", round(f.seconds, 1)] for n, f in fits.items()
    ]
    return Table("Training", ["model", "steps", "completed", "train seconds (this process)"], rows)


def write_run(
    out: Path,
    spec: RecipeSpec,
    report: Report | None,
    fits: Mapping[str, FitResult],
    *,
    status: str,
    message: str,
) -> RunView:
    """Write ``metrics.json`` (with the recipe's claims checked: ``claim``, ``verdicts``),
    curve PNGs, ``report.md`` and ``report.html`` (the verdict first) into ``out``; return
    what the report shows (no verdicts when the recipe declares no claims)."""
    out.mkdir(parents=True, exist_ok=True)
    if report is None:
        report = Report(title=f"{spec.name} (stopped early)", summary=message)
    claims = claims_for(spec.name)
    figures = list(report.figures)
    compare = comparison_figure(claims, {n: f.history for n, f in fits.items()}, out)
    if compare is not None:
        figures.insert(0, compare)
    for model, fit in fits.items():
        png = plot_curves(
            {model: fit.history}, out / "figures" / f"curves_{model}.png", title=model
        )
        if png is not None:
            figures.append(Figure(str(png.relative_to(out)), f"training curves: {model}"))
    full = Report(
        title=report.title,
        summary=report.summary
        if status == "completed"
        else f"**Stopped early**: {message}\n\n{report.summary}",
        tables=[*report.tables, _model_table(fits)] if fits else report.tables,
        figures=figures,
        metrics=report.metrics,
        notes=report.notes,
    )
    data = {
        "recipe": spec.name,
        "status": status,
        "note": message,
        "metrics": report.metrics,
        "tables": {t.title: t.records() for t in report.tables},
        "models": {
            n: {
                "steps": f.steps,
                "completed": f.completed,
                "final": f.final,
                "seconds": f.seconds,
                "resumed_from": f.resumed_from,
            }
            for n, f in fits.items()
        },
    }
    return write_report(out, spec.name, full, data, claims)


def run_demo(
    out: str | Path = "runs/demo",
    *,
    data_dir_option: str | None = None,
    seed: int = 0,
    progress: bool | None = None,
    threads: int | None = None,
    names: Sequence[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> list[Outcome]:
    """Every recipe that runs on embedded data, in quick mode, plus one combined report.

    ``names`` restricts the demo to some recipes; ``overrides`` maps a recipe name to
    extra dotted config overrides applied on top of its quick mode. A demo directory
    that already exists is resumed (finished models are reloaded).
    """
    out_path = Path(out)
    specs = (
        [RECIPES[n] for n in names]
        if names is not None
        else [s for s in RECIPES.values() if s.embedded]
    )
    fabric = make_fabric(1)
    fabric.launch()
    started = time.monotonic()
    outcomes = []
    for spec in specs:
        sub = out_path / spec.name
        outcomes.append(
            run_recipe(
                spec.name,
                quick=True,
                out=sub,
                data_dir_option=data_dir_option,
                seed=seed,
                resume=(sub / "config.yaml").exists(),
                progress=progress,
                threads=threads,
                fabric=fabric,
                overrides=(overrides or {}).get(spec.name),
            )
        )
    views = [
        o.view or RunView(o.name, Report(title=o.name, summary=o.message), status=o.status)
        for o in outcomes
    ]
    write_demo(out_path, views, seed=seed, seconds=time.monotonic() - started)
    return outcomes
