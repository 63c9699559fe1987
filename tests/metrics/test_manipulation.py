from __future__ import annotations

import math

import pytest
import torch

from unpaired.metrics.manipulation import (
    acc,
    central_moments,
    kde_js,
    manipulation_scores,
    measure_rotation,
    measure_size,
    pearson,
    v_rest,
)


def _bar(angle_deg: float, length: float = 16.0, width: float = 2.0, n: int = 64) -> torch.Tensor:
    """A thin bar rotated counter-clockwise on screen, supersampled (n x n)."""
    t = (torch.arange(n) + 0.5) - n / 2
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    a = math.radians(angle_deg)
    along = -math.sin(a) * xx - math.cos(a) * yy  # screen "up" rotated by a
    across = math.cos(a) * xx - math.sin(a) * yy
    return ((along.abs() <= length / 2) & (across.abs() <= width / 2)).float()[None, None]


def test_central_moments_of_a_hand_computed_image() -> None:
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 1, 1] = 1
    x[0, 0, 3, 3] = 1  # two points on the diagonal: centre (2, 2)
    mu20, mu02, mu11 = central_moments(x)
    assert float(mu20) == 1 and float(mu02) == 1 and float(mu11) == 1


@pytest.mark.parametrize("angle", [-60.0, -30.0, 0.0, 15.0, 45.0, 80.0])
def test_rotation_of_a_bar(angle: float) -> None:
    assert abs(float(measure_rotation(_bar(angle))) - angle) < 1.0


def test_rotation_wraps_to_half_open_interval() -> None:
    r = measure_rotation(torch.cat([_bar(89.0), _bar(-89.0), _bar(95.0)]))
    assert (r >= -90).all() and (r < 90).all()
    assert abs(float(r[2]) - (-85.0)) < 1.0  # an axis has no direction: 95 is -85


def test_size_of_a_bar_is_its_length_over_sqrt3_frame() -> None:
    for length in (16.0, 32.0):
        for angle in (0.0, 40.0):
            got = float(measure_size(_bar(angle, length=length)))
            assert abs(got - length / math.sqrt(3) / 64) < 0.01


def test_pearson_and_acc_hand_cases() -> None:
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert float(pearson(a, 2 * a + 1)) == pytest.approx(1.0)
    assert float(pearson(a, -a)) == pytest.approx(-1.0)
    assert float(pearson(a, torch.tensor([1.0, -1.0, -1.0, 1.0]))) == pytest.approx(0.0)
    assert float(pearson(a, torch.ones(4))) == 0.0
    assert acc(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 4])) == 0.75


def test_v_rest_is_the_pixel_std_over_references() -> None:
    out = torch.zeros(2, 2, 1, 1, 2)
    out[0, 1] = 1.0  # input 0: outputs 0 and 1 at every pixel -> std 0.5
    assert v_rest(out) == pytest.approx(0.25)  # input 1 identical outputs -> 0
    with pytest.raises(ValueError, match="K >= 2"):
        v_rest(out[:, :1])


def test_kde_js_bounds() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, generator=g)
    assert kde_js(a, a) == pytest.approx(0.0, abs=1e-9)
    close = kde_js(a, torch.randn(2000, generator=g))
    far = kde_js(a, torch.randn(2000, generator=g) + 20)
    assert close < 0.01 and far == pytest.approx(math.log(2), abs=1e-3)
    with pytest.raises(ValueError, match="1-D"):
        kde_js(a[:1], a)


def test_manipulation_scores_follow_the_reference_or_not() -> None:
    angles = torch.linspace(-40, 40, 9)
    ref = torch.cat([_bar(float(t), length=10 + i) for i, t in enumerate(angles)])
    follows = torch.cat([_bar(float(t), length=20.0) for t in angles])  # AoI copied, size kept
    s = manipulation_scores("rotation", ref, follows)
    assert s["r_attr"] > 0.99 and s["r_rest"] < 0.3
    s = manipulation_scores("size", ref, follows)
    assert s["r_rest"] > 0.99  # as a size task, the output followed the rest
    with pytest.raises(ValueError, match="aoi"):
        manipulation_scores("stroke", ref, follows)
