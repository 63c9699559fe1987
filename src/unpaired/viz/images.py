"""Image figures: labelled grids of image rows, and a parameter sweep of two metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from unpaired._checks import check_shape
from unpaired.viz._figure import new_figure, save


def image_grid(
    path: str | Path,
    rows: Sequence[tuple[str, torch.Tensor]],
    *,
    title: str = "",
    cell: float = 1.1,
    dpi: int = 100,
) -> Path:
    """PNG of labelled rows of images: ``rows = [(label, images (N, C, H, W)), ...]`` in
    [0, 1] (clipped), one row each, the label on the left; C is 1 (grey) or 3 (RGB). Rows
    may hold different numbers of images (the grid is as wide as the longest)."""
    if not rows:
        raise ValueError("image_grid needs at least one row")
    for label, images in rows:
        check_shape(f"rows[{label!r}]", images, ("N", "C", "H", "W"))
    n_cols = max(images.shape[0] for _, images in rows)
    fig = new_figure(cell * n_cols + 1.6, cell * len(rows) + 0.4)
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c < images.shape[0]:
                image = images[c].detach().float().clamp(0, 1).cpu()
                if image.shape[0] == 1:
                    ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
                else:
                    ax.imshow(image.permute(1, 2, 0).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=dpi)


def plot_sweep(
    path: str | Path,
    values: Sequence[float],
    left: Mapping[str, Sequence[float | None]],
    right: Mapping[str, Sequence[float | None]],
    *,
    labels: tuple[str, str],
    xlabel: str,
    chosen: float | None = None,
    floor: float | None = None,
    title: str = "",
) -> Path:
    """PNG of two metrics against a swept parameter ``values`` (symlog x axis), left and
    right panels; each maps a curve name (e.g. ``"val"``, ``"test"``) to one value per
    swept value. ``chosen`` marks the selected value (red), ``floor`` a threshold of the
    left metric (dotted)."""
    fig = new_figure(9, 3.4)
    ax_left, ax_right = fig.subplots(1, 2)
    styles = ("-o", "--s", ":^", "-.v")
    for ax, curves in ((ax_left, left), (ax_right, right)):
        for (name, ys), style in zip(curves.items(), styles, strict=False):
            ax.plot(values, [float("nan") if y is None else y for y in ys], style, label=name)
    if floor is not None:
        ax_left.axhline(floor, color="gray", lw=0.8, ls=":")
    positive = [v for v in values if v > 0]
    for ax, ylabel in zip((ax_left, ax_right), labels, strict=True):
        if chosen is not None:
            ax.axvline(chosen, color="red", lw=0.8, ls=":")
        ax.set_xscale("symlog", linthresh=min(positive, default=1e-3))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=110)
