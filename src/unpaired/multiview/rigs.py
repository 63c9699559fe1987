"""Random multi-view camera rigs around a subject, their perspective 2D, and detector-like
noise (the MetaPose data, built from any 3D poses: CMU motion capture or the procedural
skeletons).

**Rig distribution** (:class:`RigDistribution`; the camera model of
:mod:`unpaired.geometry`, x right, y down, z forward, pixels ``u = f X / Z + c``). The
subject's pelvis is placed at ``(0, pelvis_height, 0)`` (world y up, metres). For every
sample, ``views`` cameras stand around it:

- azimuth ``a_k = a_0 + k * 360 / views + U[-azimuth_jitter, azimuth_jitter]`` degrees with
  ``a_0 ~ U[0, 360)``: the views surround the person (like the four Human3.6M cameras);
  the 2-view setting of the recipes keeps the first two cameras of a 4-view rig, which
  are then about 90 degrees apart, as two adjacent Human3.6M cameras;
- horizontal distance to the pelvis ``~ U[distance]`` (4-6 m), camera height above the
  floor ``~ U[height]`` (1-2 m);
- aimed at the pelvis plus a jitter ``~ U[-aim_jitter, aim_jitter]`` m per axis, no roll;
- focal ``~ U[focal]`` (1000-1150 px), principal point the centre of a 1000 x 1000 image.

A world point ``X`` is seen at ``X_c = R X + t`` (:class:`Rig`), projected by full
perspective (:func:`observe`), so a weak-perspective model has a real model error.

**Person boxes** (:func:`person_box`): the square box of side ``margin`` (1.2) times the
larger extent of a view's 2D keypoints, centred on their extent; :func:`to_box` maps pixels
to box units ``(p - origin) / side`` as MetaPose's ``convert_rec_pose2d_to_bbox_axis``.

**Noise** (:class:`Noise2D`, :func:`corrupt`), in units of the person's box side ``S``
(the box of the exact 2D): each left/right joint pair of each view is swapped with
probability ``swap_prob``, then every coordinate gets Gaussian noise of std
``sigma * S``, and a fraction ``outlier_fraction`` of the joints (each independently)
gets std ``outlier_sigma * S`` instead.

Example:
    >>> import torch
    >>> from unpaired.data.synthetic.skeletons import sample_poses
    >>> g = torch.Generator().manual_seed(0)
    >>> poses = place(sample_poses(3, generator=g, dtype=torch.float64))
    >>> rig = sample_rigs(3, RigDistribution(views=4), generator=g)
    >>> pixels, camera = observe(poses, rig)
    >>> tuple(pixels.shape), tuple(camera.shape)
    ((3, 4, 17, 2), (3, 4, 17, 3))
    >>> bool(((pixels > 0) & (pixels < 1000)).all())
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape
from unpaired.data.skeleton import ROOT, SYMMETRIC_PAIRS
from unpaired.geometry import project


@dataclass(frozen=True)
class RigDistribution:
    """Ranges (low, high) of the uniform draws of a rig (see the module docstring)."""

    views: int = 4
    distance: tuple[float, float] = (4.0, 6.0)  # horizontal, camera to pelvis (m)
    height: tuple[float, float] = (1.0, 2.0)  # camera above the floor (m)
    pelvis_height: float = 1.0  # where :func:`place` puts the pelvis (m)
    azimuth_jitter_deg: float = 30.0
    aim_jitter: float = 0.1  # m, per axis
    focal: tuple[float, float] = (1000.0, 1150.0)
    image_size: tuple[int, int] = (1000, 1000)

    def __post_init__(self) -> None:
        if self.views < 1:
            raise ValueError(f"views must be >= 1, got {self.views}")
        for name in ("distance", "height", "focal"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(
                    f"{name} must be (low, high) with 0 < low <= high, got {(low, high)}"
                )


@dataclass(frozen=True)
class Rig:
    """B rigs of C cameras: ``rotation`` (B, C, 3, 3) world -> camera, ``translation``
    (B, C, 3) (``X_c = R X + t``), ``focal`` (B, C), ``principal`` (B, C, 2)."""

    rotation: torch.Tensor
    translation: torch.Tensor
    focal: torch.Tensor
    principal: torch.Tensor

    def __len__(self) -> int:
        return self.rotation.shape[0]

    @property
    def views(self) -> int:
        return self.rotation.shape[1]

    def subset(self, views: int | list[int]) -> Rig:
        """The rig of the first ``views`` cameras (or of the listed ones)."""
        index = list(range(views)) if isinstance(views, int) else list(views)
        return Rig(
            self.rotation[:, index],
            self.translation[:, index],
            self.focal[:, index],
            self.principal[:, index],
        )

    def select(self, rows: torch.Tensor | slice) -> Rig:
        """The rigs of some samples."""
        return Rig(
            self.rotation[rows], self.translation[rows], self.focal[rows], self.principal[rows]
        )


def look_at(centre: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World -> camera rotation (*, 3, 3) and translation (*, 3) of cameras at ``centre``
    (*, 3) looking at ``target`` (*, 3), world y up, no roll: rows of ``R`` are the camera's
    right, down and forward directions, ``t = -R centre``."""
    forward = target - centre
    forward = forward / forward.norm(dim=-1, keepdim=True)
    up = torch.zeros_like(forward)
    up[..., 1] = 1.0
    right = torch.linalg.cross(forward, up)
    right = right / right.norm(dim=-1, keepdim=True)
    down = torch.linalg.cross(forward, right)
    rotation = torch.stack([right, down, forward], dim=-2)
    translation = -(rotation @ centre[..., None])[..., 0]
    return rotation, translation


def sample_rigs(
    n: int,
    dist: RigDistribution = RigDistribution(),
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Rig:
    """``n`` random rigs of ``dist.views`` cameras (see the module docstring)."""
    c = dist.views

    def u(bounds: tuple[float, float], *shape: int) -> torch.Tensor:
        low, high = bounds
        return low + (high - low) * torch.rand(*shape, generator=generator, dtype=dtype)

    jitter = math.radians(dist.azimuth_jitter_deg)
    base = u((0.0, 2 * math.pi), n, 1)
    azimuth = base + torch.arange(c, dtype=dtype) * (2 * math.pi / c) + u((-jitter, jitter), n, c)
    distance, height = u(dist.distance, n, c), u(dist.height, n, c)
    centre = torch.stack(
        [distance * torch.sin(azimuth), height, distance * torch.cos(azimuth)], dim=-1
    )
    pelvis = torch.tensor([0.0, dist.pelvis_height, 0.0], dtype=dtype)
    target = pelvis + u((-dist.aim_jitter, dist.aim_jitter), n, c, 3)
    rotation, translation = look_at(centre, target)
    principal = torch.tensor(
        [dist.image_size[0] / 2.0, dist.image_size[1] / 2.0], dtype=dtype
    ).expand(n, c, 2)
    return Rig(rotation, translation, u(dist.focal, n, c), principal.clone())


def place(poses: torch.Tensor, *, pelvis_height: float = 1.0, root: int = ROOT) -> torch.Tensor:
    """World poses (B, J, 3) moved so that the pelvis is at ``(0, pelvis_height, 0)``."""
    check_shape("poses", poses, ("B", "J", 3))
    at = poses.new_tensor([0.0, pelvis_height, 0.0])
    return poses - poses[:, root : root + 1] + at


def to_cameras(poses: torch.Tensor, rig: Rig) -> torch.Tensor:
    """World poses (B, J, 3) -> camera frames (B, C, J, 3)."""
    check_shape("poses", poses, (len(rig), "J", 3))
    return poses[:, None] @ rig.rotation.transpose(-1, -2) + rig.translation[:, :, None]


def observe(poses: torch.Tensor, rig: Rig) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-perspective 2D (B, C, J, 2) pixels and camera-frame 3D (B, C, J, 3) of world
    poses (B, J, 3) seen by ``rig``."""
    camera = to_cameras(poses, rig)
    b, c, j, _ = camera.shape
    pixels = project(
        camera.reshape(b * c, j, 3), rig.focal.reshape(b * c), rig.principal.reshape(b * c, 2)
    )
    return pixels.reshape(b, c, j, 2), camera


def person_box(pixels: torch.Tensor, *, margin: float = 1.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Square person boxes of 2D keypoints (*, J, 2): ``origin`` (*, 2) (top left) and
    ``side`` (*,) = ``margin`` times the larger extent, centred on the extent."""
    check_shape("pixels", pixels, ("*", "J", 2))
    low, high = pixels.min(dim=-2).values, pixels.max(dim=-2).values
    side = margin * (high - low).max(dim=-1).values.clamp_min(1e-6)
    origin = 0.5 * (low + high) - 0.5 * side[..., None]
    return origin, side


def to_box(pixels: torch.Tensor, origin: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
    """Pixels (*, J, 2) -> box units ``(p - origin) / side``."""
    return (pixels - origin[..., None, :]) / side[..., None, None]


def from_box(points: torch.Tensor, origin: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_box`."""
    return points * side[..., None, None] + origin[..., None, :]


@dataclass(frozen=True)
class Noise2D:
    """Detector-like 2D noise, in units of the person's box side (module docstring)."""

    sigma: float = 0.015
    outlier_fraction: float = 0.075
    outlier_sigma: float = 0.10
    swap_prob: float = 0.03

    def __post_init__(self) -> None:
        if self.sigma < 0 or self.outlier_sigma < 0:
            raise ValueError(f"noise stds must be >= 0, got {self.sigma}, {self.outlier_sigma}")
        for name in ("outlier_fraction", "swap_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


def corrupt(
    pixels: torch.Tensor, noise: Noise2D, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Noisy copies (*, J, 2) of exact 2D keypoints (*, J, 2) (see :class:`Noise2D`)."""
    check_shape("pixels", pixels, ("*", "J", 2))
    _, side = person_box(pixels)
    out = pixels.clone()
    lead = pixels.shape[:-2]
    left = torch.tensor([a for a, _ in SYMMETRIC_PAIRS])
    right = torch.tensor([b for _, b in SYMMETRIC_PAIRS])
    swap = torch.rand(*lead, len(SYMMETRIC_PAIRS), 1, generator=generator) < noise.swap_prob
    out[..., left, :] = torch.where(swap, pixels[..., right, :], pixels[..., left, :])
    out[..., right, :] = torch.where(swap, pixels[..., left, :], pixels[..., right, :])
    j = pixels.shape[-2]
    outlier = torch.rand(*lead, j, 1, generator=generator) < noise.outlier_fraction
    std = torch.where(outlier, noise.outlier_sigma, noise.sigma).to(pixels.dtype)
    gauss = torch.randn(pixels.shape, generator=generator, dtype=pixels.dtype)
    return out + std * side[..., None, None] * gauss
