"""2D inputs of the pose-lifting protocol (AIGN Sec. 3.1): virtual cameras, noisy 2D
keypoints (Table 2 analogue), Sup1 synthetic augmentation, and 2D normalisation.

World poses are (B, J, 3) in metres, y up (see :mod:`unpaired.data.skeleton`); camera
frames are x right, y down, z forward; pixels follow AIGN Eq. 2
(:func:`unpaired.renderers.projection.project`). Everything random takes a
``generator: torch.Generator``.

**Virtual camera distribution** (:class:`CameraDistribution`, defaults close to the
Human3.6M rig: 1000 x 1000 images, f ~ 1145 px, subject 4-6 m away). The camera looks at
the subject's root (pelvis) from

- yaw ``~ U[-pi, pi)`` about the world vertical (every side of the person),
- elevation (pitch) ``~ U[-5, 20] deg`` (positive: camera above, looking down),
- roll ``~ U[-3, 3] deg``,
- distance of the root ``~ U[4, 6] m`` along the optical axis, and a lateral root offset
  ``~ U[-0.3, 0.3] m`` in camera x and y (the person is not always centred),
- focal ``f ~ U[1000, 1200] px``, principal point at the image centre (500, 500) plus
  ``U[-10, 10] px`` per axis.

World-to-camera rotation: ``R = R_xz(pitch, roll) @ F @ R_y(yaw)``, with
``F = diag(1, -1, -1)`` (y up -> y down; a person facing +z faces the camera) and the
Euler matrices of :func:`unpaired.geometry.euler_to_matrix`. Camera point:
``X_c = R (X - X_root) + t``, ``t = (offset_x, offset_y, distance)``.

**2D normalisation for networks** (:func:`normalize_2d`): subtract the root keypoint and
divide by the per-sample scale ``s = sqrt(mean_j ||x_j - x_root||^2)`` (RMS distance to the
root, in pixels); the root position and ``s`` are returned so a network can still be told
where and how large the person is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape
from unpaired.data.skeleton import (
    H36M17_PARENTS,
    MIRROR_PERMUTATION,
    NUM_JOINTS,
    ROOT,
    SYMMETRIC_PAIRS,
    bone_vectors,
    from_bone_vectors,
)
from unpaired.geometry import euler_to_matrix, project

#: y up (world) -> y down, z towards the camera (camera frame).
WORLD_TO_CAMERA_AXES = torch.diag(torch.tensor([1.0, -1.0, -1.0]))


@dataclass(frozen=True)
class CameraDistribution:
    """Ranges (low, high) of the uniform distributions of a virtual camera; angles in
    radians, lengths in metres, focal and principal point in pixels."""

    yaw: tuple[float, float] = (-math.pi, math.pi)
    pitch: tuple[float, float] = (math.radians(-5.0), math.radians(20.0))
    roll: tuple[float, float] = (math.radians(-3.0), math.radians(3.0))
    distance: tuple[float, float] = (4.0, 6.0)
    offset: float = 0.3
    focal: tuple[float, float] = (1000.0, 1200.0)
    image_size: tuple[int, int] = (1000, 1000)  # (width, height)
    principal_jitter: float = 10.0

    @property
    def center(self) -> tuple[float, float]:
        """The image centre ``(c_x, c_y)``."""
        return (self.image_size[0] / 2.0, self.image_size[1] / 2.0)


@dataclass(frozen=True)
class Cameras:
    """B virtual cameras: ``rotation`` (B, 3, 3) world -> camera, ``translation`` (B, 3)
    (the root's camera-frame position), ``focal`` (B,), ``principal`` (B, 2)."""

    rotation: torch.Tensor
    translation: torch.Tensor
    focal: torch.Tensor
    principal: torch.Tensor

    def __len__(self) -> int:
        return self.rotation.shape[0]


@dataclass(frozen=True)
class Projected:
    """2D views of 3D poses: ``pose_2d`` (B, J, 2) pixels, ``pose_3d`` (B, J, 3) camera-frame
    metres, and the ``cameras`` used."""

    pose_2d: torch.Tensor
    pose_3d: torch.Tensor
    cameras: Cameras


def _uniform(
    bounds: tuple[float, float],
    shape: Sequence[int],
    generator: torch.Generator | None,
    dtype: torch.dtype,
) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(*shape, generator=generator, dtype=dtype)


def sample_cameras(
    n: int,
    *,
    distribution: CameraDistribution = CameraDistribution(),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> Cameras:
    """Sample ``n`` virtual cameras from ``distribution`` (see the module docstring)."""
    d = distribution

    def u(bounds: tuple[float, float], *shape: int) -> torch.Tensor:
        return _uniform(bounds, (n, *shape), generator, dtype)

    yaw, pitch, roll = u(d.yaw), u(d.pitch), u(d.roll)
    zero = torch.zeros_like(yaw)
    rotation = (
        euler_to_matrix(torch.stack([pitch, zero, roll], -1))
        @ WORLD_TO_CAMERA_AXES.to(dtype)
        @ euler_to_matrix(torch.stack([zero, yaw, zero], -1))
    )
    offset = u((-d.offset, d.offset), 2)
    translation = torch.cat([offset, u(d.distance)[:, None]], dim=-1)
    principal = torch.tensor(d.center, dtype=dtype) + u(
        (-d.principal_jitter, d.principal_jitter), 2
    )
    return Cameras(rotation, translation, u(d.focal), principal)


def to_camera(poses: torch.Tensor, cameras: Cameras, *, root: int = ROOT) -> torch.Tensor:
    """World poses (B, J, 3) -> camera frame (B, J, 3): ``R (X - X_root) + t``."""
    check_shape("poses", poses, (len(cameras), "J", 3))
    centred = poses - poses[:, root : root + 1]
    return centred @ cameras.rotation.transpose(1, 2) + cameras.translation[:, None]


def project_poses(poses: torch.Tensor, cameras: Cameras, *, root: int = ROOT) -> Projected:
    """World poses (B, J, 3) seen by ``cameras``: 2D pixels and camera-frame 3D."""
    pose_3d = to_camera(poses, cameras, root=root)
    return Projected(project(pose_3d, cameras.focal, cameras.principal), pose_3d, cameras)


def view_poses(
    poses: torch.Tensor,
    *,
    distribution: CameraDistribution = CameraDistribution(),
    generator: torch.Generator | None = None,
) -> Projected:
    """Project every world pose (B, J, 3) through its own random camera."""
    check_shape("poses", poses, ("B", "J", 3))
    cameras = sample_cameras(
        poses.shape[0], distribution=distribution, generator=generator, dtype=poses.dtype
    )
    return project_poses(poses, cameras)


def corrupt_2d(
    keypoints: torch.Tensor,
    *,
    sigma: float = 5.0,
    swap_prob: float = 0.05,
    pairs: Sequence[tuple[int, int]] = SYMMETRIC_PAIRS,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Detector-like 2D keypoints (the noisy-input setting, AIGN Table 2 analogue).

    Each left/right joint pair of each sample is swapped with probability ``swap_prob``
    (a detector confusing the two sides), then i.i.d. Gaussian noise of std ``sigma``
    pixels is added to every coordinate. (B, J, 2) -> (B, J, 2).
    """
    check_shape("keypoints", keypoints, ("B", "J", 2))
    if sigma < 0 or not 0 <= swap_prob <= 1:
        raise ValueError(f"need sigma >= 0 and swap_prob in [0, 1], got {sigma}, {swap_prob}")
    out = keypoints.clone()
    if pairs:
        left = torch.tensor([a for a, _ in pairs])
        right = torch.tensor([b for _, b in pairs])
        swap = torch.rand(keypoints.shape[0], len(pairs), generator=generator) < swap_prob
        swap = swap[..., None].to(keypoints.device)
        out[:, left] = torch.where(swap, keypoints[:, right], keypoints[:, left])
        out[:, right] = torch.where(swap, keypoints[:, left], keypoints[:, right])
    noise = torch.randn(keypoints.shape, generator=generator, dtype=keypoints.dtype)
    return out + sigma * noise.to(keypoints.device)


def perturb_skeleton(
    poses: torch.Tensor,
    *,
    length_std: float = 0.05,
    angle_std: float = math.radians(10.0),
    parents: Sequence[int] = H36M17_PARENTS,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Perturb 3D skeletons (B, J, 3): every bone is scaled by ``~ N(1, length_std)`` and
    its direction rotated by Euler angles ``~ N(0, angle_std)`` (radians); the root stays."""
    check_shape("poses", poses, ("B", "J", 3))
    vectors = bone_vectors(poses, parents)
    shape = (poses.shape[0], poses.shape[1])
    scale = 1.0 + length_std * torch.randn(*shape, 1, generator=generator, dtype=poses.dtype)
    angles = angle_std * torch.randn(*shape, 3, generator=generator, dtype=poses.dtype)
    rotated = (euler_to_matrix(angles) @ vectors[..., None])[..., 0] * scale
    rotated = torch.cat([vectors[:, :1], rotated[:, 1:]], dim=1)
    return from_bone_vectors(rotated, parents)


def sup1_augment(
    poses: torch.Tensor,
    *,
    length_std: float = 0.05,
    angle_std: float = math.radians(10.0),
    fraction: float = 1.0,
    distribution: CameraDistribution = CameraDistribution(),
    generator: torch.Generator | None = None,
) -> Projected:
    """Sup1 synthetic training pairs (AIGN Sec. 3.1, after Wu et al.): perturb each 3D
    example skeleton (:func:`perturb_skeleton`), sample a rotation and a focal length (a
    virtual camera), and project. Returns paired 2D pixels and camera-frame 3D.

    With ``fraction < 1`` only that share of the skeletons (each with probability
    ``fraction``) is perturbed, the others are seen as they are (Sup2 among Sup1).
    """
    check_shape("poses", poses, ("B", "J", 3))
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    perturbed = perturb_skeleton(
        poses, length_std=length_std, angle_std=angle_std, generator=generator
    )
    if fraction < 1.0:
        use = torch.rand(poses.shape[0], generator=generator) < fraction
        perturbed = torch.where(use[:, None, None].to(poses.device), perturbed, poses)
    return view_poses(perturbed, distribution=distribution, generator=generator)


def retarget(poses: torch.Tensor, *, std: float, generator: torch.Generator) -> torch.Tensor:
    """Poses (N, J, 3) of one skeleton moved to a new body: every bone (left and right
    twins alike) scaled by one factor ``~ N(1, std)`` for the whole set, the root kept. A
    "new subject" for a test split that must not share the training bone lengths."""
    check_shape("poses", poses, ("N", NUM_JOINTS, 3))
    factors = 1.0 + std * torch.randn(NUM_JOINTS, generator=generator, dtype=poses.dtype)
    factors = factors[torch.minimum(torch.arange(NUM_JOINTS), torch.tensor(MIRROR_PERMUTATION))]
    factors[ROOT] = 1.0
    return from_bone_vectors(bone_vectors(poses) * factors[:, None])


def normalize_2d(
    keypoints: torch.Tensor, *, root: int = ROOT, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centre 2D keypoints (B, J, 2) on the root and divide by their RMS radius.

    Returns ``(normalized (B, J, 2), center (B, 2), scale (B,))`` with
    ``keypoints = normalized * scale + center``.
    """
    check_shape("keypoints", keypoints, ("B", "J", 2))
    center = keypoints[:, root]
    centred = keypoints - center[:, None]
    scale = centred.pow(2).sum(-1).mean(-1).sqrt().clamp_min(eps)
    return centred / scale[:, None, None], center, scale


def denormalize_2d(
    normalized: torch.Tensor, center: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Inverse of :func:`normalize_2d`: (B, J, 2), (B, 2), (B,) -> (B, J, 2) pixels."""
    check_shape("normalized", normalized, ("B", "J", 2))
    return normalized * scale[:, None, None] + center[:, None]
