from __future__ import annotations

import math

import pytest
import torch

from unpaired.metrics.depth import DEPTH_METRICS, depth_errors, depth_metrics


def _img(values: list[float]) -> torch.Tensor:
    return torch.tensor(values).view(1, 1, 1, -1)


def test_hand_values() -> None:
    pred, true = _img([1.0, 2.0, 7.0]), _img([2.0, 2.0, 4.0])
    m = depth_metrics(pred, true)
    ln2, ln175 = math.log(2), math.log(1.75)
    assert m["log_l1"] == pytest.approx((ln2 + ln175) / 3)
    assert m["abs_rel"] == pytest.approx((0.5 + 0 + 0.75) / 3)
    assert m["sq_rel"] == pytest.approx((1 / 2 + 0 + 9 / 4) / 3)
    assert m["rmse"] == pytest.approx(math.sqrt((1 + 0 + 9) / 3))
    assert m["log_rmse"] == pytest.approx(math.sqrt((ln2**2 + ln175**2) / 3))
    assert m["delta1"] == pytest.approx(1 / 3)  # ratios 2, 1, 1.75 against 1.25
    assert m["delta2"] == pytest.approx(1 / 3)  # against 1.5625
    assert m["delta3"] == pytest.approx(2 / 3)  # against 1.953
    assert set(m) == set(DEPTH_METRICS)


def test_median_scaling_removes_a_global_scale() -> None:
    true = torch.rand(2, 1, 4, 5) * 20 + 1
    pred = 3.0 * true
    assert depth_metrics(pred, true)["log_l1"] == pytest.approx(math.log(3), rel=1e-5)
    scaled = depth_metrics(pred, true, median_scaling=True)
    assert scaled["log_l1"] == pytest.approx(0.0, abs=1e-5) and scaled["delta1"] == 1.0


def test_validity_cap_mask_and_per_image_mean() -> None:
    true = torch.tensor([[2.0, 100.0, 0.0], [4.0, 4.0, 4.0]]).view(2, 1, 1, 3)
    pred = torch.tensor([[2.0, 1.0, 5.0], [8.0, 8.0, 4.0]]).view(2, 1, 1, 3)
    e = depth_errors(pred, true)  # image 0: only the first pixel counts (100 > 80, 0 unknown)
    torch.testing.assert_close(e["abs_rel"], torch.tensor([0.0, 2 / 3]))
    mask = torch.tensor([[True, True, True], [False, False, True]]).view(2, 1, 1, 3)
    assert depth_metrics(pred, true, mask=mask)["abs_rel"] == 0.0
    empty = depth_errors(pred, true, mask=torch.zeros_like(mask))
    assert torch.isnan(empty["rmse"]).all()
    # Predictions are clamped to the range before scoring.
    clamped = depth_errors(_img([1000.0]), _img([50.0]))
    assert clamped["abs_rel"].item() == pytest.approx(30 / 50)
