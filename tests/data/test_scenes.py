from __future__ import annotations

import dataclasses

import pytest
import torch

from unpaired.data.synthetic.scenes import (
    CAMERA_HEIGHT,
    MAX_DEPTH,
    MAX_FRAMES,
    TEST_SEED,
    make_scene,
    render_pairs,
    render_sequence,
    render_view,
    scene_intrinsics,
)
from unpaired.geometry import matrix_to_euler, rotation_angle


@pytest.fixture(scope="module")
def seq():
    return render_sequence(TEST_SEED, n_frames=8, height=64, width=192)


def test_sequence_shapes_ranges_and_depth(seq) -> None:
    assert seq.frames.shape == (8, 3, 64, 192)
    assert seq.depth.shape == (8, 1, 64, 192)
    assert seq.poses.shape == (8, 4, 4)
    assert seq.frames.min() >= 0 and seq.frames.max() <= 1
    assert torch.isfinite(seq.depth).all()
    assert seq.depth.min() > 1.0 and seq.depth.max() <= MAX_DEPTH
    torch.testing.assert_close(seq.intrinsics, scene_intrinsics(64, 192))
    # Texture: enough gradient for photometric losses and flow.
    grad = (seq.frames[..., 1:] - seq.frames[..., :-1]).abs().mean()
    assert grad > 0.02


def test_deterministic_prefix_consistent_and_seeds_differ(seq) -> None:
    again = render_sequence(TEST_SEED, n_frames=3, height=64, width=192)
    torch.testing.assert_close(again.frames, seq.frames[:3])
    torch.testing.assert_close(again.depth, seq.depth[:3])
    torch.testing.assert_close(again.poses, seq.poses[:3])
    other = render_sequence(1, n_frames=3, height=64, width=192)
    assert (other.frames - again.frames).abs().mean() > 0.05


def test_motion_is_car_like() -> None:
    poses = make_scene(3).trajectory(MAX_FRAMES)
    steps = poses[1:, :3, 3] - poses[:-1, :3, 3]
    speed = steps.norm(dim=-1)
    assert speed.min() >= 0.5 - 1e-4 and speed.max() <= 1.5 + 1e-4
    rel = poses[:-1, :3, :3].transpose(1, 2) @ poses[1:, :3, :3]
    assert rotation_angle(rel).max() < 0.012
    angles = matrix_to_euler(poses[:, :3, :3])  # (pitch, heading, roll)
    assert angles[:, 0].abs().max() < 0.006 and angles[:, 2].abs().max() < 0.004
    assert angles[:, 1].abs().max() < 0.05
    # Stays in the right-hand lane (centre x = 1.75 m) and on the road's axis.
    assert (poses[:, 0, 3] - 1.75).abs().max() < 1.0
    assert steps[:, 2].min() > 0.45  # always forward
    with pytest.raises(ValueError, match="n_frames"):
        make_scene(3).trajectory(MAX_FRAMES + 1)


def test_pairs_carry_the_true_relative_motion(seq) -> None:
    p = seq.pairs(stride=2)
    assert len(p) == 6
    # Forward driving: X2 = R X1 + T with T about (0, 0, -speed).
    assert (p.translation[:, 2] < -0.9).all()
    assert p.translation[:, :2].abs().max() < 0.1
    both = render_pairs([1, 2], n_frames=3, height=32, width=96)
    assert len(both) == 4 and both.depth1 is not None


def test_ray_casting_hits_a_known_box_and_the_ground() -> None:
    """One box straight ahead: its front face at z = 20 m; the ground analytically."""
    base = make_scene(4)
    scene = dataclasses.replace(
        base,
        box_min=torch.tensor([[-3.0, -5.0, 20.0]]),
        box_max=torch.tensor([[3.0, CAMERA_HEIGHT, 30.0]]),
        box_material=torch.tensor([2]),
        box_tint=torch.ones(1, 3),
        box_shift=torch.zeros(1),
        box_reach=torch.tensor([1e9]),
    )
    h, w = 32, 96
    k = scene_intrinsics(h, w)
    image, depth = render_view(scene, torch.eye(4), k, height=h, width=w)
    assert image.shape == (3, h, w)
    torch.testing.assert_close(depth[0, h // 2, w // 2], torch.tensor(20.0))
    # Bottom row, far left column: the ground plane at y = CAMERA_HEIGHT (left of the box).
    row = h - 1
    expected = CAMERA_HEIGHT * k[1, 1] / (row - k[1, 2])
    torch.testing.assert_close(depth[0, row, 0], expected)
    # Top row centre: past the box top it is the sky box, far away but finite.
    assert 100 < depth[0, 0, w // 2] <= MAX_DEPTH


def test_rendering_restores_the_thread_setting() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        render_view(make_scene(1), torch.eye(4), scene_intrinsics(8, 24), height=8, width=24)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
