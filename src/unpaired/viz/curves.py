"""Training curves: one panel per logged key, one line per model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from unpaired.viz._figure import new_figure, save


def _points(rows: Sequence[Mapping[str, Any]], key: str) -> list[tuple[Any, Any]]:
    return [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]


def plot_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    path: Path,
    *,
    title: str = "",
    keys: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    hlines: Mapping[str, float] | None = None,
    xlabel: str = "step",
) -> Path | None:
    """One PNG: a panel per key (across models), each model ``histories[model]`` (rows
    ``{"step": ..., key: value}``) a line.

    ``keys``: the panels, in order (default: every key any model logged a number for);
    ``labels``: panel titles by key (default: the key); ``hlines``: a dotted reference
    line per key (e.g. 0 for a log ratio). Returns ``path``, or None when no panel has a
    point (nothing is written).
    """
    if keys is None:
        found: list[str] = []
        for rows in histories.values():
            for row in rows:
                found.extend(k for k in row if k != "step" and k not in found)
        keys = found
    keys = [k for k in keys if any(_points(rows, k) for rows in histories.values())]
    if not keys:
        return None
    ncol = min(3, len(keys))
    nrow = math.ceil(len(keys) / ncol)
    fig = new_figure(4.2 * ncol, 2.8 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        for model, rows in histories.items():
            pts = _points(rows, key)
            if pts:
                xs, ys = zip(*pts, strict=False)
                ax.plot(xs, ys, label=model, marker="." if len(pts) < 3 else None)
        if hlines and key in hlines:
            ax.axhline(hlines[key], color="k", lw=0.6, ls=":")
        ax.set_title((labels or {}).get(key, key), fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    if len(histories) > 1:
        axes.flat[0].legend(fontsize=7)
    # Fixed margins in inches instead of tight_layout, which measures every label and
    # cost seconds per figure; panels have a fixed size, so fixed spacing fits them.
    top = 0.65 if title else 0.35
    fig.subplots_adjust(
        left=0.55 / fig.get_figwidth(),
        right=1 - 0.15 / fig.get_figwidth(),
        bottom=0.45 / fig.get_figheight(),
        top=1 - top / fig.get_figheight(),
        wspace=0.28,
        hspace=0.65,
    )
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.12 / fig.get_figheight(), va="top")
    return save(fig, path, dpi=110)
