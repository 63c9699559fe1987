"""Multi-view pose metrics against metrics/pose.py and hand-computed cases."""

from __future__ import annotations

import pytest
import torch

from unpaired.metrics.pose import p_mpjpe
from unpaired.multiview.evaluate import (
    in_camera,
    mpjpe_centred,
    nmpjpe,
    pmpjpe,
    pose_scores,
)
from unpaired.multiview.weak import rot6d_to_matrix


def _pose(seed: int = 0, n: int = 3) -> torch.Tensor:
    return torch.randn(n, 17, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_pmpjpe_matches_the_library_and_forgives_reflections_only_when_asked() -> None:
    target, pred = _pose(0), _pose(1)
    assert torch.allclose(
        pmpjpe(pred, target, reflections=False), p_mpjpe(pred, target, reduction="none")
    )
    assert bool((pmpjpe(pred, target) <= pmpjpe(pred, target, reflections=False) + 1e-9).all())
    mirror = -target  # a point reflection: improper
    assert float(pmpjpe(mirror, target).max()) < 1e-6
    assert float(pmpjpe(mirror, target, reflections=False).min()) > 1.0
    rot = rot6d_to_matrix(torch.randn(3, 6, dtype=torch.float64))
    similar = 2.5 * target @ rot.transpose(-1, -2) + 0.3
    assert float(pmpjpe(similar, target, reflections=False).max()) < 1e-6


def test_nmpjpe_hand_computed_case() -> None:
    # two joints at (+-1, 0, 0) m; prediction at (+-1, 0, 0) * 5 shifted and one joint off
    target = torch.tensor([[[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]])
    assert float(nmpjpe(5 * target + 2.0, target)) == pytest.approx(0.0, abs=1e-9)
    pred = torch.tensor([[[1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]]])
    # centred already; scale = ||t|| / ||p|| = sqrt(2)/2; scaled p = (+-1/sqrt2, +-1/sqrt2)
    # error per joint = |(1/sqrt2 - 1, 1/sqrt2)| = sqrt(2 - sqrt2) m
    expected = (2 - 2**0.5) ** 0.5 * 1000
    assert float(nmpjpe(pred, target)) == pytest.approx(expected)
    deep = torch.tensor([[[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]])
    assert float(nmpjpe(-deep, deep)) == pytest.approx(0.0, abs=1e-9)  # z -> -z forgiven
    assert float(nmpjpe(-deep, deep, flip_depth=False)) == pytest.approx(2000.0)


def test_scores_rotate_the_prediction_by_the_methods_reference_camera() -> None:
    target = _pose(2)
    rot = rot6d_to_matrix(torch.randn(3, 6, dtype=torch.float64))
    in_method_frame = target @ rot  # = R^T applied: in_camera(., rot) gives the target
    assert torch.allclose(in_camera(in_method_frame, rot), target)
    scores = pose_scores(in_method_frame, rot, target)
    for key in ("pmpjpe", "pmpjpe_proper", "nmpjpe", "mpjpe"):
        assert float(scores[key].max()) < 1e-6, key
    scores = pose_scores(in_method_frame + 0.1, rot, target)
    assert float(scores["mpjpe"].min()) == pytest.approx(0.0, abs=1e-6)  # root-centred
    wrong = pose_scores(in_method_frame, torch.eye(3, dtype=torch.float64).expand(3, 3, 3), target)
    assert float(wrong["nmpjpe"].min()) > 1.0 and float(wrong["pmpjpe"].max()) < 1e-6


def test_mpjpe_centred_and_reduction() -> None:
    target = _pose(3)
    pred = target + torch.tensor([0.0, 0.0, 0.01], dtype=torch.float64)
    assert float(mpjpe_centred(pred, target, reduction="mean")) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="reduction"):
        pmpjpe(pred, target, reduction="sum")  # type: ignore[arg-type]
