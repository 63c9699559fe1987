"""3D pose errors (inputs in metres, outputs in millimetres), AIGN Sec. 3.1 / Tables 1-2.

All metrics take ``pred`` and ``target`` (B, J, 3) and return the per-sample error (B,) with
``reduction="none"`` or its mean (a scalar) with ``reduction="mean"``; the per-sample error is
the mean over joints of the Euclidean joint distance.

- :func:`mpjpe`: plain mean per-joint position error (optionally after centring both poses
  on a root joint, Protocol #1).
- :func:`n_mpjpe`: after the optimal *scale* of ``pred`` (least squares, no translation or
  rotation), as in VideoPose3D.
- :func:`p_mpjpe`: after the optimal *similarity* transform of ``pred`` onto ``target``
  (Procrustes: scale, rotation, translation; Protocol #2). **Reflection policy: proper
  rotations only.** When the best orthogonal map is a reflection, the sign of the last
  singular direction is flipped so that ``det(R) = +1``; a mirrored prediction is therefore
  *not* forgiven.
- :func:`torso_aligned_error`: the AIGN paper's reconstruction error, "the 3D per-joint
  error after the torsos are aligned to face the front" (Sec. 3.1). Defined precisely as:
  each skeleton is separately (i) centred on its root joint and (ii) rotated about the
  vertical axis ``up`` so that the horizontal part of its hip vector ``x[l_hip] - x[r_hip]``
  points along the canonical direction (+x when ``up`` is y; the person then faces +z in a
  y-up frame): ``(1/K) sum_i ||T(x_hat_i) - T(x*_i)||`` with each ``T`` from its own hips
  (:func:`face_front`). No scale or out-of-plane rotation is corrected.

Joint defaults (root 0, right hip 1, left hip 4) are those of the library's 17-joint
skeleton (:mod:`unpaired.data.skeleton`).
"""

from __future__ import annotations

from typing import Literal

import torch

from unpaired._checks import check_shape
from unpaired.geometry import face_front

Reduction = Literal["mean", "none"]
_MM = 1000.0


def _pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_shape("pred", pred, ("B", "J", 3))
    check_shape("target", target, (pred.shape[0], pred.shape[1], 3))


def _reduce(per_sample: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def _joint_error(pred: torch.Tensor, target: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    return _reduce((pred - target).norm(dim=-1).mean(dim=-1) * _MM, reduction)


def mpjpe(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    root: int | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Mean per-joint position error in mm of (B, J, 3) poses in metres.

    With ``root`` set, both poses are first centred on that joint (Protocol #1).
    """
    _pair(pred, target)
    if root is not None:
        pred = pred - pred[:, root : root + 1]
        target = target - target[:, root : root + 1]
    return _joint_error(pred, target, reduction)


def n_mpjpe(
    pred: torch.Tensor, target: torch.Tensor, *, reduction: Reduction = "mean"
) -> torch.Tensor:
    """MPJPE in mm after scaling ``pred`` by ``s = <pred, target> / <pred, pred>`` (per sample,
    no translation: pass root-centred poses for the usual protocol)."""
    _pair(pred, target)
    scale = (pred * target).sum(dim=(1, 2)) / (pred * pred).sum(dim=(1, 2)).clamp_min(1e-12)
    return _joint_error(pred * scale[:, None, None], target, reduction)


def procrustes(
    a: torch.Tensor, b: torch.Tensor, *, scaling: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Best similarity transform taking point sets ``a`` onto ``b`` (both (B, J, 3)).

    Returns ``(scale (B,), rotation (B, 3, 3), translation (B, 3))`` minimising
    ``sum_j ||scale * rotation @ a_j + translation - b_j||^2`` with ``det(rotation) = +1``
    (no reflections: see the module docstring). With ``scaling=False`` the scale is 1.
    """
    check_shape("a", a, ("B", "J", 3))
    check_shape("b", b, (a.shape[0], a.shape[1], 3))
    mu_a, mu_b = a.mean(dim=1, keepdim=True), b.mean(dim=1, keepdim=True)
    a0, b0 = a - mu_a, b - mu_b
    cov = b0.transpose(1, 2) @ a0  # (B, 3, 3) = sum_j b_j a_j^T
    u, s, vh = torch.linalg.svd(cov)
    d = torch.sign(torch.det(u @ vh))
    d = torch.where(d == 0, torch.ones_like(d), d)
    fix = torch.ones_like(s)
    fix[:, -1] = d
    rotation = u @ torch.diag_embed(fix) @ vh
    if scaling:
        scale = (s * fix).sum(dim=1) / (a0 * a0).sum(dim=(1, 2)).clamp_min(1e-12)
    else:
        scale = torch.ones_like(s[:, 0])
    translation = mu_b[:, 0] - scale[:, None] * (mu_a @ rotation.transpose(1, 2))[:, 0]
    return scale, rotation, translation


def apply_similarity(
    points: torch.Tensor, scale: torch.Tensor, rotation: torch.Tensor, translation: torch.Tensor
) -> torch.Tensor:
    """``scale * rotation @ p + translation`` for points (B, J, 3), scale (B,), rotation
    (B, 3, 3), translation (B, 3)."""
    check_shape("points", points, ("B", "J", 3))
    return scale[:, None, None] * points @ rotation.transpose(1, 2) + translation[:, None]


def p_mpjpe(
    pred: torch.Tensor, target: torch.Tensor, *, reduction: Reduction = "mean"
) -> torch.Tensor:
    """MPJPE in mm after the Procrustes similarity alignment of ``pred`` to ``target``."""
    _pair(pred, target)
    aligned = apply_similarity(pred, *procrustes(pred, target))
    return _joint_error(aligned, target, reduction)


def torso_aligned_error(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    root: int = 0,
    left_hip: int = 4,
    right_hip: int = 1,
    up: int = 1,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """AIGN Sec. 3.1 reconstruction error (Tables 1-2) in mm: per-joint error after each
    skeleton's torso is aligned to face the front (:func:`face_front`)."""
    _pair(pred, target)
    kw = {"root": root, "left_hip": left_hip, "right_hip": right_hip, "up": up}
    return _joint_error(face_front(pred, **kw), face_front(target, **kw), reduction)
