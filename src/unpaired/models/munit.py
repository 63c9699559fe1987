"""MUNIT's networks: content and style encoders, the AdaIN decoder and its MLP.

Huang, Liu, Belongie, Kautz, *Multimodal Unsupervised Image-to-Image Translation*
(ECCV 2018), the translation baseline of the self-defense paper's "MUNIT + cycle" row
(thesis talk, "Improving Semantic Consistency with Translation Honesty") and of
PuppetGAN's Table 2. An image ``x`` (B, C, H, W) in [-1, 1] is split into

* a **content** code ``c = E^c(x)`` (B, width * 2^down, H / 2^down, W / 2^down): a 7x7
  conv, ``down`` stride-2 4x4 convs and ``blocks`` residual blocks, all with instance
  norm (shared structure across domains, domain-specific weights);
* a **style** code ``s = E^s(x)`` (B, style_dim): convs without normalization (which
  would remove the style), global average pooling and a 1x1 conv;

and rebuilt by the **decoder** ``G(c, s)``: ``blocks`` residual blocks whose instance
norms take their affine parameters from ``MLP(s)`` (adaptive instance normalization,
AdaIN: ``gamma(s) * (c - mu(c)) / sigma(c) + beta(s)``), then ``down`` x2 nearest
upsamplings each with a 5x5 conv and layer norm, and a 7x7 conv with tanh. Reflection
padding everywhere, as in the official code (NVlabs/MUNIT, ``networks.py``).

:class:`MUNITAutoencoder` holds one domain's three networks. Parameter counts
(``channels=3``, defaults; the tests check them):

=======================================================  ==========
model                                                    parameters
=======================================================  ==========
``MUNITAutoencoder(3)`` (width 64, style 8, 2 down)       15,026,187
``MUNITAutoencoder(1, width=16, blocks=2, mlp_dim=64)``      613,801
=======================================================  ==========

Example:
    >>> import torch
    >>> net = MUNITAutoencoder(1, width=8, blocks=1, mlp_dim=16)
    >>> c, s = net.encode(torch.zeros(2, 1, 32, 32))
    >>> tuple(c.shape), tuple(s.shape), tuple(net.decode(c, s).shape)
    ((2, 32, 8, 8), (2, 8), (2, 1, 32, 32))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import recordable

__all__ = [
    "AdaINDecoder",
    "AdaptiveInstanceNorm",
    "ContentEncoder",
    "MUNITAutoencoder",
    "StyleEncoder",
    "StyleMLP",
]


def _check_image(name: str, x: torch.Tensor, channels: int, multiple: int) -> None:
    check_shape(name, x, ("B", channels, "H", "W"))
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"{name}: height and width must be multiples of {multiple}, got {h}x{w}")


class _LayerNorm(nn.Module):
    """MUNIT's layer norm: per sample over (C, H, W), then a per-channel affine."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        mean = flat.mean(1).reshape(-1, 1, 1, 1)
        std = flat.std(1).reshape(-1, 1, 1, 1)
        y = (x - mean) / (std + 1e-5)
        return y * self.gamma.reshape(1, -1, 1, 1) + self.beta.reshape(1, -1, 1, 1)


class AdaptiveInstanceNorm(nn.Module):
    """Instance norm whose affine parameters are given per sample:
    ``forward(x (B, C, H, W), gamma (B, C), beta (B, C))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        check_shape("gamma", gamma, (x.shape[0], self.channels))
        check_shape("beta", beta, (x.shape[0], self.channels))
        y = F.instance_norm(x, eps=1e-5)
        return y * gamma[:, :, None, None] + beta[:, :, None, None]


def _block(c_in: int, c_out: int, k: int, stride: int, norm: str) -> nn.Sequential:
    """Reflection pad, conv ``k`` x ``k``, norm (``"instance"``, ``"layer"``, ``"none"``), ReLU."""
    layers: list[nn.Module] = [
        nn.ReflectionPad2d((k - 1) // 2 if stride == 1 else 1),
        nn.Conv2d(c_in, c_out, k, stride=stride),
    ]
    if norm == "instance":
        layers.append(nn.InstanceNorm2d(c_out))
    elif norm == "layer":
        layers.append(_LayerNorm(c_out))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    """conv-IN-ReLU-conv-IN plus identity (3x3, reflection padding)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _block(width, width, 3, 1, "instance"),
            nn.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3),
            nn.InstanceNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ContentEncoder(nn.Module):
    """``E^c``: (B, C, H, W) -> (B, width * 2^down, H / 2^down, W / 2^down)."""

    def __init__(self, channels: int, *, width: int = 64, down: int = 2, blocks: int = 4) -> None:
        super().__init__()
        if down < 0 or blocks < 0 or width < 1:
            raise ValueError(
                f"need width >= 1, down >= 0, blocks >= 0; got {width}, {down}, {blocks}"
            )
        self.channels, self.down = channels, down
        layers: list[nn.Module] = [_block(channels, width, 7, 1, "instance")]
        for _ in range(down):
            layers.append(_block(width, 2 * width, 4, 2, "instance"))
            width *= 2
        layers += [_Residual(width) for _ in range(blocks)]
        self.net = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image("x", x, self.channels, 2**self.down)
        return self.net(x)


class StyleEncoder(nn.Module):
    """``E^s``: (B, C, H, W) -> (B, style_dim); no normalization (it would erase style).

    A 7x7 conv, two stride-2 convs doubling the width, ``down - 2`` more at constant
    width (MUNIT's ``n_downsample`` 4 for the style), global average pooling, 1x1 conv.
    """

    def __init__(
        self, channels: int, *, width: int = 64, down: int = 4, style_dim: int = 8
    ) -> None:
        super().__init__()
        if down < 0 or style_dim < 1:
            raise ValueError(f"need down >= 0 and style_dim >= 1, got {down}, {style_dim}")
        self.channels, self.down, self.style_dim = channels, down, style_dim
        layers: list[nn.Module] = [_block(channels, width, 7, 1, "none")]
        for i in range(down):
            out = 2 * width if i < 2 else width
            layers.append(_block(width, out, 4, 2, "none"))
            width = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(width, style_dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_image("x", x, self.channels, 2**self.down)
        return self.net(x).flatten(1)


class StyleMLP(nn.Module):
    """(B, style_dim) -> (B, out): ``layers`` linear layers, ReLU between them."""

    def __init__(self, style_dim: int, out: int, *, hidden: int = 256, layers: int = 3) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"layers must be >= 1, got {layers}")
        mods: list[nn.Module] = []
        width = style_dim
        for _ in range(layers - 1):
            mods += [nn.Linear(width, hidden), nn.ReLU(inplace=True)]
            width = hidden
        mods.append(nn.Linear(width, out))
        self.net = nn.Sequential(*mods)
        self.style_dim = style_dim

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        check_shape("s", s, ("B", self.style_dim))
        return self.net(s)


class _AdaINResidual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3))
        self.conv2 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3))
        self.norm1, self.norm2 = AdaptiveInstanceNorm(width), AdaptiveInstanceNorm(width)

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        g1, b1, g2, b2 = params.chunk(4, dim=1)
        y = F.relu(self.norm1(self.conv1(x), 1 + g1, b1))
        return x + self.norm2(self.conv2(y), 1 + g2, b2)


class AdaINDecoder(nn.Module):
    """``G``: content (B, width, h, w) and style (B, style_dim) -> (B, C, h 2^up, w 2^up) in
    (-1, 1). The MLP gives each AdaIN layer its ``(gamma, beta)``; gamma is ``1 + MLP(s)``
    so that a zero MLP output is the plain instance norm."""

    def __init__(
        self,
        channels: int,
        *,
        width: int = 256,
        up: int = 2,
        blocks: int = 4,
        style_dim: int = 8,
        mlp_dim: int = 256,
    ) -> None:
        super().__init__()
        self.width = width
        self.blocks = nn.ModuleList(_AdaINResidual(width) for _ in range(blocks))
        self.mlp = StyleMLP(style_dim, 4 * width * blocks, hidden=mlp_dim)
        layers: list[nn.Module] = []
        for _ in range(up):
            layers += [nn.Upsample(scale_factor=2), _block(width, width // 2, 5, 1, "layer")]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
        self.head = nn.Sequential(*layers)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        check_shape("content", content, ("B", self.width, "H", "W"))
        check_shape("style", style, (content.shape[0], self.mlp.style_dim))
        params = self.mlp(style).chunk(max(len(self.blocks), 1), dim=1)
        x = content
        for block, p in zip(self.blocks, params, strict=False):
            x = block(x, p)
        return self.head(x)


@recordable
class MUNITAutoencoder(nn.Module):
    """One domain of MUNIT: ``encode(x) -> (content, style)``, ``decode(content, style)``.

    ``x`` (B, ``channels``, H, W) in [-1, 1], H and W multiples of ``2**style_down``
    (16 by default). The content code is (B, width * 2^down, H / 2^down, W / 2^down), the
    style code (B, style_dim).
    """

    def __init__(
        self,
        channels: int = 3,
        *,
        width: int = 64,
        down: int = 2,
        style_down: int = 4,
        blocks: int = 4,
        style_dim: int = 8,
        mlp_dim: int = 256,
    ) -> None:
        super().__init__()
        self.channels, self.style_dim = channels, style_dim
        self.content = ContentEncoder(channels, width=width, down=down, blocks=blocks)
        self.style = StyleEncoder(channels, width=width, down=style_down, style_dim=style_dim)
        self.decoder = AdaINDecoder(
            channels,
            width=self.content.out_channels,
            up=down,
            blocks=blocks,
            style_dim=style_dim,
            mlp_dim=mlp_dim,
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) -> content (B, C', H', W'), style (B, style_dim)."""
        return self.content(x), self.style(x)

    def decode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """content (B, C', H', W'), style (B, style_dim) -> image (B, C, H, W) in (-1, 1)."""
        return self.decoder(content, style)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Within-domain reconstruction ``G(E^c(x), E^s(x))``."""
        return self.decode(*self.encode(x))
