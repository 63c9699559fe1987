from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from unpaired.geometry import euler_to_matrix, matrix_to_euler, rotation_angle


def test_single_axis_rotations_match_right_hand_rule() -> None:
    q = math.pi / 2
    rx = euler_to_matrix(torch.tensor([q, 0.0, 0.0]))
    ry = euler_to_matrix(torch.tensor([0.0, q, 0.0]))
    rz = euler_to_matrix(torch.tensor([0.0, 0.0, q]))
    ex, ey, ez = torch.eye(3)
    torch.testing.assert_close(rx @ ey, ez, atol=1e-6, rtol=0)  # y -> z about x
    torch.testing.assert_close(ry @ ez, ex, atol=1e-6, rtol=0)  # z -> x about y
    torch.testing.assert_close(rz @ ex, ey, atol=1e-6, rtol=0)  # x -> y about z


def test_composition_order_is_x_then_y_then_z() -> None:
    a = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
    zero = torch.zeros((), dtype=torch.float64)
    rx = euler_to_matrix(torch.stack([a[0], zero, zero]))
    ry = euler_to_matrix(torch.stack([zero, a[1], zero]))
    rz = euler_to_matrix(torch.stack([zero, zero, a[2]]))
    torch.testing.assert_close(euler_to_matrix(a), rx @ ry @ rz)


@settings(max_examples=60, deadline=None)
@given(st.floats(-3.1, 3.1), st.floats(-1.5, 1.5), st.floats(-3.1, 3.1))
def test_euler_round_trip(alpha: float, beta: float, gamma: float) -> None:
    angles = torch.tensor([alpha, beta, gamma], dtype=torch.float64)
    r = euler_to_matrix(angles)
    torch.testing.assert_close(r @ r.T, torch.eye(3, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.det(r), torch.tensor(1.0, dtype=torch.float64))
    back = matrix_to_euler(r)
    torch.testing.assert_close(euler_to_matrix(back), r, atol=1e-9, rtol=0)


def test_gimbal_lock_still_reconstructs_matrix() -> None:
    r = euler_to_matrix(torch.tensor([0.4, math.pi / 2, -0.2], dtype=torch.float64))
    torch.testing.assert_close(euler_to_matrix(matrix_to_euler(r)), r, atol=1e-9, rtol=0)


def test_rotation_angle_matches_axis_angle() -> None:
    for t in (0.0, 1e-4, 0.5, 2.0, math.pi - 1e-3):
        r = euler_to_matrix(torch.tensor([0.0, 0.0, t], dtype=torch.float64))
        assert abs(rotation_angle(r).item() - t) < 1e-9


def test_batched_shapes_and_bad_shape() -> None:
    assert euler_to_matrix(torch.zeros(4, 5, 3)).shape == (4, 5, 3, 3)
    try:
        euler_to_matrix(torch.zeros(4, 2))
    except ValueError as e:
        assert "angles" in str(e)
    else:
        raise AssertionError("expected ValueError")
