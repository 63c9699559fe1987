"""Geometric egomotion baseline: essential matrix from flow correspondences.

The AIGN paper compares with Jaegle et al. 2016 (a robust optimization over optical
flow); this library's geometric baseline is the classical two-view pipeline instead:
correspondences ``p1 = (x, y)``, ``p2 = (x + U, y + V)`` sampled from a dense flow
field on a regular grid, the essential matrix by the five-point algorithm inside RANSAC
(``cv2.findEssentialMat``), and the cheirality check of ``cv2.recoverPose``, which
returns ``R`` and ``t`` with ``X2 = R X1 + t`` (the library's convention).

Monocular geometry cannot know the translation's magnitude: ``t`` is a *unit* direction.
Report the baseline honestly in one of two ways, and say which:

* ``trl_ang`` and ``rot_err`` only (the quantities geometry can estimate), or
* with the magnitude supplied by an oracle (:func:`with_magnitude` using the true
  ``||T||``), labelled "oracle scale"; its ``trl_mag`` is then 0 by construction.

Using the unit vector as is gives ``trl_mag = | 1 - ||T|| |``, which measures the
speed of the car, not the method.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import torch

from unpaired._checks import check_shape


class GeometricMotion(NamedTuple):
    """rotation (B, 3, 3); direction (B, 3) unit translation direction; inliers (B,)
    fraction of correspondences RANSAC kept; ok (B,) bool, False where the estimate
    failed (then rotation is the identity and direction NaN)."""

    rotation: torch.Tensor
    direction: torch.Tensor
    inliers: torch.Tensor
    ok: torch.Tensor


def _estimate(p1: np.ndarray, p2: np.ndarray, k: np.ndarray, threshold: float, prob: float):
    if len(p1) < 5:
        return None
    e, mask = cv2.findEssentialMat(p1, p2, k, method=cv2.RANSAC, prob=prob, threshold=threshold)
    if e is None or e.shape[0] < 3:
        return None
    e = e[:3]  # several solutions may be stacked; the first has the most inliers
    _, r, t, _ = cv2.recoverPose(e, p1, p2, k, mask=mask.copy())
    inliers = float((mask.ravel() > 0).mean())
    return r, t.ravel(), inliers


def essential_motion(
    flow: torch.Tensor,
    intrinsics: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    stride: int = 4,
    threshold: float = 0.5,
    prob: float = 0.999,
) -> GeometricMotion:
    """Relative camera motion from dense flow by essential-matrix RANSAC.

    flow (B, 2, H, W) pixels (frame 1 -> 2); intrinsics (3, 3) or (B, 3, 3); ``mask``
    (B, 1, H, W) bool limits the correspondences (e.g. to pixels whose flow is trusted);
    ``stride`` subsamples the pixel grid; ``threshold`` is RANSAC's epipolar distance in
    pixels. Deterministic: OpenCV's RANSAC seeds its own generator.
    """
    check_shape("flow", flow, ("B", 2, "H", "W"))
    b, _, h, w = flow.shape
    k_all = intrinsics if intrinsics.dim() == 3 else intrinsics.expand(b, 3, 3)
    check_shape("intrinsics", k_all, (b, 3, 3))
    if mask is not None:
        check_shape("mask", mask, (b, 1, h, w))
    ys, xs = np.mgrid[0:h:stride, 0:w:stride]
    grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    rotations, directions, inliers, ok = [], [], [], []
    for i in range(b):
        f = flow[i, :, ys.ravel(), xs.ravel()].detach().double().cpu().numpy().T
        keep = np.isfinite(f).all(1)
        if mask is not None:
            keep &= mask[i, 0, ys.ravel(), xs.ravel()].cpu().numpy().astype(bool)
        p1 = np.ascontiguousarray(grid[keep])
        p2 = np.ascontiguousarray(grid[keep] + f[keep])
        k = k_all[i].detach().double().cpu().numpy()
        result = _estimate(p1, p2, k, threshold, prob)
        if result is None:
            rotations.append(np.eye(3))
            directions.append(np.full(3, np.nan))
            inliers.append(0.0)
            ok.append(False)
            continue
        r, t, frac = result
        rotations.append(r)
        directions.append(t / np.linalg.norm(t))
        inliers.append(frac)
        ok.append(True)
    dtype = flow.dtype if flow.is_floating_point() else torch.float32
    return GeometricMotion(
        torch.as_tensor(np.stack(rotations), dtype=dtype),
        torch.as_tensor(np.stack(directions), dtype=dtype),
        torch.tensor(inliers, dtype=dtype),
        torch.tensor(ok),
    )


def with_magnitude(direction: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """Scale unit directions (B, 3) by magnitudes (B,), e.g. the true ``||T||`` as an
    oracle ("geometric + oracle scale")."""
    check_shape("direction", direction, ("B", 3))
    check_shape("magnitude", magnitude, (direction.shape[0],))
    return direction * magnitude[:, None]
