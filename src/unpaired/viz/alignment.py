"""Plots of alignment runs: distance curves, point clouds over training, error curves,
gradient decay, image rows. Each function draws one figure and saves it as a PNG.

Matplotlib's object API (``Figure``), so nothing here needs or sets a backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

__all__ = ["plot_distance_curve"]


def plot_distance_curve(history: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    """``eval/distance`` of the logged ``history`` rows against the step."""
    pts = [(r["step"], r["eval/distance"]) for r in history if "eval/distance" in r]
    fig = Figure(figsize=(5, 3.2))
    ax = fig.add_subplot()
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel("d(T(A), B)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
