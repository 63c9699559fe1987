"""Small geometry helpers shared by renderers, models and metrics.

Rotations follow the AIGN paper (Sec. 2.1, 2.2): ``R = R^x(alpha) R^y(beta) R^z(gamma)``,
with ``R^x(t)`` a rotation about the x-axis by angle ``t`` (right-handed, radians).

Pinhole camera (AIGN Eq. 2, the pose renderer of :mod:`unpaired.renderers.projection`):
camera frame x right, y down, z forward; :func:`project` maps camera points to pixels,
:func:`unproject` back given depth. :func:`face_front` turns a skeleton to face the
front (the torso alignment of the AIGN pose errors).
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape


def _axis_rotation(t: torch.Tensor, axis: int) -> torch.Tensor:
    c, s = torch.cos(t), torch.sin(t)
    one, zero = torch.ones_like(t), torch.zeros_like(t)
    if axis == 0:
        rows = (one, zero, zero, zero, c, -s, zero, s, c)
    elif axis == 1:
        rows = (c, zero, s, zero, one, zero, -s, zero, c)
    else:
        rows = (c, -s, zero, s, c, zero, zero, zero, one)
    return torch.stack(rows, dim=-1).reshape(*t.shape, 3, 3)


def euler_to_matrix(angles: torch.Tensor) -> torch.Tensor:
    """Euler angles (*, 3) = (alpha, beta, gamma) -> rotation matrices (*, 3, 3).

    ``R = R^x(alpha) @ R^y(beta) @ R^z(gamma)`` (AIGN paper, Sec. 2.1).
    """
    check_shape("angles", angles, ("*", 3))
    rx = _axis_rotation(angles[..., 0], 0)
    ry = _axis_rotation(angles[..., 1], 1)
    rz = _axis_rotation(angles[..., 2], 2)
    return rx @ ry @ rz


def matrix_to_euler(rotation: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`euler_to_matrix` for (*, 3, 3) rotations -> (*, 3) angles.

    Returns ``beta`` in [-pi/2, pi/2]. At gimbal lock (|beta| = pi/2) the split between
    ``alpha`` and ``gamma`` is not unique; ``gamma`` is then set to 0.
    """
    check_shape("rotation", rotation, ("*", 3, 3))
    # R = Rx Ry Rz: R[0,2] = sin(beta), R[1,2] = -sin(a)cos(b), R[2,2] = cos(a)cos(b),
    # R[0,1] = -cos(b)sin(g), R[0,0] = cos(b)cos(g).
    sb = rotation[..., 0, 2].clamp(-1.0, 1.0)
    beta = torch.asin(sb)
    cb = torch.sqrt((rotation[..., 0, 0] ** 2 + rotation[..., 0, 1] ** 2).clamp_min(0.0))
    lock = cb < 1e-6
    alpha = torch.atan2(-rotation[..., 1, 2], rotation[..., 2, 2])
    gamma = torch.atan2(-rotation[..., 0, 1], rotation[..., 0, 0])
    # Gimbal lock: gamma := 0, alpha from the remaining 2x2 block (R[1,0], R[1,1]).
    alpha_lock = torch.atan2(rotation[..., 2, 1], rotation[..., 1, 1])
    alpha = torch.where(lock, alpha_lock, alpha)
    gamma = torch.where(lock, torch.zeros_like(gamma), gamma)
    return torch.stack([alpha, beta, gamma], dim=-1)


def rotation_angle(rotation: torch.Tensor) -> torch.Tensor:
    """Angle (radians) of rotation matrices (*, 3, 3) -> (*,), stable near 0 and pi."""
    check_shape("rotation", rotation, ("*", 3, 3))
    trace = rotation[..., 0, 0] + rotation[..., 1, 1] + rotation[..., 2, 2]
    skew = torch.stack(
        [
            rotation[..., 2, 1] - rotation[..., 1, 2],
            rotation[..., 0, 2] - rotation[..., 2, 0],
            rotation[..., 1, 0] - rotation[..., 0, 1],
        ],
        dim=-1,
    )
    return torch.atan2(skew.norm(dim=-1), trace - 1.0)


def _per_batch(
    name: str, value: torch.Tensor | float, batch: int, width: int, like: torch.Tensor
) -> torch.Tensor:
    """A float, (), (width,) or (B,)/(B, width) tensor -> (B, 1, width) broadcastable over J."""
    value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if value.dim() == 0 or (value.dim() == 1 and value.shape[0] == width and width > 1):
        return value.expand(batch, width)[:, None, :]
    if width == 1:
        check_shape(name, value, (batch,))
        return value[:, None, None]
    check_shape(name, value, (batch, width))
    return value[:, None, :]


def project(
    points: torch.Tensor,
    focal: torch.Tensor | float,
    principal: torch.Tensor | float = 0.0,
    *,
    min_depth: float = 1e-6,
) -> torch.Tensor:
    """Project camera-frame points (B, J, 3) to pixels (B, J, 2) (AIGN Eq. 2).

    Args:
        points: (B, J, 3) camera-frame coordinates ``(X, Y, Z)``.
        focal: focal length ``f`` in pixels: a float, a () tensor or (B,).
        principal: principal point ``(c_x, c_y)``: a float (both), (2,) or (B, 2).
        min_depth: lower clamp of ``Z``.
    """
    check_shape("points", points, ("B", "J", 3))
    batch = points.shape[0]
    f = _per_batch("focal", focal, batch, 1, points)
    c = _per_batch("principal", principal, batch, 2, points)
    depth = points[..., 2:].clamp_min(min_depth)
    return f * points[..., :2] / depth + c


def unproject(
    pixels: torch.Tensor,
    depth: torch.Tensor,
    focal: torch.Tensor | float,
    principal: torch.Tensor | float = 0.0,
) -> torch.Tensor:
    """Inverse of :func:`project` given depth: pixels (B, J, 2) and depths (B, J) -> camera
    points (B, J, 3) with ``X = (u - c_x) Z / f``, ``Y = (v - c_y) Z / f``."""
    check_shape("pixels", pixels, ("B", "J", 2))
    check_shape("depth", depth, (pixels.shape[0], pixels.shape[1]))
    batch = pixels.shape[0]
    f = _per_batch("focal", focal, batch, 1, pixels)
    c = _per_batch("principal", principal, batch, 2, pixels)
    xy = (pixels - c) * depth[..., None] / f
    return torch.cat([xy, depth[..., None]], dim=-1)


def face_front(
    poses: torch.Tensor,
    *,
    root: int = 0,
    left_hip: int = 4,
    right_hip: int = 1,
    up: int = 1,
) -> torch.Tensor:
    """Root-centre poses (B, J, 3) and rotate each about the ``up`` axis so that the
    horizontal part of its hip vector (left minus right hip) points along axis
    ``(up + 2) % 3``; the person then faces axis ``(up + 1) % 3`` (y up: hips along +x,
    facing +z). Rotations are proper (det +1). A pose whose hip vector is vertical is only
    root-centred.
    """
    check_shape("poses", poses, ("B", "J", 3))
    if up not in (0, 1, 2):
        raise ValueError(f"up must be an axis index 0, 1 or 2, got {up}")
    centred = poses - poses[:, root : root + 1]
    side, front = (up + 2) % 3, (up + 1) % 3  # (side, up, front) is right-handed like (x, y, z)
    hip = centred[:, left_hip] - centred[:, right_hip]
    theta = torch.atan2(hip[:, front], hip[:, side])
    flat = hip[:, side] ** 2 + hip[:, front] ** 2 < 1e-20
    cos = torch.where(flat, torch.ones_like(theta), torch.cos(theta))[:, None]
    sin = torch.where(flat, torch.zeros_like(theta), torch.sin(theta))[:, None]
    # Rotate by -theta in the (side, front) plane.
    ps, pf = centred[..., side], centred[..., front]
    out = centred.clone()
    out[..., side] = ps * cos + pf * sin
    out[..., front] = -ps * sin + pf * cos
    return out
