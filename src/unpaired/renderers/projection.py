"""Perspective projection of 3D keypoints, the AIGN pose renderer (Eq. 2).

``x_2D = P x_3D + [c_x, c_y, 0]^T`` with ``P = [[f, 0, 0, 0], [0, f, 0, 0], [0, 0, 1, 0]]`` in
homogeneous coordinates, i.e. for a camera-frame point ``(X, Y, Z)``::

    u = f * X / Z + c_x,    v = f * Y / Z + c_y.

Camera frame: x right, y down, z forward (depth), in the same length unit as the points
(metres in this library); ``f``, ``c_x``, ``c_y`` and ``(u, v)`` in pixels. The renderer owns
no parameters: focal length and principal point are inputs (AIGN predicts ``f``).
Depths are clamped below at ``min_depth`` so that points on or behind the camera plane give
finite values (the clamp has zero gradient with respect to depth there).

:func:`project` and :func:`unproject` live in :mod:`unpaired.geometry` (the data
generators and the pose models need the pinhole camera too, and they sit below the
renderers' floor in the data flow); this module re-exports them and adds the
:class:`Projection` module.
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired.geometry import project, unproject

__all__ = ["Projection", "project", "unproject"]


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
