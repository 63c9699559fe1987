from __future__ import annotations

import math

import pytest
import torch

from unpaired.data.pose2d import (
    CameraDistribution,
    Cameras,
    corrupt_2d,
    denormalize_2d,
    normalize_2d,
    perturb_skeleton,
    project_poses,
    retarget,
    sample_cameras,
    sup1_augment,
    view_poses,
)
from unpaired.data.skeleton import SYMMETRIC_PAIRS, bone_lengths
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.geometry import rotation_angle
from unpaired.renderers.projection import project


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_cameras_follow_the_documented_distribution() -> None:
    d = CameraDistribution()
    cams = sample_cameras(4000, generator=gen())
    eye = torch.eye(3).expand(4000, 3, 3)
    torch.testing.assert_close(
        cams.rotation @ cams.rotation.transpose(1, 2), eye, atol=1e-5, rtol=0
    )
    assert torch.all((cams.focal >= d.focal[0]) & (cams.focal <= d.focal[1]))
    assert torch.all((cams.translation[:, 2] >= 4.0) & (cams.translation[:, 2] <= 6.0))
    assert torch.all(cams.translation[:, :2].abs() <= d.offset)
    assert torch.all((cams.principal - 500.0).abs() <= d.principal_jitter)
    # World up (+y) maps close to camera up (-y): |pitch| <= 20 deg, |roll| <= 3 deg.
    up_cam = cams.rotation[:, :, 1]
    tilt = torch.rad2deg(torch.acos(-up_cam[:, 1]))
    assert tilt.max() <= 20.3
    # Yaw covers every side: the world z axis points all around in the camera's xz-plane.
    z_cam = cams.rotation[:, :, 2]
    yaw = torch.atan2(z_cam[:, 0], -z_cam[:, 2])
    assert (torch.histc(yaw, bins=4, min=-math.pi, max=math.pi) > 800).all()


def test_known_camera_projection() -> None:
    # Identity yaw/pitch/roll: the world-to-camera rotation is F = diag(1, -1, -1).
    cams = Cameras(
        rotation=torch.diag(torch.tensor([1.0, -1.0, -1.0]))[None],
        translation=torch.tensor([[0.0, 0.0, 5.0]]),
        focal=torch.tensor([1000.0]),
        principal=torch.tensor([[500.0, 500.0]]),
    )
    poses = torch.zeros(1, 17, 3)
    poses[0, 10] = torch.tensor([0.0, 1.0, 0.0])  # head 1 m above the pelvis
    poses[0, 4] = torch.tensor([0.5, 0.0, 0.0])  # left hip 0.5 m to the left (+x)
    out = project_poses(poses, cams)
    torch.testing.assert_close(out.pose_2d[0, 0], torch.tensor([500.0, 500.0]))
    torch.testing.assert_close(out.pose_2d[0, 10], torch.tensor([500.0, 300.0]))  # up in the image
    torch.testing.assert_close(
        out.pose_2d[0, 4], torch.tensor([600.0, 500.0])
    )  # facing camera: left on the right
    torch.testing.assert_close(out.pose_3d[0, 10], torch.tensor([0.0, -1.0, 5.0]))


def test_view_poses_keeps_shape_and_is_seeded() -> None:
    poses = sample_poses(32, generator=gen())
    a, b = view_poses(poses, generator=gen(1)), view_poses(poses, generator=gen(1))
    assert torch.equal(a.pose_2d, b.pose_2d)
    assert a.pose_2d.shape == (32, 17, 2) and a.pose_3d.shape == (32, 17, 3)
    torch.testing.assert_close(bone_lengths(a.pose_3d), bone_lengths(poses), atol=1e-5, rtol=0)
    assert torch.all(a.pose_3d[..., 2] > 2.0)
    assert torch.all((a.pose_2d > 0) & (a.pose_2d < 1000))


def test_corrupt_2d_noise_and_swaps() -> None:
    kp = torch.randn(20000, 17, 2) * 100
    noisy = corrupt_2d(kp, sigma=4.0, swap_prob=0.0, generator=gen())
    assert abs((noisy - kp).std().item() - 4.0) < 0.05
    swapped = corrupt_2d(kp, sigma=0.0, swap_prob=1.0, generator=gen())
    torch.testing.assert_close(swapped[:, [4, 5, 6, 11, 12, 13]], kp[:, [1, 2, 3, 14, 15, 16]])
    torch.testing.assert_close(swapped[:, [0, 7, 8, 9, 10]], kp[:, [0, 7, 8, 9, 10]])
    some = corrupt_2d(kp, sigma=0.0, swap_prob=0.1, generator=gen())
    rate = (some[:, 4] != kp[:, 4]).any(-1).float().mean().item()
    assert 0.09 < rate < 0.11
    with pytest.raises(ValueError, match="swap_prob"):
        corrupt_2d(kp, swap_prob=2.0)


def test_perturb_skeleton_changes_bones_within_bounds() -> None:
    poses = sample_poses(2000, generator=gen()).double()
    out = perturb_skeleton(poses, length_std=0.05, angle_std=math.radians(10), generator=gen(1))
    ratio = bone_lengths(out) / bone_lengths(poses)
    assert abs(ratio.std().item() - 0.05) < 0.005
    torch.testing.assert_close(out[:, 0], poses[:, 0])
    same = perturb_skeleton(poses, length_std=0.0, angle_std=0.0, generator=gen(1))
    torch.testing.assert_close(same, poses)


def test_sup1_pairs_are_consistent() -> None:
    poses = sample_poses(16, generator=gen())
    pair = sup1_augment(poses, generator=gen(2))
    # the 2D input is the projection of the returned camera-frame 3D target
    torch.testing.assert_close(
        project(pair.pose_3d, pair.cameras.focal, pair.cameras.principal), pair.pose_2d
    )
    # the skeleton was perturbed (bone lengths differ) and rotations cover large angles
    assert (bone_lengths(pair.pose_3d) - bone_lengths(poses)).abs().max() > 0.01
    assert rotation_angle(pair.cameras.rotation).max() > 2.0


def test_normalize_2d_round_trip() -> None:
    kp = torch.randn(8, 17, 2) * 50 + 300
    normalized, center, scale = normalize_2d(kp)
    torch.testing.assert_close(normalized[:, 0], torch.zeros(8, 2))
    torch.testing.assert_close(normalized.pow(2).sum(-1).mean(-1), torch.ones(8))
    torch.testing.assert_close(denormalize_2d(normalized, center, scale), kp)


def test_retarget_scales_twin_bones_alike_and_keeps_the_root() -> None:
    data = sample_poses(30, generator=torch.Generator().manual_seed(0))
    moved = retarget(data, std=0.1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(moved[:, 0], data[:, 0])
    factor = bone_lengths(moved) / bone_lengths(data)
    torch.testing.assert_close(factor, factor[:1].expand_as(factor))  # one body for all poses
    for left, right in SYMMETRIC_PAIRS:
        assert math.isclose(float(factor[0, left - 1]), float(factor[0, right - 1]), rel_tol=1e-5)
    assert float(factor.std()) > 0.01


def test_sup1_augment_perturbs_the_requested_share() -> None:
    poses = sample_poses(400, generator=torch.Generator().manual_seed(0))
    none = sup1_augment(poses, fraction=0.0, generator=torch.Generator().manual_seed(1))
    ratio = bone_lengths(none.pose_3d) / bone_lengths(poses)
    torch.testing.assert_close(ratio, torch.ones_like(ratio))  # nothing perturbed
    half = sup1_augment(poses, fraction=0.5, generator=torch.Generator().manual_seed(1))
    changed = (bone_lengths(half.pose_3d) / bone_lengths(poses) - 1).abs().amax(1) > 1e-4
    assert 0.4 < float(changed.float().mean()) < 0.6
    with pytest.raises(ValueError, match="fraction must be in"):
        sup1_augment(poses, fraction=1.5)
