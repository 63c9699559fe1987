"""Figures of alignment: distance and error curves, 2-D clouds moved by T over training,
steps-to-converge bars, and the decay of a distance's gradient with a shift.

Each function draws one figure with matplotlib's object API and saves it atomically.
Points are (N, 2) tensors; curves are lists of numbers or (R, K) tensors (R seeds, K
evaluations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import torch

from unpaired.viz._figure import new_figure, save

__all__ = [
    "plot_clouds",
    "plot_distance_curve",
    "plot_error_curves",
    "plot_gradient_decay",
    "plot_shared_densities",
    "plot_steps_and_oscillation",
    "plot_trajectories",
]


def plot_distance_curve(history: Sequence[Mapping[str, Any]], path: Path, title: str) -> Path:
    """``eval/distance`` of the logged ``history`` rows against the step."""
    pts = [(r["step"], r["eval/distance"]) for r in history if "eval/distance" in r]
    fig = new_figure(5, 3.2)
    ax = fig.add_subplot()
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel("d(T(A), B)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def _grid(n: int, ncol: int, size: float) -> tuple[Any, list[Any]]:
    """A figure of ``n`` square panels, ``ncol`` per row; the unused axes switched off."""
    ncol = min(ncol, n)
    nrow = math.ceil(n / ncol)
    fig = new_figure(size * ncol, size * nrow)
    axes = list(fig.subplots(nrow, ncol, squeeze=False).flat)
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes[:n]


def plot_trajectories(
    path: Path,
    panels: Sequence[tuple[str, torch.Tensor, Sequence[torch.Tensor], torch.Tensor]],
    *,
    title: str,
) -> Path:
    """One panel per ``(label, b, snapshots, centers)``: the target points ``b`` (N, 2) in
    grey, ``T(A)`` (M, 2) at each snapshot (light to dark) and the path of its mean
    ``centers`` (K, 2) in red."""
    fig, axes = _grid(len(panels), 4, 3.6)
    cmap = matplotlib.colormaps["viridis"]
    for ax, (label, b, snapshots, centers) in zip(axes, panels, strict=True):
        ax.scatter(*b.T, s=2, c="0.75", label="B")
        for j, moved in enumerate(snapshots):
            color = cmap(j / max(1, len(snapshots) - 1))
            ax.scatter(*moved.T, s=1.5, color=color, alpha=0.5)
        ax.plot(*centers.T, color="crimson", lw=0.8, label="mean of T(A)")
        ax.set_title(label, fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def plot_error_curves(
    path: Path,
    panels: Sequence[tuple[str, Mapping[str, tuple[Sequence[int], torch.Tensor]]]],
    *,
    threshold: float,
) -> Path:
    """One panel per ``(title, {method: (steps (K,), errors (R, K))})``: the median error
    over the R seeds (band: min to max) on a log axis, the ``threshold`` dotted."""
    fig = new_figure(5.5 * len(panels), 4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, curves) in zip(axes, panels, strict=True):
        ax.set_prop_cycle(color=matplotlib.colormaps["tab20"].colors)
        for method, (steps, errors) in curves.items():
            (line,) = ax.plot(steps, errors.median(0).values, label=method, lw=1)
            if errors.shape[0] > 1:
                lo, hi = errors.min(0).values, errors.max(0).values
                ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.15)
        ax.axhline(threshold, color="k", ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("error (median over seeds; band: min to max)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    t = torch.tensor(list(values), dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def plot_steps_and_oscillation(
    path: Path,
    names: Sequence[str],
    reach: Sequence[Sequence[int | None]],
    oscillation: Sequence[Sequence[float]],
    *,
    threshold: float,
) -> Path:
    """Two bar charts over ``names``: mean ± std over seeds of the steps to reach the error
    ``threshold`` (per method, a list over seeds, None: never, counted in red) and of the
    oscillation (std of the error at the end of training, log axis)."""
    fig = new_figure(12, 4)
    left, right = fig.subplots(1, 2)
    x = list(range(len(names)))
    got = [_mean_std([r for r in rs if r is not None]) for rs in reach]
    left.bar(x, [m for m, _ in got], yerr=[s for _, s in got], color="tab:blue")
    for xi, rs in zip(x, reach, strict=True):
        missed = sum(r is None for r in rs)
        if missed:
            label = f"{missed}/{len(rs)}\nnever"
            left.text(xi, 0, label, ha="center", va="bottom", fontsize=6, color="crimson")
    left.set_ylabel(f"steps to reach error <= {threshold}")
    osc = [_mean_std(list(o)) for o in oscillation]
    right.bar(x, [m for m, _ in osc], yerr=[s for _, s in osc], color="tab:orange")
    right.set_yscale("log")
    right.set_ylabel("oscillation: std of error, last 20% of steps")
    for ax in (left, right):
        ax.set_xticks(x, list(names), rotation=60, ha="right", fontsize=7)
    fig.suptitle(f"mean ± std over {max(len(r) for r in reach)} seed(s)", fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def plot_clouds(
    path: Path, panels: Sequence[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]]
) -> Path:
    """One panel per ``(title, a, b, moved)``: A, B and T(A), each (N, 2)."""
    fig, axes = _grid(len(panels), 5, 3.2)
    for ax, (title, a, b, moved) in zip(axes, panels, strict=True):
        for points, label in ((a, "A"), (b, "B"), (moved, "T(A)")):
            ax.scatter(*points.T, s=2, alpha=0.4, label=label)
        ax.set_title(title, fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    axes[0].legend(markerscale=4, fontsize=7)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def plot_gradient_decay(
    path: Path,
    mus: Sequence[float],
    gradients: Mapping[str, Sequence[float]],
    values: Mapping[str, Sequence[float]],
    *,
    highlight: str,
    band: torch.Tensor | None = None,
    reference: str | None = None,
) -> Path:
    """Left: ``||dL/dphi||`` against the separation ``mu`` (log axis, ``mu > 0`` only) per
    distance; right: the distances' values (dotted: 2 log 2, LRMF's value at infinite
    separation). ``highlight`` is drawn bold, with ``band`` (R, len(mus)) its min-to-max
    over seeds; ``reference``: a curve scaled onto ``exp(-mu^2)`` at its peak (dotted)."""
    fig = new_figure(11, 4)
    left, right = fig.subplots(1, 2)
    pos = [i for i, m in enumerate(mus) if m > 0]  # the gradient is 0 at mu = 0: off a log axis
    xs = [mus[i] for i in pos]
    for k, grad in gradients.items():
        style = {"lw": 2} if k == highlight else {"lw": 1, "ls": "--" if "lrmf" in k else "-"}
        (line,) = left.plot(xs, [grad[i] for i in pos], marker=".", label=k, **style)
        if k == highlight and band is not None and band.shape[0] > 1:
            lo, hi = band[:, pos].min(0).values, band[:, pos].max(0).values
            left.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
        right.plot(mus, values[k], marker=".", label=k, **style)
    if xs and reference is not None:
        ideal = [gradients[reference][i] for i in pos]
        j = max(range(len(xs)), key=lambda t: ideal[t])
        scale = ideal[j] / math.exp(-(xs[j] ** 2))
        curve = [scale * math.exp(-x * x) for x in xs]
        left.plot(xs, curve, color="k", ls=":", lw=1, label="exp(-mu^2) (scaled)")
    left.set_yscale("log")
    left.set_ylabel("||dL/dphi|| at phi = 0")
    right.axhline(2 * math.log(2), color="k", ls=":", lw=1)
    right.set_ylabel("distance value (LRMF: nats; dotted: 2 log 2)")
    for ax in (left, right):
        ax.set_xlabel("separation mu (A at -mu/2, B at +mu/2)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def plot_shared_densities(
    path: Path,
    panels: Sequence[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]],
) -> Path:
    """One panel per ``(title, a, b, x, density)``: histograms of the 1-D sets ``a`` (N,)
    and ``b`` (M,), and ``2 * density`` (K,) at the points ``x`` (K,) (a shared density of
    the union integrates to 1 over both)."""
    fig = new_figure(3.6 * len(panels), 3)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, a, b, x, density) in zip(axes, panels, strict=True):
        ax.hist(a.tolist(), bins=40, density=True, alpha=0.4, label="T(A)")
        ax.hist(b.tolist(), bins=40, density=True, alpha=0.4, label="B")
        ax.plot(x, 2 * density, color="k", lw=1, label="2 x shared S")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path, dpi=110)
