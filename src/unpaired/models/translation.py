"""Image-to-image translation networks: the CycleGAN ResNet generator and PatchGAN critic.

The architectures of junyanz/pytorch-CycleGAN-and-pix2pix (``networks.py``:
``ResnetGenerator``, ``NLayerDiscriminator``, ``init_weights('normal', 0.02)``),
written anew. Images are (N, C, H, W) in [-1, 1]; generators end in ``tanh``; critics
output raw logits, one per patch.

* :class:`ResnetGenerator`: ``c7s1-w, d2w, d4w, R4w x n_blocks, u2w, uw, c7s1-C``
  (Johnson et al.'s notation): a 7x7 reflection-padded conv, ``n_down`` stride-2
  downsamplings, ``n_blocks`` residual blocks (reflection padding), as many transposed
  convs back up, a 7x7 conv and ``tanh``. CycleGAN uses 9 blocks at 256 px and 6 at
  128 px and below. H and W must be multiples of ``2**n_down``.
* :class:`PatchCritic`: ``n_layers`` stride-2 4x4 convs (widths doubling up to
  ``8 * width``), a stride-1 4x4 conv and a 4x4 conv to one channel (padding 1 each).
  Each output cell sees a ``receptive_field(n_layers)`` square of the input: 70 at 3
  layers (the "70x70 PatchGAN"), 34 at 2, 16 at 1.
* :func:`init_normal`: conv weights ~ N(0, std), biases 0; affine norm scales
  ~ N(1, std) (the reference code's ``init_type='normal', init_gain=0.02``).

Parameter counts (the tests check this table):

==========================================================  ==========
model                                                       parameters
==========================================================  ==========
``ResnetGenerator(3, 3)`` (width 64, 9 blocks)              11,378,179
``ResnetGenerator(3, 3, width=16, n_blocks=3)``                272,515
``PatchCritic(3)`` (width 64, 3 layers)                      2,764,737
``PatchCritic(3, width=16, n_layers=2)``                        42,865
==========================================================  ==========
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import recordable

Norm = Literal["instance", "batch", "none"]
NORMS: tuple[str, ...] = ("instance", "batch", "none")


def _norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "instance":  # the reference: affine=False, no running statistics
        return nn.InstanceNorm2d(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")


def _check_image(name: str, x: torch.Tensor, channels: int, multiple: int) -> None:
    check_shape(name, x, ("N", channels, "H", "W"))
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"{name}: height and width must be multiples of {multiple}, got {h}x{w}")


def _positive(**values: int) -> None:
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{k} must be an integer >= 1, got {v!r}")


class ResnetBlock(nn.Module):
    """``x + [pad, conv3, norm, ReLU, pad, conv3, norm](x)`` with reflection padding:
    (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, channels: int, *, norm: Norm = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            _norm(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            _norm(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@recordable
class ResnetGenerator(nn.Module):
    """CycleGAN's generator: (N, in_channels, H, W) -> (N, out_channels, H, W) in (-1, 1).

    ``width`` is the first layer's channel count (64 in the paper), doubled at each of
    the ``n_down`` downsamplings; ``n_blocks`` residual blocks at the lowest resolution.
    H and W must be multiples of ``2**n_down``.

    Example:
        >>> g = ResnetGenerator(3, 3, width=8, n_blocks=2)
        >>> g(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        *,
        width: int = 64,
        n_blocks: int = 9,
        n_down: int = 2,
        norm: Norm = "instance",
    ) -> None:
        super().__init__()
        _positive(in_channels=in_channels, out_channels=out_channels, width=width)
        if n_blocks < 0 or n_down < 0:
            raise ValueError(f"n_blocks and n_down must be >= 0, got {n_blocks}, {n_down}")
        _norm(norm, 1)  # validates the name
        self.in_channels, self.out_channels, self.n_down = in_channels, out_channels, n_down
        bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, width, 7, bias=bias),
            _norm(norm, width),
            nn.ReLU(True),
        ]
        c = width
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), _norm(norm, 2 * c), nn.ReLU(True)]
            c *= 2
        layers += [ResnetBlock(c, norm=norm) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                _norm(norm, c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H, W)."""
        _check_image("x", x, self.in_channels, 2**self.n_down)
        return self.net(x)


def receptive_field(n_layers: int) -> int:
    """Side of the input square one output cell of ``PatchCritic(n_layers=...)`` sees."""
    _positive(n_layers=n_layers)
    rf = 1
    for _ in range(2):  # the two stride-1 4x4 convs at the end
        rf += 3
    for _ in range(n_layers):  # each stride-2 4x4 conv: rf -> 2 rf + 2
        rf = 2 * rf + 2
    return rf


@recordable
class PatchCritic(nn.Module):
    """PatchGAN critic: (N, channels, H, W) -> (N, 1, H', W') logits, one per patch.

    ``n_layers`` stride-2 convs; each output cell judges a
    :func:`receptive_field` (``n_layers``) square (70 px at 3 layers). The first conv
    has no normalization (as in the reference). H and W must be multiples of
    ``2**n_layers`` and at least ``3 * 2**n_layers`` (one output cell).

    Example:
        >>> d = PatchCritic(3, width=8, n_layers=3)
        >>> d(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 1, 6, 6])
    """

    def __init__(
        self, channels: int = 3, *, width: int = 64, n_layers: int = 3, norm: Norm = "instance"
    ) -> None:
        super().__init__()
        _positive(channels=channels, width=width, n_layers=n_layers)
        _norm(norm, 1)
        self.channels, self.n_layers = channels, n_layers
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for i in range(1, n_layers + 1):
            c_out = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [
                nn.Conv2d(c, c_out, 4, stride, 1, bias=bias),
                _norm(norm, c_out),
                nn.LeakyReLU(0.2, True),
            ]
            c = c_out
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, channels, H, W) -> (N, 1, H / 2**n_layers - 2, W / 2**n_layers - 2) logits."""
        _check_image("x", x, self.channels, 2**self.n_layers)
        if min(x.shape[-2:]) < 3 * 2**self.n_layers:
            raise ValueError(
                f"x: {x.shape[-2]}x{x.shape[-1]} is too small for a {self.n_layers}-layer "
                f"PatchCritic (need >= {3 * 2**self.n_layers} px)"
            )
        return self.net(x)


def init_normal(net: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place (and return it): conv / linear weights ~ N(0, std),
    biases 0, affine norm weights ~ N(1, std) and biases 0. Draws from torch's global
    RNG (build under a seeded context for reproducible weights)."""
    if not std > 0:
        raise ValueError(f"std must be > 0, got {std}")
    for m in net.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net
