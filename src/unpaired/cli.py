"""``unpaired``: the command-line interface.

Every user error (unknown recipe, bad ``--set``, missing data) prints one line and
exits with code 2; a NaN/inf during training exits with 3; an interrupted run exits
with 128 + the signal number after writing a checkpoint.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from unpaired import __version__
from unpaired.errors import ConfigError, UnpairedError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="unpaired",
    help="Learn mappings from unpaired supervision: AIGN, statistical distances, alignment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(help="Inspect the data directory.", no_args_is_help=True)
app.add_typer(data_app, name="data")

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _user_errors(fn: F) -> F:
    """Turn library errors into one red line and an exit code (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UnpairedError as e:
            err.print(f"[red]error:[/red] {e}", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]interrupted[/red]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"unpaired {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Learn mappings from unpaired supervision."""


@app.command("recipes")
def recipes_cmd() -> None:
    """List the recipes (named experiments) with one-line descriptions."""
    from unpaired.recipes import RECIPES

    table = Table("recipe", "demo", "description", box=None, pad_edge=False)
    for spec in RECIPES.values():
        table.add_row(spec.name, "yes" if spec.embedded else "", spec.summary)
    out.print(table)


@app.command("run")
@_user_errors
def run_cmd(
    recipe: Annotated[str, typer.Argument(help="Recipe name (see `unpaired recipes`).")],
    quick: Annotated[
        bool, typer.Option("--quick", help="Small, fast version of the recipe.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run directory [default: runs/RECIPE].")
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir", help="Data directory [default: $UNPAIRED_DATA or ~/.cache/unpaired]."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config field: key=value (repeatable; nested: train.lr=1e-3)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of config overrides.")
    ] = None,
    devices: Annotated[
        int,
        typer.Option("--devices", help="Devices (processes) per machine; >1 trains in parallel."),
    ] = 1,
    num_nodes: Annotated[
        int,
        typer.Option("--num-nodes", help="Machines; under torchrun or SLURM (see docs/ENGINE.md)."),
    ] = 1,
    strategy: Annotated[
        str,
        typer.Option("--strategy", help="ddp or fsdp, used when devices x nodes > 1."),
    ] = "ddp",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    precision: Annotated[
        str, typer.Option("--precision", help="32-true, 64-true, bf16-mixed or 16-mixed (GPU).")
    ] = "32-true",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its checkpoints.")
    ] = False,
    max_minutes: Annotated[
        float | None,
        typer.Option("--max-minutes", help="Time budget; stops cleanly with a checkpoint."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="torch intra-op threads [default: torch's choice]; 1 is fastest for small models.",
        ),
    ] = None,
) -> None:
    """Run a recipe: train its models and baselines, write a report into the run directory."""
    from unpaired.config import parse_assignments
    from unpaired.recipes.runner import run_recipe

    outcome = run_recipe(
        recipe,
        quick=quick,
        out=out_dir,
        data_dir_option=data_dir,
        overrides=parse_assignments(set_ or []),
        config_file=config,
        devices=devices,
        num_nodes=num_nodes,
        strategy=strategy,  # type: ignore[arg-type]
        seed=seed,
        precision=precision,  # type: ignore[arg-type]
        resume=resume,
        max_minutes=max_minutes,
        progress=progress and sys.stderr.isatty(),
        threads=threads,
    )
    _print_outcome(outcome)


def _print_outcome(outcome: Any) -> None:
    from unpaired.report import fmt

    if not outcome.is_main:
        return
    if outcome.report is not None and outcome.status == "completed":
        for t in outcome.report.tables:
            table = Table(*t.columns, title=t.title, title_justify="left")
            for r in t.rows:
                table.add_row(*(fmt(v) for v in r))
            out.print(table)
    if outcome.status != "completed":
        err.print(f"[yellow]stopped:[/yellow] {outcome.message}")
    out.print(f"report: {outcome.out / 'report.md'}")


@app.command("demo")
@_user_errors
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Demo directory.")] = Path("runs/demo"),
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Data directory.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch intra-op threads.")
    ] = None,
) -> None:
    """Run every recipe that needs no downloaded data, in --quick mode, into one report."""
    from unpaired.recipes.runner import run_demo

    for o in run_demo(
        out_dir, data_dir_option=data_dir, seed=seed, progress=sys.stderr.isatty(), threads=threads
    ):
        out.print(f"[bold]{o.name}[/bold]: {o.status}")
        _print_outcome(o)
    out.print(f"combined report: {out_dir / 'report.md'} and {out_dir / 'report.html'}")


@app.command("align")
@_user_errors
def align_cmd(
    source: Annotated[
        Path, typer.Argument(help="Source samples A: .npy, .npz (one array) or .csv, shape (N, D).")
    ],
    target: Annotated[
        Path, typer.Argument(help="Target samples B: same formats, shape (M, D), the same D.")
    ],
    distance: Annotated[
        str,
        typer.Option(
            "--distance",
            help=(
                "d(T(A), B): mean, coral, mmd, energy, sinkhorn, emd, sliced, adversarial "
                "(logistic critic), wgan-gp, dual-linear, dual-rbf, gaussian-lrmf, flow-lrmf "
                "(needs an invertible T: --transform flow or affine)."
            ),
        ),
    ],
    transform: Annotated[
        str,
        typer.Option(
            "--transform", help="Family of T, identity at the start: shift, affine, mlp or flow."
        ),
    ] = "affine",
    steps: Annotated[int, typer.Option("--steps", help="Training steps.")] = 1000,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Samples of each set per step.")
    ] = 256,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate of T (and critic).")] = 2e-3,
    identity_weight: Annotated[
        float,
        typer.Option(
            "--identity-weight",
            help="R(T) = w * mean((T(a) - a)^2) in standardized units: keep T near the identity.",
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder (checkpoints, aligned.npy, metrics.json).")
    ] = Path("runs/align"),
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the alignment in --out from its checkpoint.")
    ] = False,
    warn_above: Annotated[
        float,
        typer.Option(
            "--warn-above",
            help="LRMF only: warn when the final log-likelihood ratio (nats) stays above this.",
        ),
    ] = 0.1,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch intra-op threads [default: torch's].")
    ] = None,
) -> None:
    """Learn T minimizing d(T(SOURCE), TARGET); write T(SOURCE) to OUT/aligned.npy.

    Also writes OUT/distance.png (the distance over training) and OUT/metrics.json.
    Both sets are standardized together, T is learned in those units and applied in
    the original ones. Bad files or mismatched dimensions exit with code 2.
    """
    import torch

    from unpaired.alignment import align_files

    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    result = align_files(
        source,
        target,
        out=out_dir,
        distance=distance,  # type: ignore[arg-type]
        transform=transform,  # type: ignore[arg-type]
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        identity_weight=identity_weight,
        seed=seed,
        warn_above=warn_above,
        resume=resume,
        progress=progress and sys.stderr.isatty(),
    )
    m = result.metrics
    start = "" if m["initial_distance"] is None else f"{m['initial_distance']:.4g} -> "
    out.print(
        f"{distance} ({transform} T, {m['steps']} steps): d(T(A), B) = {start}{m['final_distance']:.4g}"
    )
    if result.warning is not None:
        err.print(f"[yellow]WARNING:[/yellow] {result.warning}", soft_wrap=True)
    out.print(f"aligned: {result.out / 'aligned.npy'}  metrics: {result.out / 'metrics.json'}")


@data_app.command("check")
@_user_errors
def data_check_cmd(
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Data directory to check.")
    ] = None,
) -> None:
    """List every known dataset: found or missing, the files expected, where to get it."""
    from unpaired.data.catalog import DATASETS
    from unpaired.data.root import data_dir as resolve

    root = resolve(data_dir)
    out.print(f"data directory: {root}")
    table = Table("dataset", "status", "folder", "expected files", "how to obtain", show_lines=True)
    for ds in DATASETS:
        found = ds.found(root)
        status = (
            "[green]found[/green]"
            if found
            else (
                "[yellow]missing[/yellow] (bring your own)"
                if ds.bring_your_own
                else "[red]missing[/red]"
            )
        )
        expected = ds.expected if found else tuple(ds.missing(root))
        table.add_row(ds.name, status, ds.folder + "/", "\n".join(expected), ds.obtain)
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
