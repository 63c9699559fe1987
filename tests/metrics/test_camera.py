from __future__ import annotations

import math

import pytest
import torch

from unpaired.geometry import euler_to_matrix
from unpaired.metrics.camera import (
    ate_5frame,
    camera_errors,
    camera_metrics,
    snippet_ate,
    snippet_positions,
)


def test_table3_errors_hand_values() -> None:
    rot = euler_to_matrix(torch.tensor([[0.0, 0.0, 0.1], [0.0, 0.0, 0.0]]))
    true_rot = torch.eye(3).expand(2, 3, 3)
    trans = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    true_trans = torch.tensor([[0.0, 4.0, 0.0], [0.0, 0.0, -1.0]])
    e = camera_errors(rot, trans, true_rot, true_trans)
    torch.testing.assert_close(e["trl_err"], torch.tensor([5.0, 1.0]))
    torch.testing.assert_close(e["rot_err"], torch.tensor([0.1, 0.0]))
    torch.testing.assert_close(e["trl_mag"], torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(e["trl_ang"], torch.tensor([math.pi / 2, 0.0]))
    m = camera_metrics(rot, trans, true_rot, true_trans)
    assert m["trl_err"] == pytest.approx(3.0) and m["trl_ang"] == pytest.approx(math.pi / 4)


def test_zero_translation_angle_is_skipped() -> None:
    eye = torch.eye(3)[None]
    e = camera_errors(eye, torch.zeros(1, 3), eye, torch.tensor([[0.0, 0.0, 1.0]]))
    assert torch.isnan(e["trl_ang"]).all()
    assert math.isnan(
        camera_metrics(eye, torch.zeros(1, 3), eye, torch.tensor([[0.0, 0.0, 1.0]]))["trl_ang"]
    )


def test_snippet_positions_chain_motions() -> None:
    # The camera moves 1 m forward per frame: X2 = X1 + (0, 0, -1).
    rot = torch.eye(3).expand(1, 4, 3, 3)
    trans = torch.tensor([0.0, 0.0, -1.0]).expand(1, 4, 3)
    pos = snippet_positions(rot, trans)
    torch.testing.assert_close(pos[0, :, 2], torch.arange(5.0))
    # Turn 90 degrees right (about y, y down), then drive 1 m forward: the camera ends at
    # x = +1 in frame-1 coordinates.
    turn = euler_to_matrix(torch.tensor([0.0, math.pi / 2, 0.0], dtype=torch.float64))
    # Camera 2's axes in frame 1: R_c = Ry(90); motion X2 = R_c^T X1.
    rot = torch.stack([turn.T, torch.eye(3, dtype=torch.float64)])[None]
    trans = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0]], dtype=torch.float64)[None]
    pos = snippet_positions(rot, trans)
    torch.testing.assert_close(pos[0, 2], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_snippet_ate_hand_value_and_scale_invariance() -> None:
    true = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0]]])
    pred = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]]])
    # scale = (1 + 6) / (1 + 4) = 1.4; errors 0.4 and -0.2: sqrt(0.2) / 3.
    torch.testing.assert_close(snippet_ate(pred, true), torch.tensor([math.sqrt(0.2) / 3]))
    torch.testing.assert_close(snippet_ate(true * 0.37, true), torch.zeros(1), atol=1e-7, rtol=0)


def test_ate_5frame_of_scaled_truth_is_zero_and_of_noise_is_not() -> None:
    torch.manual_seed(0)
    rot = euler_to_matrix(0.01 * torch.randn(9, 3))
    trans = torch.tensor([0.0, 0.0, -1.0]) + 0.05 * torch.randn(9, 3)
    assert ate_5frame(rot, 2.5 * trans, rot, trans).item() == pytest.approx(0.0, abs=1e-6)
    noisy = trans + 0.3 * torch.randn(9, 3)
    assert ate_5frame(rot, noisy, rot, trans).item() > 0.02
    with pytest.raises(ValueError, match="at least 4"):
        ate_5frame(rot[:3], trans[:3], rot[:3], trans[:3])
