from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from unpaired.geometry import euler_to_matrix
from unpaired.metrics.pose import (
    apply_similarity,
    face_front,
    mpjpe,
    n_mpjpe,
    p_mpjpe,
    procrustes,
    torso_aligned_error,
)


def two_joint(points: list[list[float]]) -> torch.Tensor:
    return torch.tensor([points], dtype=torch.float64)


def test_mpjpe_hand_computed() -> None:
    target = two_joint([[0, 0, 0], [1, 0, 0]])
    pred = two_joint([[0, 0, 0.003], [1, 0.004, 0]])  # errors 3 mm and 4 mm
    torch.testing.assert_close(mpjpe(pred, target), torch.tensor(3.5, dtype=torch.float64))
    # both shifted by 1 cm: 10 mm raw, 0 after root centring
    shifted = target + torch.tensor([0.01, 0, 0], dtype=torch.float64)
    torch.testing.assert_close(mpjpe(shifted, target), torch.tensor(10.0, dtype=torch.float64))
    torch.testing.assert_close(
        mpjpe(shifted, target, root=0), torch.tensor(0.0, dtype=torch.float64)
    )
    batch = torch.cat([pred, shifted])
    torch.testing.assert_close(
        mpjpe(batch, target.expand(2, 2, 3), reduction="none"),
        torch.tensor([3.5, 10.0], dtype=torch.float64),
    )


def test_n_mpjpe_hand_computed() -> None:
    target = two_joint([[0, 0, 0], [1, 0, 0]])
    # a pose at twice the size is fixed by the optimal scale 0.5
    torch.testing.assert_close(n_mpjpe(2 * target, target), torch.tensor(0.0, dtype=torch.float64))
    # pred = (0,0,0),(0,1,0): <p,t> = 0 -> scale 0 -> error (0 + 1 m) / 2 = 500 mm
    pred = two_joint([[0, 0, 0], [0, 1, 0]])
    torch.testing.assert_close(n_mpjpe(pred, target), torch.tensor(500.0, dtype=torch.float64))


def test_p_mpjpe_hand_computed_and_no_reflection() -> None:
    # Procrustes can fix rotation + scale + translation of a square exactly.
    square = two_joint([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    moved = 3 * square @ euler_to_matrix(torch.tensor([0.3, 1.0, -2.0], dtype=torch.float64)).T + 5
    torch.testing.assert_close(
        p_mpjpe(moved, square), torch.tensor(0.0, dtype=torch.float64), atol=1e-9, rtol=0
    )
    # A mirrored tetrahedron cannot be rotated back: the error stays > 0.
    tet = two_joint([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    mirrored = tet * torch.tensor([-1.0, 1, 1], dtype=torch.float64)
    _, rotation, _ = procrustes(mirrored, tet)
    torch.testing.assert_close(torch.det(rotation), torch.ones(1, dtype=torch.float64))
    assert p_mpjpe(mirrored, tet).item() > 100.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_procrustes_recovers_known_similarity(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(4, 17, 3, generator=g, dtype=torch.float64)
    rotation = euler_to_matrix(torch.randn(4, 3, generator=g, dtype=torch.float64) * 3)
    scale = torch.rand(4, generator=g, dtype=torch.float64) * 2 + 0.2
    translation = torch.randn(4, 3, generator=g, dtype=torch.float64)
    b = apply_similarity(a, scale, rotation, translation)
    s, r, t = procrustes(a, b)
    torch.testing.assert_close(s, scale)
    torch.testing.assert_close(r, rotation)
    torch.testing.assert_close(t, translation)
    s1, _, _ = procrustes(a, b, scaling=False)
    torch.testing.assert_close(s1, torch.ones(4, dtype=torch.float64))


def hips_pose(yaw: float, offset: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> torch.Tensor:
    """17 joints: pelvis at offset, r_hip/l_hip at -/+x, head 0.7 m up, turned by yaw."""
    pose = torch.zeros(17, 3, dtype=torch.float64)
    pose[1] = torch.tensor([-0.1, 0, 0])
    pose[4] = torch.tensor([0.1, 0, 0])
    pose[10] = torch.tensor([0.0, 0.7, 0.05])
    rot = euler_to_matrix(torch.tensor([0.0, yaw, 0.0], dtype=torch.float64))
    return (pose @ rot.T + torch.tensor(offset, dtype=torch.float64))[None]


def test_face_front_hand_computed() -> None:
    aligned = face_front(hips_pose(1.2, (3, 1, -2)))[0]
    torch.testing.assert_close(aligned[4], torch.tensor([0.1, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(aligned[1], torch.tensor([-0.1, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(aligned[10], torch.tensor([0, 0.7, 0.05], dtype=torch.float64))


def test_torso_aligned_error_ignores_yaw_and_position_only() -> None:
    target = hips_pose(0.0)
    turned = hips_pose(2.5, (1, 2, 3))
    torch.testing.assert_close(
        torso_aligned_error(turned, target),
        torch.tensor(0.0, dtype=torch.float64),
        atol=1e-9,
        rtol=0,
    )
    assert mpjpe(turned, target).item() > 1000
    # A 90 deg pitch is *not* removed: only the head moves, (0, .7, .05) -> (0, -.05, .7).
    pitched = target @ euler_to_matrix(torch.tensor([math.pi / 2, 0, 0], dtype=torch.float64)).T
    head_err = math.dist((0, -0.05, 0.7), (0, 0.7, 0.05)) * 1000 / 17
    torch.testing.assert_close(
        torso_aligned_error(pitched, target), torch.tensor(head_err, dtype=torch.float64)
    )


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="target"):
        mpjpe(torch.zeros(2, 17, 3), torch.zeros(2, 16, 3))
    with pytest.raises(ValueError, match="reduction"):
        mpjpe(torch.zeros(2, 17, 3), torch.zeros(2, 17, 3), reduction="sum")  # type: ignore[arg-type]
