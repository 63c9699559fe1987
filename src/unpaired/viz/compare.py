"""Side-by-side comparisons: one metric over steps for every model, on one axes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from unpaired.viz._figure import new_figure, save

__all__ = ["plot_compare", "spans_decades"]


def _points(rows: Sequence[Mapping[str, Any]], key: str) -> list[tuple[float, float]]:
    return [
        (r["step"], float(r[key]))
        for r in rows
        if isinstance(r.get(key), (int, float))
        and not isinstance(r.get(key), bool)
        and math.isfinite(r[key])
    ]


def spans_decades(values: Sequence[float], decades: float = 2.0) -> bool:
    """Whether positive ``values`` span at least ``decades`` orders of magnitude (and none
    is <= 0), i.e. whether a log axis reads better.

    Example:
        >>> spans_decades([1.0, 0.5, 0.004]), spans_decades([1.0, 0.5]), spans_decades([0.0, 1e3])
        (True, False, False)
    """
    if not values or min(values) <= 0:
        return False
    return math.log10(max(values) / min(values)) >= decades


def plot_compare(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    key: str,
    path: Path,
    *,
    title: str = "",
    ylabel: str = "",
    log: bool | None = None,
) -> Path | None:
    """One PNG: ``key`` over steps for every model of ``histories`` (rows ``{"step": ...,
    key: value}``), one line each, on shared axes; a log y axis when ``log`` (default:
    when the values span two decades). Returns ``path``, or ``None`` (nothing written)
    when fewer than two models logged ``key``: there is nothing to compare."""
    curves = {m: pts for m, rows in histories.items() if (pts := _points(rows, key))}
    if len(curves) < 2:
        return None
    values = [y for pts in curves.values() for _, y in pts]
    fig = new_figure(7.0, 3.6)
    ax = fig.add_axes((0.1, 0.14, 0.6, 0.74))
    for model, pts in curves.items():
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, label=model, marker="." if len(pts) < 4 else None, lw=1.2)
    if log if log is not None else spans_decades(values):
        ax.set_yscale("log")
    ax.set_xlabel("step", fontsize=8)
    ax.set_ylabel(ylabel or key, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return save(fig, path, dpi=110)
