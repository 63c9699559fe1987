"""Networks of PuppetGAN (Usman et al., ICCV 2019) and its Cycle-VAE baseline.

* :class:`SplitEncoder`: the domain-agnostic encoder, an image (B, C, S, S) -> an
  embedding split into an attribute part ``e_attr`` (B, attr_dim) and a rest part
  ``e_rest`` (B, rest_dim): ``E_attr`` and ``E_rest`` of the paper share every layer but
  the last (the paper's "embedding needs double-digit sizes even for rotation"; the
  re-implementation's Dense(128) bottleneck split 64 / 64).
* :class:`SplitDecoder`: ``G_K(e_attr, e_rest)`` -> image (B, C, S, S) in [-1, 1] (tanh).

Both are DCGAN-like: 4x4 stride-2 convolutions (or transposed convolutions) with
LeakyReLU(0.2), widths doubling from ``width``, a 4x4 map at the bottleneck; ``size``
(S) must be 8 times a power of two (16, 32, 64).

Example:
    >>> enc, dec = SplitEncoder(attr_dim=8, rest_dim=8, width=8), SplitDecoder(8, 8, width=8)
    >>> attr, rest = enc(torch.zeros(2, 1, 32, 32))
    >>> attr.shape, rest.shape, dec(attr, rest).shape
    (torch.Size([2, 8]), torch.Size([2, 8]), torch.Size([2, 1, 32, 32]))
"""

from __future__ import annotations

import math

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import recordable


def _stages(size: int) -> int:
    k = round(math.log2(size / 4)) if size >= 8 else 0
    if k < 1 or 4 * 2**k != size:
        raise ValueError(f"size must be 8 times a power of two (8, 16, 32, 64), got {size}")
    return k


@recordable
class SplitEncoder(nn.Module):
    """(B, C, S, S) -> (e_attr (B, attr_dim), e_rest (B, rest_dim)); see the module doc."""

    def __init__(
        self,
        channels: int = 1,
        *,
        size: int = 32,
        attr_dim: int = 64,
        rest_dim: int = 64,
        width: int = 32,
    ) -> None:
        super().__init__()
        if min(attr_dim, rest_dim, width, channels) < 1:
            raise ValueError("channels, attr_dim, rest_dim and width must be >= 1")
        k = _stages(size)
        self.channels, self.size, self.attr_dim, self.rest_dim = channels, size, attr_dim, rest_dim
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(k):
            c_out = width * 2**i
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
            c_in = c_out
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(c_in * 16, attr_dim + rest_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape("x", x, ("B", self.channels, self.size, self.size))
        e = self.head(self.features(x))
        return e[:, : self.attr_dim], e[:, self.attr_dim :]


@recordable
class SplitDecoder(nn.Module):
    """``G(e_attr (B, attr_dim), e_rest (B, rest_dim))`` -> (B, C, S, S) in [-1, 1]."""

    def __init__(
        self,
        attr_dim: int = 64,
        rest_dim: int = 64,
        *,
        channels: int = 1,
        size: int = 32,
        width: int = 32,
    ) -> None:
        super().__init__()
        k = _stages(size)
        self.attr_dim, self.rest_dim = attr_dim, rest_dim
        self.c0 = width * 2 ** (k - 1)
        self.head = nn.Sequential(nn.Linear(attr_dim + rest_dim, self.c0 * 16), nn.LeakyReLU(0.2))
        layers: list[nn.Module] = []
        c_in = self.c0
        for i in range(k - 1, 0, -1):
            c_out = width * 2 ** (i - 1)
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2)]
            c_in = c_out
        layers += [nn.ConvTranspose2d(c_in, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, attr: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
        check_shape("attr", attr, ("B", self.attr_dim))
        check_shape("rest", rest, (attr.shape[0], self.rest_dim))
        h = self.head(torch.cat([attr, rest], 1)).view(-1, self.c0, 4, 4)
        return self.net(h)
