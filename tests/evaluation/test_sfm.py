"""evaluation.sfm: the training-free baselines of Table 3."""

from __future__ import annotations

import math

import pytest
import torch

from unpaired.data.synthetic.scenes import street_pair_set
from unpaired.evaluation import (
    constant_motion_metrics,
    geometric_baseline,
    mean_motion,
    straight_ahead,
)


@pytest.fixture(scope="module")
def pairs():
    return street_pair_set([3], n_frames=7, height=32, width=96)


def test_the_true_motions_score_zero_and_a_constant_guess_does_not(pairs) -> None:
    true = constant_motion_metrics(pairs.rotation, pairs.translation, pairs)
    assert true["trl_err"] < 1e-6 and true["rot_err"] < 1e-3 and true["ate5"] < 1e-5
    rot, trans = mean_motion(pairs.motion)
    assert rot.shape == (3, 3) and trans.shape == (3,)
    torch.testing.assert_close(trans, pairs.translation.mean(0))
    guess = constant_motion_metrics(rot, trans, pairs)
    assert set(guess) == set(true) and guess["trl_err"] > true["trl_err"]
    eye, straight = straight_ahead(pairs)
    assert torch.equal(eye, torch.eye(3))
    torch.testing.assert_close(straight.norm(dim=1), pairs.translation.norm(dim=1))
    oracle = constant_motion_metrics(eye, straight, pairs)
    assert oracle["trl_mag"] < 1e-6  # right speeds by construction


def test_geometric_baseline_is_scale_free_with_an_oracle_row(pairs) -> None:
    free, oracle, failed = geometric_baseline(pairs)
    assert set(free) == {"rot_err", "trl_ang"} and 0 <= failed <= len(pairs)
    assert oracle["trl_mag"] < 1e-5  # the oracle supplies the true magnitudes
    assert free["rot_err"] == oracle["rot_err"] and math.isfinite(free["trl_ang"])
    assert free["trl_ang"] < 0.5  # Farneback flow on the street: a usable direction
