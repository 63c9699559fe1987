"""Networks of style-guided translators: a per-domain style encoder and an AdaIN generator
(StarGAN v2, Choi et al., CVPR 2020, small; used by :mod:`unpaired.translation.stargan`).

* :class:`StyleEncoder`: (N, C, H, W) -> (N, style_dim) for one of ``domains`` heads:
  ``n_down`` stride-2 convs (LeakyReLU), global average pooling, a linear head per domain.
* :class:`AdaINGenerator`: (N, C, H, W), style (N, style_dim) -> (N, C, H, W) in (-1, 1):
  a 7x7 conv, ``n_down`` downsamplings and ``n_blocks`` residual blocks with instance norm
  (the content path), then ``n_blocks`` residual blocks whose norms are AdaIN
  ``gamma(s) * IN(x) + beta(s)`` (``gamma``, ``beta`` linear in the style), upsampling
  and a 7x7 conv with ``tanh``.

Example:
    >>> e, g = StyleEncoder(3, 8, width=8), AdaINGenerator(3, 8, width=8)
    >>> x = torch.zeros(2, 3, 16, 16)
    >>> g(x, e(x, 1)).shape
    torch.Size([2, 3, 16, 16])
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired.models.record import recordable


@recordable
class StyleEncoder(nn.Module):
    """Images (N, channels, H, W) -> style codes (N, style_dim) of domain ``d`` (an int)."""

    def __init__(
        self,
        channels: int = 3,
        style_dim: int = 8,
        *,
        domains: int = 2,
        width: int = 16,
        n_down: int = 3,
    ) -> None:
        super().__init__()
        self.channels = channels
        layers: list[nn.Module] = []
        c = channels
        for i in range(n_down):
            c_out = width * 2**i
            layers += [nn.Conv2d(c, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = c_out
        self.net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleList(nn.Linear(c, style_dim) for _ in range(domains))

    def forward(self, x: torch.Tensor, domain: int) -> torch.Tensor:
        return self.heads[domain](self.net(x))


class _AdaINBlock(nn.Module):
    def __init__(self, c: int, style_dim: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, 1, 1), nn.Conv2d(c, c, 3, 1, 1)
        self.norm = nn.InstanceNorm2d(c, affine=False)
        self.style = nn.Linear(style_dim, 4 * c)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        g1, b1, g2, b2 = self.style(s)[..., None, None].chunk(4, 1)
        h = torch.relu((1 + g1) * self.norm(self.conv1(x)) + b1)
        return x + (1 + g2) * self.norm(self.conv2(h)) + b2


@recordable
class AdaINGenerator(nn.Module):
    """(N, channels, H, W) content images and (N, style_dim) styles -> (N, channels, H, W)."""

    def __init__(
        self,
        channels: int = 3,
        style_dim: int = 8,
        *,
        width: int = 16,
        n_down: int = 2,
        n_blocks: int = 2,
    ) -> None:
        super().__init__()
        self.channels = channels
        enc: list[nn.Module] = [
            nn.Conv2d(channels, width, 7, 1, 3),
            nn.InstanceNorm2d(width),
            nn.ReLU(),
        ]
        c = width
        for _ in range(n_down):
            enc += [nn.Conv2d(c, 2 * c, 4, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU()]
            c *= 2
        for _ in range(n_blocks):
            enc.append(_Residual(c))
        self.encode = nn.Sequential(*enc)
        self.blocks = nn.ModuleList(_AdaINBlock(c, style_dim) for _ in range(n_blocks))
        dec: list[nn.Module] = []
        for _ in range(n_down):
            dec += [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(c, c // 2, 5, 1, 2),
                nn.InstanceNorm2d(c // 2),
                nn.ReLU(),
            ]
            c //= 2
        self.decode = nn.Sequential(*dec, nn.Conv2d(c, channels, 7, 1, 3), nn.Tanh())

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = self.encode(x)
        for block in self.blocks:
            h = block(h, s)
        return self.decode(h)


class _Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1),
            nn.InstanceNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, 1, 1),
            nn.InstanceNorm2d(c),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)
