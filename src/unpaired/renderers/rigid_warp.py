"""Rigid-motion warping renderer for structure from motion (AIGN paper, Sec. 2.2).

Given the depth ``d`` of frame 1, the camera motion ``X2 = R X1 + T`` and intrinsics
``K``, the renderer back-projects every pixel to a 3D point,
``X1 = d / f [x - cx, y - cy, f]`` (with ``fx``, ``fy`` for a general ``K``), moves it,
projects it into frame 2, and reads the optical flow ``(U, V) = (x2 - x1, y2 - y1)``.
Warping frame 2 by that flow, ``I2(x + U, y + V)``, should reproduce frame 1; Eq. 3's
photometric loss measures how well it does.

Pixel coordinates: ``x`` is the column, ``y`` the row, pixel centres at integers; the
image spans [-0.5, W - 0.5] x [-0.5, H - 0.5]. Sampling uses ``grid_sample`` with
``align_corners=True``, whose normalized -1 and +1 are the centres of the first and last
pixels, so pixel ``x`` maps to ``2 x / (W - 1) - 1`` exactly. A pixel is *valid* when its
point lies in front of camera 2 (``z2 > min_depth``) and projects inside the span of
pixel centres ``[0, W - 1] x [0, H - 1]`` where bilinear sampling needs no padding.

The renderer owns no parameters. All functions are differentiable in depth, motion
and image 2 (bilinear sampling is piecewise linear in the sampling position).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from unpaired._checks import check_shape


def _batched_intrinsics(intrinsics: torch.Tensor, batch: int) -> torch.Tensor:
    if intrinsics.dim() == 2:
        check_shape("intrinsics", intrinsics, (3, 3))
        return intrinsics.expand(batch, 3, 3)
    check_shape("intrinsics", intrinsics, (batch, 3, 3))
    return intrinsics


def pixel_grid(height: int, width: int, *, like: torch.Tensor) -> torch.Tensor:
    """Pixel coordinates (2, H, W): channel 0 is x (column), 1 is y (row)."""
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=like.dtype, device=like.device),
        torch.arange(width, dtype=like.dtype, device=like.device),
        indexing="ij",
    )
    return torch.stack([xs, ys])


def backproject(depth: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """Depth (B, 1, H, W) z-depth -> camera points (B, 3, H, W).

    ``X = d (x - cx) / fx``, ``Y = d (y - cy) / fy``, ``Z = d`` (AIGN Sec. 2.2); intrinsics
    (3, 3) or (B, 3, 3), skew ignored.
    """
    check_shape("depth", depth, ("B", 1, "H", "W"))
    b, _, h, w = depth.shape
    k = _batched_intrinsics(intrinsics, b).to(depth.dtype)
    grid = pixel_grid(h, w, like=depth)
    fx, fy = k[:, 0, 0].view(b, 1, 1), k[:, 1, 1].view(b, 1, 1)
    cx, cy = k[:, 0, 2].view(b, 1, 1), k[:, 1, 2].view(b, 1, 1)
    d = depth[:, 0]
    return torch.stack([d * (grid[0] - cx) / fx, d * (grid[1] - cy) / fy, d], 1)


def transform(
    points: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor
) -> torch.Tensor:
    """``X2 = R X1 + T`` for points (B, 3, H, W), rotation (B, 3, 3), translation (B, 3)."""
    check_shape("points", points, ("B", 3, "H", "W"))
    b = points.shape[0]
    check_shape("rotation", rotation, (b, 3, 3))
    check_shape("translation", translation, (b, 3))
    return torch.einsum("bij,bjhw->bihw", rotation, points) + translation[:, :, None, None]


def project(
    points: torch.Tensor, intrinsics: torch.Tensor, *, min_depth: float = 1e-3
) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera points (B, 3, H, W) -> pixel coordinates (B, 2, H, W) and ``in_front``
    (B, 1, H, W) bool (``Z > min_depth``; behind-camera points are projected with
    ``Z`` clamped to ``min_depth`` so results stay finite)."""
    check_shape("points", points, ("B", 3, "H", "W"))
    b = points.shape[0]
    k = _batched_intrinsics(intrinsics, b).to(points.dtype)
    x, y, z = points.unbind(1)
    in_front = z > min_depth
    z = z.clamp_min(min_depth)
    u = k[:, 0, 0].view(b, 1, 1) * x / z + k[:, 0, 2].view(b, 1, 1)
    v = k[:, 1, 1].view(b, 1, 1) * y / z + k[:, 1, 2].view(b, 1, 1)
    return torch.stack([u, v], 1), in_front[:, None]


def rigid_flow(
    depth: torch.Tensor,
    rotation: torch.Tensor,
    translation: torch.Tensor,
    intrinsics: torch.Tensor,
    *,
    min_depth: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Geometric optical flow of frame 1 under rigid camera motion (AIGN Sec. 2.2).

    depth (B, 1, H, W) metres, rotation (B, 3, 3), translation (B, 3) with
    ``X2 = R X1 + T``, intrinsics (3, 3) or (B, 3, 3). Returns flow (B, 2, H, W)
    = ``(x2 - x1, y2 - y1)`` and valid (B, 1, H, W) bool (in front of camera 2 and
    inside image 2).
    """
    check_shape("depth", depth, ("B", 1, "H", "W"))
    _, _, h, w = depth.shape
    points = transform(backproject(depth, intrinsics), rotation, translation)
    pixels, in_front = project(points, intrinsics, min_depth=min_depth)
    flow = pixels - pixel_grid(h, w, like=depth)
    inside = (
        (pixels[:, :1] >= 0)
        & (pixels[:, :1] <= w - 1)
        & (pixels[:, 1:] >= 0)
        & (pixels[:, 1:] <= h - 1)
    )
    return flow, in_front & inside


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Bilinear backward warp: ``out(x, y) = image(x + U, y + V)``.

    image (B, C, H, W), flow (B, 2, H, W) in pixels. Outside the image, the nearest
    border pixel is read (``padding_mode="border"``); use the validity mask of
    :func:`rigid_flow` to ignore those pixels.
    """
    check_shape("image", image, ("B", "C", "H", "W"))
    b, _, h, w = image.shape
    check_shape("flow", flow, (b, 2, h, w))
    target = pixel_grid(h, w, like=flow) + flow
    scale = torch.tensor(
        [2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], dtype=flow.dtype, device=flow.device
    )
    grid = (target * scale.view(1, 2, 1, 1) - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(
        image, grid.to(image.dtype), mode="bilinear", padding_mode="border", align_corners=True
    )


def photometric_loss(
    image1: torch.Tensor, warped: torch.Tensor, *, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Eq. 3 of the AIGN paper: ``1/(w h) sum_{x,y} ||I1(x, y) - I2(x + U, y + V)||_1``.

    image1, warped (B, C, H, W); the L1 norm runs over channels, the mean over pixels
    and the batch. With ``mask`` (B, 1, H, W) bool, the mean runs over masked pixels only
    (0 if none is). Without it every pixel counts, as in Eq. 3 (out-of-image samples read
    the border; see :func:`warp`).
    """
    check_shape("image1", image1, ("B", "C", "H", "W"))
    check_shape("warped", warped, tuple(image1.shape))
    err = (image1 - warped).abs().sum(1, keepdim=True)
    if mask is None:
        return err.mean()
    check_shape("mask", mask, (image1.shape[0], 1, *image1.shape[2:]))
    m = mask.to(err.dtype)
    return (err * m).sum() / m.sum().clamp_min(1.0)


class RigidWarp(NamedTuple):
    """Output of :func:`render`: flow (B, 2, H, W), warped image 2 (B, C, H, W), valid
    (B, 1, H, W) bool."""

    flow: torch.Tensor
    warped: torch.Tensor
    valid: torch.Tensor


def render(
    depth: torch.Tensor,
    rotation: torch.Tensor,
    translation: torch.Tensor,
    intrinsics: torch.Tensor,
    image2: torch.Tensor,
    *,
    min_depth: float = 1e-3,
) -> RigidWarp:
    """The renderer ``P`` of the SfM AIGN: depth of frame 1 + motion -> flow -> frame 2
    warped back onto frame 1 (AIGN Sec. 2.2). Shapes as in :func:`rigid_flow`; image2
    (B, C, H, W)."""
    flow, valid = rigid_flow(depth, rotation, translation, intrinsics, min_depth=min_depth)
    return RigidWarp(flow, warp(image2, flow), valid)
