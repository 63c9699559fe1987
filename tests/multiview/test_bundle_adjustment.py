"""Triangulation and the AniPose-style bundle adjustment."""

from __future__ import annotations

import numpy as np
import torch

from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.multiview.bundle_adjustment import (
    BundleCameras,
    _errors,
    bundle_adjust,
    cameras_from_rig,
    projection_matrices,
    random_cameras,
    triangulate,
)
from unpaired.multiview.evaluate import pmpjpe
from unpaired.multiview.rigs import RigDistribution, observe, place, sample_rigs


def _scene(n: int = 2, views: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    poses = place(sample_poses(n, generator=g, dtype=torch.float64))
    rig = sample_rigs(n, RigDistribution(views=views), generator=g)
    pixels, _ = observe(poses, rig)
    return poses, rig, pixels


def test_triangulation_is_exact_and_respects_the_mask() -> None:
    poses, rig, pixels = _scene()
    p = projection_matrices(rig)
    assert torch.allclose(triangulate(pixels, p), poses, atol=1e-8)
    bad = pixels.clone()
    bad[:, 3] += 80.0  # camera 3 is off everywhere
    mask = torch.ones(bad.shape[:3], dtype=torch.bool)
    mask[:, 3] = False
    assert torch.allclose(triangulate(bad, p, mask), poses, atol=1e-8)
    assert not torch.allclose(triangulate(bad, p), poses, atol=1e-3)


def test_bundle_cameras_project_like_the_rig() -> None:
    poses, rig, pixels = _scene(1)
    cams = cameras_from_rig(rig, 0)
    obs = (pixels[0] - rig.principal[0, :, None]).numpy()
    assert _errors(obs, cams, poses[0].numpy()).max() < 1e-8
    assert np.allclose(BundleCameras.unpack(cams.pack()).rvec, cams.rvec)


def test_bundle_adjustment_recovers_a_known_rig_up_to_similarity() -> None:
    poses, rig, pixels = _scene(1)
    obs = (pixels[0] - rig.principal[0, :, None]).numpy()
    truth = cameras_from_rig(rig, 0)
    start = BundleCameras(truth.rvec + 0.05, truth.tvec + 0.2, truth.focal * 1.05, truth.k1)
    cams, points = bundle_adjust(obs, start)
    error = pmpjpe(torch.from_numpy(points)[None], poses[:1], reflections=False)
    assert float(error) < 1.0  # mm
    assert _errors(obs, cams, points).mean() < 0.5  # px


def test_random_cameras_are_reproducible() -> None:
    a = random_cameras(3, 1075.0, np.random.default_rng(4))
    b = random_cameras(3, 1075.0, np.random.default_rng(4))
    assert np.array_equal(a.pack(), b.pack()) and a.focal[0] == 1075.0
