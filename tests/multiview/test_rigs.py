"""Rigs, perspective 2D, person boxes, noise and the weak-perspective camera model."""

from __future__ import annotations

import math

import pytest
import torch

from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.multiview.rigs import (
    Noise2D,
    RigDistribution,
    corrupt,
    from_box,
    look_at,
    observe,
    person_box,
    place,
    sample_rigs,
    to_box,
)
from unpaired.multiview.weak import (
    fit_scale_shift,
    matrix_to_rot6d,
    project_weak,
    rot6d_to_matrix,
)


def _scene(n: int = 8, views: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    poses = place(sample_poses(n, generator=g, dtype=torch.float64))
    rig = sample_rigs(n, RigDistribution(views=views), generator=g)
    return poses, rig, g


def test_rigs_follow_the_documented_distribution() -> None:
    poses, rig, _ = _scene(64)
    assert torch.allclose(
        rig.rotation @ rig.rotation.transpose(-1, -2),
        torch.eye(3, dtype=torch.float64).expand(64, 4, 3, 3),
        atol=1e-12,
    )
    assert torch.allclose(torch.det(rig.rotation), torch.ones(64, 4, dtype=torch.float64))
    centre = -(rig.rotation.transpose(-1, -2) @ rig.translation[..., None])[..., 0]
    horizontal = centre[..., [0, 2]].norm(dim=-1)
    assert horizontal.min() >= 4.0 - 1e-9 and horizontal.max() <= 6.0 + 1e-9
    assert centre[..., 1].min() >= 1.0 - 1e-9 and centre[..., 1].max() <= 2.0 + 1e-9
    assert rig.focal.min() >= 1000 and rig.focal.max() <= 1150
    # no roll: the camera's x axis is horizontal; the cameras surround the person
    assert rig.rotation[..., 0, 1].abs().max() < 1e-12
    azimuth = torch.atan2(centre[..., 0], centre[..., 2])
    gap = torch.remainder(azimuth[:, 1] - azimuth[:, 0], 2 * math.pi)
    assert gap.min() > math.radians(90 - 61) and gap.max() < math.radians(90 + 61)
    _, camera = observe(poses, rig)
    assert camera[..., 2].min() > 2.5  # everything in front of every camera


def test_look_at_puts_the_target_on_the_optical_axis() -> None:
    centre = torch.tensor([[3.0, 1.5, -4.0]], dtype=torch.float64)
    target = torch.tensor([[0.2, 1.0, 0.1]], dtype=torch.float64)
    r, t = look_at(centre, target)
    seen = (r @ target[..., None])[..., 0] + t
    assert torch.allclose(seen[:, :2], torch.zeros(1, 2, dtype=torch.float64), atol=1e-12)
    assert float(seen[0, 2]) == pytest.approx(float((centre - target).norm()))
    # world up is image up (y down in the camera)
    assert float(r[0, 1, 1]) < 0


def test_observe_is_the_pinhole_projection() -> None:
    poses, rig, _ = _scene(2, views=3)
    pixels, camera = observe(poses, rig)
    manual = (
        rig.focal[..., None, None] * camera[..., :2] / camera[..., 2:] + rig.principal[:, :, None]
    )
    assert torch.allclose(pixels, manual)


def test_person_box_and_box_units_round_trip() -> None:
    pixels = torch.tensor([[[100.0, 200.0], [300.0, 250.0], [200.0, 600.0]]])
    origin, side = person_box(pixels)
    assert float(side[0]) == pytest.approx(1.2 * 400.0)
    assert torch.allclose(origin[0], torch.tensor([200.0 - 240.0, 400.0 - 240.0]))
    box = to_box(pixels, origin, side)
    assert 0 < float(box.min()) and float(box.max()) < 1
    assert torch.allclose(from_box(box, origin, side), pixels)


def test_noise_levels_are_in_box_units() -> None:
    poses, rig, g = _scene(200)
    pixels, _ = observe(poses, rig)
    _, side = person_box(pixels)
    clean = corrupt(pixels, Noise2D(sigma=0.02, outlier_fraction=0.0, swap_prob=0.0), generator=g)
    rel = ((clean - pixels) / side[..., None, None]).std()
    assert float(rel) == pytest.approx(0.02, rel=0.05)
    swapped = corrupt(pixels, Noise2D(sigma=0.0, outlier_fraction=0.0, swap_prob=1.0), generator=g)
    assert torch.equal(swapped[..., 1, :], pixels[..., 4, :])  # r_hip <-> l_hip
    assert torch.equal(swapped[..., 0, :], pixels[..., 0, :])
    with pytest.raises(ValueError, match="swap_prob"):
        Noise2D(swap_prob=2.0)


def test_rot6d_round_trip_and_gram_schmidt() -> None:
    x = torch.randn(5, 6, dtype=torch.float64)
    r = rot6d_to_matrix(x)
    assert torch.allclose(
        r @ r.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(5, 3, 3), atol=1e-12
    )
    assert torch.allclose(torch.det(r), torch.ones(5, dtype=torch.float64))
    assert torch.allclose(rot6d_to_matrix(matrix_to_rot6d(r)), r)


def test_weak_perspective_fit_recovers_constructed_cameras() -> None:
    g = torch.Generator().manual_seed(1)
    pose = torch.randn(2, 17, 3, generator=g, dtype=torch.float64)
    rotation = rot6d_to_matrix(torch.randn(2, 3, 6, generator=g, dtype=torch.float64))
    scale = torch.rand(2, 3, generator=g, dtype=torch.float64) + 0.5
    shift = torch.randn(2, 3, 2, generator=g, dtype=torch.float64)
    x = project_weak(pose, rotation, scale, shift)
    manual = scale[0, 1] * (pose[0] @ rotation[0, 1].T)[:, :2] + shift[0, 1]
    assert torch.allclose(x[0, 1], manual)
    xy = project_weak(pose, rotation, torch.ones_like(scale), torch.zeros_like(shift))
    s, t = fit_scale_shift(xy, x)
    assert torch.allclose(s, scale) and torch.allclose(t, shift)


def test_weak_perspective_approximates_a_far_pinhole_camera() -> None:
    poses, rig, _ = _scene(4)
    pixels, camera = observe(poses, rig)
    origin, side = person_box(pixels)
    box = to_box(pixels, origin, side)
    pose = camera[:, 0] - camera[:, 0].mean(1, keepdim=True)
    rel = rig.rotation @ rig.rotation[:, :1].transpose(-1, -2)  # camera 0 -> camera c
    xy = project_weak(
        pose, rel, torch.ones(4, 4, dtype=torch.float64), torch.zeros(4, 4, 2, dtype=torch.float64)
    )
    s, t = fit_scale_shift(xy, box)
    residual = (s[..., None, None] * xy + t[..., None, :] - box).norm(dim=-1)
    assert 0 < float(residual.mean()) < 0.01  # a real but small model error (box units)
