"""Small geometry helpers shared by renderers, models and metrics.

Rotations follow the AIGN paper (Sec. 2.1, 2.2): ``R = R^x(alpha) R^y(beta) R^z(gamma)``,
with ``R^x(t)`` a rotation about the x-axis by angle ``t`` (right-handed, radians).
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
