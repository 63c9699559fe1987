"""Networks of the structure-from-motion AIGN (AIGN paper, Sec. 2.2, Fig. 2b).

* :class:`DepthNet` (generator): frame I1 (B, 3, H, W) -> log depth (B, 1, H, W), an
  encoder-decoder with skip connections ("the same as the egomotion network, except
  deconvolution layers with skip connections replace the fully-connected layer").
* :class:`EgomotionNet` (generator): the 10-channel input of
  :func:`unpaired.data.flow.egomotion_inputs` (I1, I2, flow, flow angles, static angle
  field) -> 6D motion (Euler angles alpha, beta, gamma; translation), a VGG-like conv
  encoder followed by a single fully-connected layer. :func:`motion_from_vector` turns
  it into ``(R, T)`` with ``R = Rx(alpha) Ry(beta) Rz(gamma)`` and ``X2 = R X1 + T``.
* :class:`MotionCritic` (D1): MLP with hidden layers 128, 128, 64 on the 12 numbers of
  the relative transform ``[R | T]`` (row-major, :func:`motion_features`) -> one logit.
* :class:`DepthCritic` (D2): fully convolutional on log depth, one logit per image patch
  (receptive field 38 x 38 pixels; output stride 8).
* :func:`depth_smoothness`: the smooth-IGN baseline's prior (first-order, optionally
  edge-aware).

Parameter counts with the defaults (independent of the resolution): DepthNet 490,617;
EgomotionNet 1,192,070; MotionCritic 26,497; DepthCritic 165,729. The generators are much
narrower than the paper's VGG16 so that they train on a CPU at 64x192 (pass ``channels``
for wider ones). Activations are ELU in
the generators and LeakyReLU(0.2) in the critics; there is no normalization layer, so
outputs do not depend on the batch and gradient-penalty critics are well defined. Models
only compute; the engine owns optimizers.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.data.flow import EGOMOTION_CHANNELS
from unpaired.geometry import euler_to_matrix
from unpaired.models.record import recordable


def _conv(cin: int, cout: int, *, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.ELU())


def _down(cin: int, cout: int) -> nn.Sequential:
    """VGG-like block: a strided 3x3 conv then a 3x3 conv (halves H and W)."""
    return nn.Sequential(_conv(cin, cout, stride=2), _conv(cout, cout))


@recordable
class DepthNet(nn.Module):
    """Frame (B, 3, H, W) in [0, 1] -> log depth (B, 1, H, W), log metres.

    Encoder: a 3x3 stem and one strided block per further entry of ``channels``; decoder:
    3x3 conv (at the coarser scale, four times cheaper than after upsampling), upsample
    (nearest, to the skip's size, so any H, W works), concatenate the skip, 3x3 conv. The
    output bias starts at ``log(init_depth)``.
    """

    def __init__(
        self, *, channels: tuple[int, ...] = (8, 16, 32, 64, 128), init_depth: float = 10.0
    ) -> None:
        super().__init__()
        if len(channels) < 2:
            raise ValueError(f"channels needs at least two entries, got {channels}")
        self.stem = _conv(3, channels[0])
        self.down = nn.ModuleList(_down(a, b) for a, b in pairwise(channels))
        rev = channels[::-1]
        self.up = nn.ModuleList(_conv(a, b) for a, b in pairwise(rev))
        self.fuse = nn.ModuleList(_conv(2 * b, b) for b in rev[1:])
        self.head = nn.Conv2d(channels[0], 1, 3, padding=1)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.constant_(self.head.bias, math.log(init_depth))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        check_shape("image", image, ("B", 3, "H", "W"))
        x = self.stem(image - 0.5)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        for up, fuse, skip in zip(self.up, self.fuse, reversed(skips[:-1]), strict=True):
            x = F.interpolate(up(x), size=skip.shape[-2:], mode="nearest")
            x = fuse(torch.cat([x, skip], 1))
        return self.head(x)


@recordable
class EgomotionNet(nn.Module):
    """Egomotion input (B, 10, H, W) -> motion vector (B, 6): Euler angles (rad) and
    translation (m).

    VGG-like strided blocks, average pooling to a fixed ``pool`` grid (so one network
    serves every resolution), then the single fully-connected layer of the paper. Raw
    outputs are multiplied by ``angle_scale`` and ``translation_scale`` (typical
    magnitudes, so the layer works at unit scale); the layer starts near zero, i.e. near
    the identity motion.
    """

    def __init__(
        self,
        *,
        channels: tuple[int, ...] = (16, 32, 64, 128, 256),
        pool: tuple[int, int] = (2, 4),
        angle_scale: float = 0.01,
        translation_scale: float = 1.0,
    ) -> None:
        super().__init__()
        widths = (EGOMOTION_CHANNELS, *channels)
        self.encoder = nn.Sequential(*(_down(a, b) for a, b in pairwise(widths)))
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.fc = nn.Linear(channels[-1] * pool[0] * pool[1], 6)
        nn.init.normal_(self.fc.weight, std=1e-3)
        nn.init.zeros_(self.fc.bias)
        self.register_buffer("scale", torch.tensor([angle_scale] * 3 + [translation_scale] * 3))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        check_shape("inputs", inputs, ("B", EGOMOTION_CHANNELS, "H", "W"))
        x = inputs.clone()
        x[:, :6] = x[:, :6] - 0.5  # centre the two frames
        features = self.pool(self.encoder(x)).flatten(1)
        return self.fc(features) * self.scale


def motion_from_vector(vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """6D motion (B, 6) = (alpha, beta, gamma, tx, ty, tz) -> R (B, 3, 3), T (B, 3)."""
    check_shape("vector", vector, ("B", 6))
    return euler_to_matrix(vector[:, :3]), vector[:, 3:]


def motion_features(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """The 12 numbers of ``[R | T]``, row-major: rotation (B, 3, 3), translation (B, 3)
    -> (B, 12). The motion critic's input (real motions and predictions alike)."""
    check_shape("rotation", rotation, ("B", 3, 3))
    check_shape("translation", translation, (rotation.shape[0], 3))
    return torch.cat([rotation, translation[:, :, None]], 2).flatten(1)


@recordable
class MotionCritic(nn.Module):
    """D1 of the paper: relative transforms (B, 12) -> logits (B, 1); hidden 128-128-64."""

    def __init__(self, *, hidden: tuple[int, ...] = (128, 128, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 12
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        check_shape("features", features, ("B", 12))
        return self.net(features)


@recordable
class DepthCritic(nn.Module):
    """D2 of the paper: log depth (B, 1, H, W) -> patch logits (B, 1, H/8, W/8).

    Three 4x4 stride-2 convolutions and a 3x3 output convolution ("fully convolutional,
    one probabilistic output at each image sub-region").
    """

    def __init__(self, *, channels: tuple[int, int, int] = (32, 64, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 1
        for c in channels:
            layers += [nn.Conv2d(width, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            width = c
        layers.append(nn.Conv2d(width, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, log_depth: torch.Tensor) -> torch.Tensor:
        check_shape("log_depth", log_depth, ("B", 1, "H", "W"))
        return self.net(log_depth)


def depth_smoothness(log_depth: torch.Tensor, image: torch.Tensor | None = None) -> torch.Tensor:
    """First-order smoothness of log depth (the smooth-IGN prior of Sec. 3.2).

    ``mean |d/dx log d| + mean |d/dy log d|`` over (B, 1, H, W). With ``image``
    (B, C, H, W) the terms are edge-aware: weighted by ``exp(-mean_c |dI|)`` so depth may
    jump where the image has an edge (Godard et al. 2017 style).
    """
    check_shape("log_depth", log_depth, ("B", 1, "H", "W"))
    dx = (log_depth[..., :, 1:] - log_depth[..., :, :-1]).abs()
    dy = (log_depth[..., 1:, :] - log_depth[..., :-1, :]).abs()
    if image is not None:
        check_shape("image", image, (log_depth.shape[0], "C", *log_depth.shape[2:]))
        dx = dx * torch.exp(-(image[..., :, 1:] - image[..., :, :-1]).abs().mean(1, keepdim=True))
        dy = dy * torch.exp(-(image[..., 1:, :] - image[..., :-1, :]).abs().mean(1, keepdim=True))
    return dx.mean() + dy.mean()
