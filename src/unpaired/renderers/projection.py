"""Perspective projection of 3D keypoints, the AIGN pose renderer (Eq. 2).

``x_2D = P x_3D + [c_x, c_y, 0]^T`` with ``P = [[f, 0, 0, 0], [0, f, 0, 0], [0, 0, 1, 0]]`` in
homogeneous coordinates, i.e. for a camera-frame point ``(X, Y, Z)``::

    u = f * X / Z + c_x,    v = f * Y / Z + c_y.

Camera frame: x right, y down, z forward (depth), in the same length unit as the points
(metres in this library); ``f``, ``c_x``, ``c_y`` and ``(u, v)`` in pixels. The renderer owns
no parameters: focal length and principal point are inputs (AIGN predicts ``f``).
Depths are clamped below at ``min_depth`` so that points on or behind the camera plane give
finite values (the clamp has zero gradient with respect to depth there).
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired._checks import check_shape


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


class Projection(nn.Module):
    """Module wrapper of :func:`project`; stores only the ``min_depth`` option."""

    def __init__(self, *, min_depth: float = 1e-6) -> None:
        super().__init__()
        self.min_depth = min_depth

    def forward(
        self,
        points: torch.Tensor,
        focal: torch.Tensor | float,
        principal: torch.Tensor | float = 0.0,
    ) -> torch.Tensor:
        """(B, J, 3) camera points -> (B, J, 2) pixels; see :func:`project`."""
        return project(points, focal, principal, min_depth=self.min_depth)

    def extra_repr(self) -> str:
        return f"min_depth={self.min_depth}"
