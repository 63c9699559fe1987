"""The grid figure of PuppetGAN (Usman et al., ICCV 2019, Fig. 4-5): real digits across
the top, synthetic references down the side, each cell the output for that pair, one
panel per model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from unpaired._checks import check_shape
from unpaired.viz._figure import new_figure, save


def mosaic(reals: torch.Tensor, refs: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """One (H', W') grey image: ``reals`` (C, 1, H, W) across the top, ``refs`` (R, 1, H,
    W) down the left, ``outputs`` (R, C, 1, H, W) in the cells, a 1-pixel grey gap after
    the first row and column; values in [0, 1] (clipped)."""
    check_shape("reals", reals, ("C", 1, "H", "W"))
    c, _, h, w = reals.shape
    check_shape("refs", refs, ("R", 1, h, w))
    check_shape("outputs", outputs, (refs.shape[0], c, 1, h, w))
    r = refs.shape[0]
    out = torch.full(((r + 1) * h + 1, (c + 1) * w + 1), 0.5)
    out[:h, :w] = 0.0
    for j in range(c):
        out[:h, w + 1 + j * w : w + 1 + (j + 1) * w] = reals[j, 0]
    for i in range(r):
        y = h + 1 + i * h
        out[y : y + h, :w] = refs[i, 0]
        for j in range(c):
            out[y : y + h, w + 1 + j * w : w + 1 + (j + 1) * w] = outputs[i, j, 0]
    return out.clamp(0, 1)


def manipulation_grids(
    path: str | Path,
    reals: torch.Tensor,
    refs: torch.Tensor,
    outputs: Mapping[str, torch.Tensor],
    *,
    title: str = "",
    dpi: int = 110,
) -> Path:
    """PNG with one :func:`mosaic` panel per model (``outputs``: name -> (R, C, 1, H, W)),
    images in [0, 1]."""
    if not outputs:
        raise ValueError("manipulation_grids needs at least one model")
    panels = {k: mosaic(reals, refs, v.detach().float().cpu()) for k, v in outputs.items()}
    n = len(panels)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig = new_figure(3.2 * cols, 3.4 * rows + 0.3)
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            name, img = list(panels.items())[i]
            ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=dpi)
