"""Downsampling renderer for super-resolution (Sec. 2.3 of the AIGN paper).

The generator maps a low-resolution image (B, C, h, w) to a high-resolution one
(B, C, f*h, f*w); the renderer ``P`` maps it back by average pooling with window and
stride ``f`` ("We implement it using average pooling with the appropriate stride"),
so the reconstruction loss ``||P(G(x)) - x||`` of Eq. 1 compares like with like.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape


def _check_factor(factor: int) -> None:
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor!r}")


def downsample(x: torch.Tensor, *, factor: int = 4) -> torch.Tensor:
    """Average-pool ``x`` (B, C, H, W) by ``factor`` -> (B, C, H / factor, W / factor).

    Each output pixel is the mean of a non-overlapping ``factor`` x ``factor`` block.
    ``H`` and ``W`` must be multiples of ``factor``. Linear and parameter-free.

    >>> downsample(torch.ones(2, 3, 8, 12), factor=4).shape
    torch.Size([2, 3, 2, 3])
    """
    _check_factor(factor)
    check_shape("x", x, ("B", "C", "H", "W"))
    h, w = x.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"x: height and width must be multiples of factor={factor}, got {h}x{w}")
    if factor == 1:
        return x
    return F.avg_pool2d(x, kernel_size=factor, stride=factor)


class Downsample(nn.Module):
    """Renderer module around :func:`downsample`; stores only ``factor``, no parameters."""

    def __init__(self, *, factor: int = 4) -> None:
        super().__init__()
        _check_factor(factor)
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H / factor, W / factor)."""
        return downsample(x, factor=self.factor)

    def extra_repr(self) -> str:
        return f"factor={self.factor}"
