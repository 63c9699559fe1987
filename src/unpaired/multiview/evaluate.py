"""Errors of multi-view 3D pose estimates (MetaPose's ``align_aba`` and NMPJPE), in mm of
poses in metres, per sample (B,) with ``reduction="none"``, else their mean.

- :func:`pmpjpe`: MPJPE after the best similarity (scale, rotation, translation) of the
  prediction onto the truth, :func:`unpaired.metrics.pose.p_mpjpe`. **Reflection
  policy:** with ``reflections=True`` (the default, as MetaPose's ``align_aba``, which has
  no determinant check) the best orthogonal map may be a reflection: the error is the
  smaller of the proper-rotation P-MPJPE of the prediction and of its mirror image
  (any reflection is a proper rotation times a mirror). This matters here: under weak
  perspective, the point reflection ``P -> -P`` with rotations ``R_c -> diag(-1, -1, 1) R_c``
  gives exactly the same 2D in every view, so an uncalibrated method without a depth cue
  cannot tell a pose from its mirror. ``reflections=False`` is the library's P-MPJPE.
- :func:`nmpjpe` (MetaPose's NMPJPE): both poses in the reference camera's frame (the
  prediction rotated there by the *method's own* estimate of that camera,
  :func:`in_camera`), centred on their joint means, the prediction scaled by
  ``||target||_F / ||pred||_F``; mean joint error. With ``flip_depth`` (the default, as the
  official code) also the prediction with ``z -> -z`` is scored and the smaller kept.
- :func:`mpjpe_centred`: plain MPJPE in the reference camera's frame after centring both
  on the root joint, no scale: meaningful only for methods with a metric scale (those
  that start from a metric monocular pose); BA's scale is arbitrary.

Example:
    >>> import torch
    >>> from unpaired.metrics.pose import p_mpjpe
    >>> target = torch.randn(2, 17, 3, dtype=torch.float64)
    >>> mirror = target * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    >>> float(pmpjpe(mirror, target).max()) < 1e-6
    True
    >>> bool(torch.allclose(pmpjpe(target + 0.01, target, reflections=False),
    ...                     p_mpjpe(target + 0.01, target, reduction="none")))
    True
    >>> float(nmpjpe(3.0 * target, target).max()) < 1e-6
    True
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape
from unpaired.metrics.pose import Reduction, apply_similarity, p_mpjpe, procrustes

_MM = 1000.0
_MIRROR_X = (-1.0, 1.0, 1.0)
_FLIP_Z = (1.0, 1.0, -1.0)


def _reduce(per_sample: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "none":
        return per_sample
    if reduction == "mean":
        return per_sample.mean()
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def _pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_shape("pred", pred, ("B", "J", 3))
    check_shape("target", target, tuple(pred.shape))


def pmpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    reflections: bool = True,
    reduction: Reduction = "none",
) -> torch.Tensor:
    """Procrustes-aligned MPJPE (mm) of (B, J, 3) poses; see the module docstring."""
    _pair(pred, target)
    error = p_mpjpe(pred, target, reduction="none")
    if reflections:
        mirrored = pred * pred.new_tensor(_MIRROR_X)
        error = torch.minimum(error, p_mpjpe(mirrored, target, reduction="none"))
    return _reduce(error, reduction)


def in_camera(pose: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """Poses (B, J, 3) in a method's frame -> a camera's frame by the method's estimate of
    that camera's rotation (B, 3, 3): ``P R^T``."""
    check_shape("pose", pose, ("B", "J", 3))
    check_shape("rotation", rotation, (pose.shape[0], 3, 3))
    return pose @ rotation.transpose(-1, -2)


def _normalised_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = pred - pred.mean(1, keepdim=True)
    t = target - target.mean(1, keepdim=True)
    scale = t.flatten(1).norm(dim=1) / p.flatten(1).norm(dim=1).clamp_min(1e-12)
    return (scale[:, None, None] * p - t).norm(dim=-1).mean(-1) * _MM


def nmpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    flip_depth: bool = True,
    reduction: Reduction = "none",
) -> torch.Tensor:
    """Normalised MPJPE (mm) of poses (B, J, 3) already in the reference camera's frame
    (:func:`in_camera`); see the module docstring."""
    _pair(pred, target)
    error = _normalised_error(pred, target)
    if flip_depth:
        flipped = pred * pred.new_tensor(_FLIP_Z)
        error = torch.minimum(error, _normalised_error(flipped, target))
    return _reduce(error, reduction)


def mpjpe_centred(
    pred: torch.Tensor, target: torch.Tensor, *, root: int = 0, reduction: Reduction = "none"
) -> torch.Tensor:
    """MPJPE (mm) of poses (B, J, 3) in the reference camera's frame after centring both
    on joint ``root`` (no scale, no rotation)."""
    _pair(pred, target)
    p, t = pred - pred[:, root : root + 1], target - target[:, root : root + 1]
    return _reduce((p - t).norm(dim=-1).mean(-1) * _MM, reduction)


def pose_scores(
    pred: torch.Tensor, reference_rotation: torch.Tensor, target_camera: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per-sample scores (B,) of poses ``pred`` (B, J, 3) in a method's frame, given the
    method's estimate of the reference camera's rotation (B, 3, 3) and the true pose in
    that camera's frame (B, J, 3): ``pmpjpe`` (reflections allowed), ``pmpjpe_proper``
    (proper rotations only), ``nmpjpe`` and ``mpjpe`` (:func:`mpjpe_centred`)."""
    cam = in_camera(pred, reference_rotation)
    return {
        "pmpjpe": pmpjpe(pred, target_camera),
        "pmpjpe_proper": pmpjpe(pred, target_camera, reflections=False),
        "nmpjpe": nmpjpe(cam, target_camera),
        "mpjpe": mpjpe_centred(cam, target_camera),
    }


def align_to(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Predictions (B, J, 3) moved onto ``target`` by the similarity of :func:`pmpjpe`
    (the mirror image when that is the closer one), for figures."""

    _pair(pred, target)
    out = apply_similarity(pred, *procrustes(pred, target))
    mirrored = pred * pred.new_tensor(_MIRROR_X)
    other = apply_similarity(mirrored, *procrustes(mirrored, target))
    closer = (other - target).norm(dim=-1).mean(-1) < (out - target).norm(dim=-1).mean(-1)
    return torch.where(closer[:, None, None], other, out)
