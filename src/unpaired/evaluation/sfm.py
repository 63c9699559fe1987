"""Reference baselines of the SfM experiments that need no training (AIGN Table 3).

* :func:`geometric_baseline`: the classical answer, an essential matrix from Farneback
  flow (5-point RANSAC), which knows the translation only up to scale;
* :func:`constant_motion_metrics` with :func:`mean_motion`: one motion guessed for every
  pair (the mean training motion, or "straight ahead at the true speed").
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape
from unpaired.data.flow import PairSet
from unpaired.geometry import euler_to_matrix
from unpaired.metrics.camera import ate_5frame, camera_metrics
from unpaired.models.geometric import essential_motion, with_magnitude


def geometric_baseline(pairs: PairSet) -> tuple[dict[str, float], dict[str, float], int]:
    """The essential-matrix baseline on the pairs' Farneback flow (RANSAC, 5-point).

    Returns the scale-free metrics (``rot_err``, ``trl_ang``), the metrics with the true
    translation magnitude supplied by an oracle (every column of
    :func:`~unpaired.metrics.camera.camera_metrics`, plus ``ate5`` when every estimate
    succeeded; ``trl_mag`` is 0 by construction) and the number of pairs where the
    estimate failed (NaN directions, skipped by the means).
    """
    est = essential_motion(pairs.flow, pairs.intrinsics)
    scaled = with_magnitude(est.direction, pairs.translation.norm(dim=1))
    oracle = camera_metrics(est.rotation, scaled, pairs.rotation, pairs.translation)
    usable = est.ok
    if usable.sum() >= 4 and bool(usable.all()):
        oracle["ate5"] = float(ate_5frame(est.rotation, scaled, pairs.rotation, pairs.translation))
    free = {"rot_err": oracle["rot_err"], "trl_ang": oracle["trl_ang"]}
    return free, oracle, int((~est.ok).sum())


def constant_motion_metrics(
    rotation: torch.Tensor, translation: torch.Tensor, pairs: PairSet
) -> dict[str, float]:
    """Table 3 metrics (and 5-frame ATE) of one motion (3, 3), (3,) guessed for every pair,
    or of per-pair guesses (N, 3, 3), (N, 3)."""
    n = len(pairs)
    rot = rotation.expand(n, 3, 3) if rotation.dim() == 2 else rotation
    trans = translation.expand(n, 3) if translation.dim() == 1 else translation
    out = camera_metrics(rot, trans, pairs.rotation, pairs.translation)
    out["ate5"] = float(ate_5frame(rot, trans, pairs.rotation, pairs.translation))
    return out


def mean_motion(motions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean rotation (3, 3) and translation (3,) of motion vectors (N, 6) (Euler angles
    and translation; the angles are averaged, which is fine for small rotations)."""
    check_shape("motions", motions, ("N", 6))
    m = motions.mean(0)
    return euler_to_matrix(m[:3]), m[3:]


def straight_ahead(pairs: PairSet) -> tuple[torch.Tensor, torch.Tensor]:
    """The "straight ahead at the true speed" guess: identity rotations (3, 3) and
    translations (N, 3) of the true length along -z (the camera moving forward, so the
    scene moves towards it). An ORACLE baseline: it knows every pair's speed."""
    straight = torch.zeros_like(pairs.translation)
    straight[:, 2] = -pairs.translation.norm(dim=1)
    return torch.eye(3), straight
