"""Camera-motion errors (AIGN paper, Sec. 3.2 and Table 3) and 5-frame ATE.

Relative motions follow the library convention ``X2 = R X1 + T`` (camera-1 coordinates
to camera-2 coordinates; see :mod:`unpaired.data.rgbd`).

Table 3 columns, per frame pair, then averaged:

* ``trl_err``: translation end-point error ``||T_hat - T||`` (metres);
* ``rot_err``: rotation angle of ``R_hat^T R`` (radians);
* ``trl_mag``: translation magnitude error ``| ||T_hat|| - ||T|| |`` (metres);
* ``trl_ang``: angle between ``T_hat`` and ``T`` (radians; NaN when either is zero).

5-frame ATE follows Zhou et al. 2017 ("Unsupervised learning of depth and ego-motion
from video", their ``compute_ate``): on each snippet, camera positions of both
trajectories are expressed in the snippet's first camera frame, the predicted positions
are scaled by the least-squares factor ``s = <p_true, p_pred> / <p_pred, p_pred>``, and
the error is ``sqrt(sum_k ||s p_pred_k - p_true_k||^2) / K`` with ``K`` the number of
frames (5). That is their formula, kept for comparability, although it is not a root
*mean* square.

Whole-trajectory ATE (:func:`trajectory_ate`, Sturm et al. 2012's ``evaluate_ate``
with a scale, as is usual for monocular methods): camera positions of both trajectories
composed from the relative motions, the prediction aligned to the truth by the best
similarity transform (Umeyama 1991: scale, rotation, translation;
:func:`unpaired.metrics.pose.procrustes`), then the RMSE of the position differences.
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape
from unpaired.geometry import rotation_angle
from unpaired.metrics.pose import apply_similarity, procrustes


def _angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cross = torch.linalg.cross(a, b, dim=-1).norm(dim=-1)
    dot = (a * b).sum(-1)
    angle = torch.atan2(cross, dot)
    degenerate = (a.norm(dim=-1) == 0) | (b.norm(dim=-1) == 0)
    return torch.where(degenerate, torch.full_like(angle, torch.nan), angle)


def camera_errors(
    rotation: torch.Tensor,
    translation: torch.Tensor,
    true_rotation: torch.Tensor,
    true_translation: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Per-pair Table 3 errors: rotations (B, 3, 3), translations (B, 3) -> dict of (B,)."""
    check_shape("rotation", rotation, ("B", 3, 3))
    b = rotation.shape[0]
    check_shape("translation", translation, (b, 3))
    check_shape("true_rotation", true_rotation, (b, 3, 3))
    check_shape("true_translation", true_translation, (b, 3))
    return {
        "trl_err": (translation - true_translation).norm(dim=-1),
        "rot_err": rotation_angle(rotation.transpose(-1, -2) @ true_rotation),
        "trl_mag": (translation.norm(dim=-1) - true_translation.norm(dim=-1)).abs(),
        "trl_ang": _angle_between(translation, true_translation),
    }


def camera_metrics(
    rotation: torch.Tensor,
    translation: torch.Tensor,
    true_rotation: torch.Tensor,
    true_translation: torch.Tensor,
) -> dict[str, float]:
    """Table 3 errors averaged over pairs (NaN angles, from zero translations, skipped)."""
    errors = camera_errors(rotation, translation, true_rotation, true_translation)
    return {k: float(v.nanmean()) for k, v in errors.items()}


def snippet_positions(rotations: torch.Tensor, translations: torch.Tensor) -> torch.Tensor:
    """Camera centres of a snippet in its first camera's frame.

    rotations (B, K-1, 3, 3), translations (B, K-1, 3): consecutive relative motions
    (frame k -> k+1, ``X_{k+1} = R X_k + T``). Returns positions (B, K, 3), the first at
    the origin.
    """
    check_shape("rotations", rotations, ("B", "K", 3, 3))
    b, k = rotations.shape[:2]
    check_shape("translations", translations, (b, k, 3))
    # Pose of camera j in frame 1: X_1 = A_j X_j + c_j, starting from the identity.
    a = torch.eye(3, dtype=rotations.dtype, device=rotations.device).expand(b, 3, 3)
    c = torch.zeros(b, 3, dtype=rotations.dtype, device=rotations.device)
    positions = [c]
    for j in range(k):
        # X_j = R^T (X_{j+1} - T)  =>  X_1 = A R^T X_{j+1} + (c - A R^T T).
        rt = rotations[:, j].transpose(-1, -2)
        c = c - (a @ rt @ translations[:, j, :, None])[..., 0]
        a = a @ rt
        positions.append(c)
    return torch.stack(positions, 1)


def snippet_ate(positions: torch.Tensor, true_positions: torch.Tensor) -> torch.Tensor:
    """Zhou et al. 2017 ATE of each snippet: positions (B, K, 3) -> (B,) metres.

    Both trajectories are first shifted so their first positions coincide, then the
    prediction is scaled by the least-squares factor (see the module docstring).
    """
    check_shape("positions", positions, ("B", "K", 3))
    check_shape("true_positions", true_positions, tuple(positions.shape))
    pred = positions - positions[:, :1] + true_positions[:, :1]
    scale = (true_positions * pred).sum((1, 2)) / (pred**2).sum((1, 2)).clamp_min(1e-12)
    err = pred * scale[:, None, None] - true_positions
    return err.pow(2).sum((1, 2)).sqrt() / positions.shape[1]


def ate_5frame(
    rotation: torch.Tensor,
    translation: torch.Tensor,
    true_rotation: torch.Tensor,
    true_translation: torch.Tensor,
    *,
    snippet: int = 5,
) -> torch.Tensor:
    """Mean ATE over all overlapping ``snippet``-frame windows of one sequence.

    rotation (B, 3, 3), translation (B, 3): predicted consecutive relative motions of a
    sequence of B + 1 frames (pair t is frames t -> t+1); true_* likewise. Returns a
    scalar (metres). Windows start at every frame (as in Zhou et al.'s test snippets).
    """
    check_shape("rotation", rotation, ("B", 3, 3))
    b = rotation.shape[0]
    check_shape("translation", translation, (b, 3))
    check_shape("true_rotation", true_rotation, (b, 3, 3))
    check_shape("true_translation", true_translation, (b, 3))
    n = snippet - 1
    if b < n:
        raise ValueError(
            f"need at least {n} consecutive pairs for {snippet}-frame snippets, got {b}"
        )
    idx = torch.arange(b - n + 1)[:, None] + torch.arange(n)[None]
    pred = snippet_positions(rotation[idx], translation[idx])
    true = snippet_positions(true_rotation[idx], true_translation[idx])
    return snippet_ate(pred, true).mean()


def trajectory_ate(
    rotation: torch.Tensor,
    translation: torch.Tensor,
    true_rotation: torch.Tensor,
    true_translation: torch.Tensor,
) -> dict[str, float]:
    """ATE of a whole sequence after similarity (Umeyama) alignment.

    rotation (B, 3, 3), translation (B, 3): the predicted consecutive relative motions of
    B + 1 frames; true_* likewise. Returns ``ate`` (RMSE of the aligned camera positions,
    metres), ``ate_scale`` (the alignment's scale: 1 when the predicted speed is right)
    and ``ate_unscaled`` (the same RMSE after a rigid alignment, scale 1).

    Example:
        >>> from unpaired.geometry import euler_to_matrix
        >>> r = euler_to_matrix(torch.tensor([[0.0, 0.1, 0.0]] * 4, dtype=torch.float64))
        >>> t = torch.tensor([[0.0, 0.0, -1.0]] * 4, dtype=torch.float64)
        >>> m = trajectory_ate(r, 0.5 * t, r, t)  # right path, half the speed
        >>> round(m["ate"], 9), round(m["ate_scale"], 6), m["ate_unscaled"] > 0.5
        (0.0, 2.0, True)
    """
    check_shape("rotation", rotation, ("B", 3, 3))
    b = rotation.shape[0]
    check_shape("translation", translation, (b, 3))
    check_shape("true_rotation", true_rotation, (b, 3, 3))
    check_shape("true_translation", true_translation, (b, 3))
    pred = snippet_positions(rotation[None].double(), translation[None].double())
    true = snippet_positions(true_rotation[None].double(), true_translation[None].double())
    out = {}
    for key, scaling in (("ate", True), ("ate_unscaled", False)):
        scale, rot, shift = procrustes(pred, true, scaling=scaling)
        aligned = apply_similarity(pred, scale, rot, shift)
        out[key] = float((aligned - true).pow(2).sum(-1).mean().sqrt())
        if scaling:
            out["ate_scale"] = float(scale[0])
    return out
