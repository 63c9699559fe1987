"""The U-Net generator of pix2pix (Isola, Zhu, Zhou, Efros, CVPR 2017).

An encoder of ``downs`` stride-2 4x4 convs (LeakyReLU 0.2 before each, except the
first; normalization after each, except the first and the innermost), a mirrored
decoder of stride-2 4x4 transposed convs (ReLU before each; normalization after each
but the last; dropout 0.5 after the ``downs - 5`` innermost-but-one up-convs when
``dropout``), skip connections concatenating every encoder level to its decoder level,
and tanh. Widths ``width, 2 width, 4 width, 8 width, 8 width, ...`` as in
junyanz/pytorch-CycleGAN-and-pix2pix (``unet_256`` is ``downs=8``, ``unet_128``
``downs=7``; the innermost feature map is 1x1 when ``H = 2**downs``). Used by
:mod:`unpaired.translation.pix2pix`: the supervised upper bound of the translation
tables and the frozen photo -> map network of the IoU-p2p metric.

Parameter counts (``UNetGenerator(3, 3, downs=...)``, width 64; the tests check them):

========  ==========
downs     parameters
========  ==========
6 (64)    29,244,035
7 (128)   41,828,995
8 (256)   54,413,955
========  ==========

Example:
    >>> import torch
    >>> net = UNetGenerator(3, 3, downs=5, width=8)
    >>> tuple(net(torch.zeros(2, 3, 32, 32)).shape)
    (2, 3, 32, 32)
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import recordable

__all__ = ["UNetGenerator"]

UNetNorm = Literal["batch", "instance", "none"]


def _norm(kind: str, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "instance":
        return [nn.InstanceNorm2d(channels)]
    return []


class _Level(nn.Module):
    """One U-Net level: ``x -> cat(x, up(inner(down(x))))`` (the outermost drops the cat)."""

    def __init__(
        self,
        outer: int,
        inner: int,
        sub: nn.Module | None,
        *,
        c_in: int | None = None,
        c_out: int | None = None,
        norm: str,
        dropout: bool = False,
    ) -> None:
        super().__init__()
        outermost, innermost = c_out is not None, sub is None
        bias = norm != "batch"  # batch norm has its own shift
        down: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2, True)]
        down.append(nn.Conv2d(c_in or outer, inner, 4, stride=2, padding=1, bias=bias))
        if not outermost and not innermost:
            down += _norm(norm, inner)
        up_in = inner if innermost else 2 * inner
        up: list[nn.Module] = [nn.ReLU(True)]
        if outermost:
            up += [nn.ConvTranspose2d(up_in, c_out, 4, stride=2, padding=1), nn.Tanh()]
        else:
            up += [nn.ConvTranspose2d(up_in, outer, 4, stride=2, padding=1, bias=bias)]
            up += _norm(norm, outer)
            if dropout:
                up.append(nn.Dropout(0.5))
        self.outermost = outermost
        self.net = nn.Sequential(*down, *([sub] if sub is not None else []), *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x)
        return y if self.outermost else torch.cat([x, y], 1)


@recordable
class UNetGenerator(nn.Module):
    """pix2pix's U-Net: (B, ``in_channels``, H, W) -> (B, ``out_channels``, H, W) in (-1, 1).

    H and W must be multiples of ``2**downs`` (``downs`` >= 2; the outer levels widen
    ``width -> 8 width``, deeper ones stay at ``8 width``). ``norm``: ``"batch"`` (the
    paper's), ``"instance"`` or ``"none"``; ``dropout`` (the paper's noise source) after
    the ``downs - 5`` deep up-convs.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        *,
        downs: int = 8,
        width: int = 64,
        norm: UNetNorm = "batch",
        dropout: bool = True,
    ) -> None:
        super().__init__()
        if downs < 2:
            raise ValueError(f"downs must be >= 2, got {downs}")
        if norm not in ("batch", "instance", "none"):
            raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {norm!r}")
        self.in_channels, self.downs = in_channels, downs
        w = [width * min(2**i, 8) for i in range(downs)]  # inner width of level i
        level: nn.Module = _Level(w[-2], w[-1], None, norm=norm)
        for i in range(downs - 2, 0, -1):
            level = _Level(w[i - 1], w[i], level, norm=norm, dropout=dropout and i >= 4)
        self.net = _Level(
            out_channels, width, level, c_in=in_channels, c_out=out_channels, norm=norm
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape("x", x, ("B", self.in_channels, "H", "W"))
        h, w = x.shape[-2:]
        if h % 2**self.downs or w % 2**self.downs:
            raise ValueError(
                f"x: height and width must be multiples of {2**self.downs} (downs={self.downs}), "
                f"got {h}x{w}"
            )
        return self.net(x)
