"""Weak-perspective cameras, MetaPose's camera model (``project3d_weak`` of the official
code): a pose ``P`` (J, 3) in a reference frame is seen by camera ``c`` at

    x_c = s_c * (P R_c^T)[:, :2] + t_c,

with ``R_c`` (3, 3) the rotation from the reference frame to camera ``c``, ``s_c > 0`` a
scale (box units per metre) and ``t_c`` (2,) a shift, in the 2D units of the observations
(here person-box units, :func:`unpaired.multiview.rigs.to_box`). Only the first two rows of
``R_c`` reach the image, so rotations are parametrised by those two rows, 6 numbers
(Zhou et al.'s 6D representation, completed by Gram-Schmidt and a cross product).

Example:
    >>> import torch
    >>> r = torch.linalg.qr(torch.randn(2, 3, 3, dtype=torch.float64)).Q
    >>> r = r * torch.det(r)[:, None, None]  # proper rotations
    >>> bool(torch.allclose(rot6d_to_matrix(matrix_to_rot6d(r)), r))
    True
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """(*, 6) -> proper rotations (*, 3, 3) whose first two rows are the Gram-Schmidt
    orthonormalisation of ``x[..., :3]`` and ``x[..., 3:]``."""
    check_shape("x", x, ("*", 6))
    a, b = x[..., :3], x[..., 3:]
    r1 = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b = b - (r1 * b).sum(-1, keepdim=True) * r1
    r2 = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    r3 = torch.linalg.cross(r1, r2)
    return torch.stack([r1, r2, r3], dim=-2)


def matrix_to_rot6d(rotation: torch.Tensor) -> torch.Tensor:
    """Rotations (*, 3, 3) -> their 6D form (*, 6): the first two rows."""
    check_shape("rotation", rotation, ("*", 3, 3))
    return rotation[..., :2, :].flatten(-2)


def rotate_xy(pose: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """``(P R_c^T)[:, :2]`` for poses (B, J, 3) and rotations (B, C, 3, 3) -> (B, C, J, 2)."""
    check_shape("pose", pose, ("B", "J", 3))
    check_shape("rotation", rotation, (pose.shape[0], "C", 3, 3))
    return pose[:, None] @ rotation[..., :2, :].transpose(-1, -2)


def project_weak(
    pose: torch.Tensor, rotation: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """Weak-perspective 2D (B, C, J, 2) of poses (B, J, 3) by cameras ``rotation``
    (B, C, 3, 3), ``scale`` (B, C) and ``shift`` (B, C, 2)."""
    xy = rotate_xy(pose, rotation)
    check_shape("scale", scale, tuple(xy.shape[:2]))
    check_shape("shift", shift, (*xy.shape[:2], 2))
    return scale[..., None, None] * xy + shift[..., None, :]


def fit_scale_shift(xy: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares ``(s, t)`` minimising ``||s xy + t - target||^2`` per view: ``xy`` and
    ``target`` (*, J, 2) -> scale (*,) (clamped to be positive) and shift (*, 2)."""
    check_shape("xy", xy, ("*", "J", 2))
    check_shape("target", target, tuple(xy.shape))
    xm, tm = xy.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    xc, tc = xy - xm, target - tm
    scale = (xc * tc).sum((-1, -2)) / (xc * xc).sum((-1, -2)).clamp_min(1e-12)
    scale = scale.clamp_min(1e-6)
    shift = (tm - scale[..., None, None] * xm)[..., 0, :]
    return scale, shift
