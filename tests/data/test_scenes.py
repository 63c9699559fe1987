from __future__ import annotations

import dataclasses

import pytest
import torch

from unpaired.data.rgbd import relative_motion
from unpaired.data.synthetic.scenes import (
    CAMERA_HEIGHT,
    MAX_DEPTH,
    MAX_FRAMES,
    MAX_SPEED,
    TEST_SEED,
    make_scene,
    render_pairs,
    render_sequence,
    render_view,
    scene_intrinsics,
)
from unpaired.geometry import rotation_angle


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


def test_motion_is_car_like_and_varied() -> None:
    scene = make_scene(3)
    poses = scene.trajectory(MAX_FRAMES)
    rot, trans = relative_motion(poses[:-1], poses[1:])
    speed = trans.norm(dim=-1)
    assert speed.max() <= MAX_SPEED + 1e-4
    assert (speed > 1.0).any() and (speed < 1e-3).sum() >= 5  # cruising, and stops
    assert (speed.diff().abs() < 0.05).all()  # no jumps: bounded acceleration
    # Forward only: the camera never moves backwards or sideways by much.
    moving = speed > 0.05
    assert (trans[:, 2] <= 1e-6).all()
    assert (trans[moving, 0].abs() < 0.2 * speed[moving]).all()
    turn = rotation_angle(rot)
    assert 0.04 < turn.max() < 0.15  # 90 degree turns at intersections
    assert (turn > 0.02).sum() > 40
    headings = scene.route[:, 4]
    assert (headings.max() - headings.min()) > 1.5  # at least one turn of pi / 2
    # Pitch and roll stay small: car motion (route columns: x y z pitch heading roll).
    assert scene.route[:, 3].abs().max() < 0.01 and scene.route[:, 5].abs().max() < 0.01
    assert (scene.route[:, 1].abs() < 0.02).all()  # camera height stays put
    with pytest.raises(ValueError, match="n_frames"):
        scene.trajectory(MAX_FRAMES + 1)


def test_route_keeps_to_the_streets() -> None:
    """The camera is always on a street (inside the road of a street of the grid) and
    never inside a box."""
    scene = make_scene(2)
    xz = scene.route[:, [0, 2]].float()
    road = scene.road_half_width
    off_x = (xz[:, :1] - scene.streets_x[None]).abs().min(1).values
    off_z = (xz[:, 1:] - scene.streets_z[None]).abs().min(1).values
    assert (torch.minimum(off_x, off_z) < road - 0.5).all()
    lo, hi = scene.box_min[:, [0, 2]], scene.box_max[:, [0, 2]]
    inside = ((xz[:, None] > lo[None] - 0.5) & (xz[:, None] < hi[None] + 0.5)).all(-1)
    assert not inside.any()


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
