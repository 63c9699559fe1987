from __future__ import annotations

import pytest
import torch

from unpaired.data.synthetic.scenes import render_sequence
from unpaired.geometry import rotation_angle
from unpaired.metrics.camera import camera_errors
from unpaired.models.geometric import essential_motion, with_magnitude
from unpaired.renderers.rigid_warp import rigid_flow


@pytest.fixture(scope="module")
def pairs():
    return render_sequence(6, n_frames=4, height=64, width=192).pairs()


def test_true_flow_gives_the_true_motion(pairs) -> None:
    flow, valid = rigid_flow(pairs.depth1, pairs.rotation, pairs.translation, pairs.intrinsics)
    est = essential_motion(flow, pairs.intrinsics, mask=valid)
    assert est.ok.all() and (est.inliers > 0.95).all()
    torch.testing.assert_close(est.direction.norm(dim=1), torch.ones(len(pairs)))
    scaled = with_magnitude(est.direction, pairs.translation.norm(dim=1))
    errors = camera_errors(est.rotation, scaled, pairs.rotation, pairs.translation)
    assert errors["trl_ang"].max() < 0.02
    assert errors["rot_err"].max() < 0.002
    assert errors["trl_mag"].max() < 1e-5  # oracle scale
    # A wrong sign of the direction would be an angle of pi; the cheirality check avoids it.
    wrong = camera_errors(est.rotation, -scaled, pairs.rotation, pairs.translation)
    assert wrong["trl_ang"].min() > 3.0


def test_failures_are_flagged_not_raised(pairs) -> None:
    flow = torch.zeros(1, 2, 64, 192)
    mask = torch.zeros(1, 1, 64, 192, dtype=torch.bool)
    mask[0, 0, 0, :8] = True  # two correspondences at stride 4: too few
    est = essential_motion(flow, pairs.intrinsics[0], mask=mask)
    assert not est.ok.any()
    assert torch.isnan(est.direction).all()
    torch.testing.assert_close(rotation_angle(est.rotation), torch.zeros(1))
