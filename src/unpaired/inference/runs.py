"""The runs under a folder (``unpaired runs``) and two runs side by side (``runs compare``).

A run directory is a folder with ``config.yaml`` (``unpaired run``, ``unpaired align``).
Its status: **complete** (``metrics.json`` says completed and every checkpoint is
finished), **interrupted** (checkpoints exist but one is unfinished or ``metrics.json``
says stopped, or is missing: a killed run) or **failed** (no checkpoint and no metrics).
Headline metrics are the numbers directly under ``metrics.json``'s ``metrics`` (then
its top level), flattened one level (``exact/torso``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from unpaired.engine.records import list_models
from unpaired.errors import DataError

__all__ = ["RunInfo", "compare_runs", "find_runs", "read_run"]


@dataclass
class RunInfo:
    path: Path
    recipe: str
    date: str
    status: str
    models: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def _numbers(tree: Any, prefix: str = "", depth: int = 0) -> dict[str, float]:
    out: dict[str, float] = {}
    if not isinstance(tree, dict):
        return out
    for k, v in tree.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            out[f"{prefix}{k}"] = float(v)
        elif isinstance(v, dict) and depth < 2 and k not in ("models", "tables"):
            out |= _numbers(v, f"{prefix}{k}/", depth + 1)
    return out


def _status(run: Path, metrics: dict[str, Any] | None) -> str:
    import torch

    ckpts = sorted((run / "checkpoints").rglob("last.pt"))
    if metrics is None and not ckpts:
        return "failed"
    if metrics is not None and metrics.get("status") not in (None, "completed"):
        return "interrupted"
    if metrics is None:
        return "interrupted"
    for c in ckpts:
        try:
            state = torch.load(c, map_location="cpu", weights_only=False)
        except Exception:
            return "interrupted"
        if not state.get("finished", False):
            return "interrupted"
    return "complete"


def read_run(path: str | os.PathLike[str]) -> RunInfo:
    """What ``unpaired runs`` shows about one run directory."""
    run = Path(path)
    config_path = run / "config.yaml"
    if not config_path.is_file():
        raise DataError(f"{run}: not a run directory (no config.yaml)")
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as e:
        raise DataError(f"{config_path}: cannot read ({e})") from None
    metrics: dict[str, Any] | None = None
    if (run / "metrics.json").is_file():
        try:
            metrics = json.loads((run / "metrics.json").read_text())
        except ValueError as e:
            raise DataError(f"{run / 'metrics.json'}: cannot read ({e})") from None
    recipe = config.get("recipe") or ("align" if "distance" in config else "?")
    stamp = dt.datetime.fromtimestamp(config_path.stat().st_mtime, tz=dt.timezone.utc)
    headline = {}
    if metrics is not None:
        headline = _numbers(metrics.get("metrics")) or _numbers(metrics)
    return RunInfo(
        path=run,
        recipe=str(recipe),
        date=stamp.strftime("%Y-%m-%d %H:%M"),
        status=_status(run, metrics),
        models=list_models(run),
        metrics=headline,
    )


def find_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run directory under ``root`` (itself included), sorted by path; a demo's
    sub-runs are found too."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base}: no such folder")
    found = sorted(
        {p.parent for p in base.rglob("config.yaml")}
        | ({base} if (base / "config.yaml").is_file() else set())
    )
    return [read_run(p) for p in found]


def compare_runs(
    a: str | os.PathLike[str], b: str | os.PathLike[str]
) -> list[tuple[str, float | None, float | None]]:
    """Rows ``(metric, value in A, value in B)`` over the union of both runs' headline
    metrics (``None``: absent in that run), sorted by name."""
    ra, rb = read_run(a), read_run(b)
    keys = sorted(set(ra.metrics) | set(rb.metrics))
    return [(k, ra.metrics.get(k), rb.metrics.get(k)) for k in keys]
