"""Figures of two-player games: trajectories in the players' plane and the distance to the
equilibrium over steps (``distances.games``), and leak rate against a probability."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from unpaired.viz._figure import new_figure, save


def plot_trajectories(
    trajectories: Mapping[str, torch.Tensor],
    path: Path,
    *,
    axes_labels: tuple[str, str] = ("theta", "psi"),
    title: str = "",
) -> Path:
    """One panel per game: its trajectory (K, 2) in the plane (start: circle, end: cross,
    equilibrium at the origin: black dot), plus a last panel of ``||z_k||`` (log scale)."""
    n = len(trajectories) + 1
    ncol = min(4, n)
    nrow = math.ceil(n / ncol)
    fig = new_figure(3.0 * ncol, 2.8 * nrow)
    axes = list(fig.subplots(nrow, ncol, squeeze=False).flat)
    for ax, (name, z) in zip(axes, trajectories.items(), strict=False):
        z = z.detach().double()
        ax.plot(z[:, 0], z[:, 1], lw=0.8)
        ax.plot(z[0, 0], z[0, 1], "o", ms=4, color="tab:green")
        ax.plot(z[-1, 0], z[-1, 1], "x", ms=5, color="tab:red")
        ax.plot(0, 0, ".", color="k")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(axes_labels[0], fontsize=7)
        ax.set_ylabel(axes_labels[1], fontsize=7)
        ax.tick_params(labelsize=6)
    last = axes[len(trajectories)]
    for name, z in trajectories.items():
        last.semilogy(z.detach().double().norm(dim=1).clamp_min(1e-300), lw=0.8, label=name)
    last.set_title("distance to equilibrium", fontsize=8)
    last.set_xlabel("step", fontsize=7)
    last.tick_params(labelsize=6)
    last.legend(fontsize=5)
    for ax in axes[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)


def plot_leak(
    ps: Sequence[float],
    rates: Mapping[str, Sequence[float]],
    path: Path,
    *,
    threshold: float | None = None,
    ylabel: str = "leak rate",
    title: str = "",
) -> Path:
    """Leak rate against the augmentation probability ``p``, one line per series, with the
    predicted threshold as a dotted vertical line."""
    fig = new_figure(4.5, 3.2)
    ax = fig.subplots()
    for name, ys in rates.items():
        ax.plot(list(ps), list(ys), marker="o", label=name)
    if threshold is not None:
        ax.axvline(threshold, color="k", ls=":", lw=0.8, label=f"predicted threshold p={threshold}")
    ax.set_xlabel("augmentation probability p", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)
