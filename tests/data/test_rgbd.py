from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from unpaired.data.rgbd import (
    FramePairs,
    Sequence,
    center_crop_to_aspect,
    decode_depth,
    depth_memories,
    fill_holes,
    load_rgbd_frames,
    read_color,
    read_uint16,
    relative_motion,
    scale_intrinsics,
)
from unpaired.errors import DataError, DataNotFoundError
from unpaired.geometry import euler_to_matrix


def _pose(angles: list[float], t: list[float]) -> torch.Tensor:
    p = torch.eye(4, dtype=torch.float64)
    p[:3, :3] = euler_to_matrix(torch.tensor(angles, dtype=torch.float64))
    p[:3, 3] = torch.tensor(t, dtype=torch.float64)
    return p


def test_relative_motion_maps_camera1_points_to_camera2() -> None:
    pose1, pose2 = (
        _pose([0.1, -0.2, 0.05], [1.0, 2.0, 3.0]),
        _pose([0.0, 0.3, -0.1], [0.5, 2.2, 4.0]),
    )
    rot, trans = relative_motion(pose1, pose2)
    x1 = torch.randn(3, dtype=torch.float64)
    world = pose1[:3, :3] @ x1 + pose1[:3, 3]
    x2 = torch.linalg.solve(pose2[:3, :3], world - pose2[:3, 3])
    torch.testing.assert_close(rot @ x1 + trans, x2)


def test_scale_intrinsics_keeps_projections_consistent() -> None:
    k = torch.tensor([[100.0, 0.0, 63.5], [0.0, 90.0, 31.5], [0.0, 0.0, 1.0]])
    k2 = scale_intrinsics(k, (64, 128), (32, 32))
    point = torch.tensor([0.3, -0.2, 2.0])
    p = (k @ point)[:2] / point[2]
    p2 = (k2 @ point)[:2] / point[2]
    # Pixel edges map to pixel edges: (p + 0.5) * s - 0.5.
    torch.testing.assert_close(p2, (p + 0.5) * torch.tensor([32 / 128, 32 / 64]) - 0.5)
    torch.testing.assert_close(k2[:2, 2], torch.tensor([15.5, 15.5]))  # still the centre


def test_sequence_pairs_resize_and_checks() -> None:
    t, h, w = 4, 8, 12
    poses = torch.stack(
        [_pose([0.0, 0.01 * i, 0.0], [0.0, 0.0, float(i)]) for i in range(t)]
    ).float()
    k = torch.tensor([[10.0, 0.0, 5.5], [0.0, 10.0, 3.5], [0.0, 0.0, 1.0]])
    seq = Sequence(torch.rand(t, 3, h, w), torch.rand(t, 1, h, w) + 1, poses, k, name="toy")
    pairs = seq.pairs()
    assert len(pairs) == 3
    torch.testing.assert_close(pairs.frame2, seq.frames[1:])
    rot, trans = relative_motion(poses[0], poses[1])
    torch.testing.assert_close(pairs.rotation[0], rot)
    torch.testing.assert_close(pairs.translation[0], trans)
    assert len(seq.pairs(stride=3)) == 1
    with pytest.raises(ValueError, match="too few"):
        seq.pairs(stride=4)
    small = seq.resized(4, 6)
    assert small.frames.shape == (t, 3, 4, 6) and small.depth.shape == (t, 1, 4, 6)
    torch.testing.assert_close(small.intrinsics, scale_intrinsics(k, (h, w), (4, 6)))
    both = FramePairs.cat([pairs, pairs[1:]])
    assert len(both) == 5 and len(pairs[0]) == 1
    with pytest.raises(ValueError, match="poses"):
        Sequence(seq.frames, None, poses[:2], k)


def test_decode_depth_conventions() -> None:
    tum = np.array([[5000, 0]], dtype=np.uint16)
    np.testing.assert_allclose(decode_depth(tum, "TUM"), [[1.0, 0.0]])
    # NYU: raw Kinect disparity stored little-endian in a (big-endian) PGM.
    disparity = np.array([[1000, 700, 2047, 1100, 1092]], dtype=np.uint16)
    nyu = decode_depth(disparity.byteswap(), "NYU")
    # 2047: no measurement; 1100: negative depth; 1092: 702 m, beyond the 10 m range.
    np.testing.assert_allclose(nyu, [[351.3 / 92.5, 351.3 / 392.5, 0.0, 0.0, 0.0]], rtol=1e-6)
    # SUN: millimetres with the bits rotated left by 3.
    mm = np.array([[2500, 0]], dtype=np.uint16)
    stored = ((mm.astype(np.uint32) << 3) | (mm >> 13)).astype(np.uint16)
    np.testing.assert_allclose(decode_depth(stored, "SUN"), [[2.5, 0.0]])


def test_real_rgbd_frames_and_memories(shared_data) -> None:
    frames = load_rgbd_frames(shared_data)
    assert [f.name for f in frames] == ["TUM", "NYU", "SUN"]
    for f in frames:
        assert f.color.shape == (3, 480, 640) and f.depth.shape == (1, 480, 640)
        valid = f.depth[f.valid]
        assert f.valid.float().mean() > 0.7
        assert 1.0 < valid.median() < 5.0  # indoor scenes, metres
        assert valid.min() > 0.3 and valid.max() < 10.5
    memories = depth_memories(shared_data, height=64, width=192)
    assert memories.shape == (3, 1, 64, 192)
    assert memories.min() > 0.3 and memories.max() < 10.5


def test_fill_holes_and_crop() -> None:
    depth = torch.tensor([[[1.0, 0.0, 3.0]]])
    filled = fill_holes(depth, depth > 0)
    assert filled[0, 0, 1] in (1.0, 3.0) and filled[0, 0, 0] == 1.0
    assert center_crop_to_aspect(torch.zeros(1, 480, 640), 64, 192).shape == (1, 213, 640)
    assert center_crop_to_aspect(torch.zeros(1, 480, 640), 100, 100).shape == (1, 480, 480)


def test_bad_files_raise_one_line_errors(tmp_path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(DataError, match="not a readable image"):
        read_color(bad)
    with pytest.raises(DataError, match="not found"):
        read_uint16(tmp_path / "missing.png")
    rgb8 = tmp_path / "rgb.png"
    cv2.imwrite(str(rgb8), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DataError, match="16-bit"):
        read_uint16(rgb8)
    with pytest.raises(DataNotFoundError, match="rgbd_frames"):
        load_rgbd_frames(tmp_path)
