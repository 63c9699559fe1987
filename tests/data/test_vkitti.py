"""Virtual KITTI 1.3.1 loader, on small files written here in the dataset's format."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from unpaired.data.rgbd import relative_motion
from unpaired.data.vkitti import INTRINSICS, available, load_vkitti, read_extrinsics
from unpaired.errors import DataError, DataNotFoundError
from unpaired.geometry import euler_to_matrix

HEADER = "frame r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1"


def _world_to_camera(i: int) -> np.ndarray:
    cam_to_world = np.eye(4)
    cam_to_world[:3, :3] = euler_to_matrix(
        torch.tensor([0.001 * i, 0.02 * i, 0.0], dtype=torch.float64)
    ).numpy()
    cam_to_world[:3, 3] = [0.1 * i, 0.0, 1.2 * i]
    return np.linalg.inv(cam_to_world)


def _write_vkitti(root: Path, world: str = "0001", variation: str = "clone", n: int = 3) -> Path:
    base = root / "vkitti"
    rgb = base / "vkitti_1.3.1_rgb" / world / variation
    dep = base / "vkitti_1.3.1_depthgt" / world / variation
    ext = base / "vkitti_1.3.1_extrinsicsgt"
    for d in (rgb, dep, ext):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for i in range(n):
        cv2.imwrite(str(rgb / f"{i:05d}.png"), rng.integers(0, 255, (375, 1242, 3), dtype=np.uint8))
        depth_cm = np.full((375, 1242), 1000 + 100 * i, dtype=np.uint16)
        depth_cm[:50] = 65535  # sky: the 655.35 m far plane
        cv2.imwrite(str(dep / f"{i:05d}.png"), depth_cm)
        lines.append(f"{i} " + " ".join(f"{v:.9f}" for v in _world_to_camera(i).ravel()))
    (ext / f"{world}_{variation}.txt").write_text("\n".join(lines) + "\n")
    return base


def test_loads_frames_depth_poses_and_intrinsics(tmp_path) -> None:
    _write_vkitti(tmp_path)
    seq = load_vkitti("0001", "clone", tmp_path, height=64, width=192)
    assert seq.frames.shape == (3, 3, 64, 192) and seq.depth.shape == (3, 1, 64, 192)
    assert seq.depth[1, 0, 40, 100].item() == pytest.approx(11.0)
    assert seq.depth[0, 0, 0, 0].item() == pytest.approx(655.35)
    # Poses are camera-to-world: the inverse of the file's world-to-camera matrices.
    torch.testing.assert_close(
        seq.poses[2].double(),
        torch.from_numpy(np.linalg.inv(_world_to_camera(2))),
        atol=1e-6,
        rtol=0,
    )
    rot, trans = relative_motion(seq.poses[0], seq.poses[1])
    pairs = seq.pairs()
    torch.testing.assert_close(pairs.rotation[0], rot)
    torch.testing.assert_close(pairs.translation[0], trans)
    assert pairs.translation[0, 2] < -1.0  # camera moved forward 1.2 m
    assert seq.intrinsics[0, 0] == pytest.approx(725.0 * 192 / 1242)
    assert seq.intrinsics[1, 2] == pytest.approx((187.0 + 0.5) * 64 / 375 - 0.5)
    full = load_vkitti("0001", "clone", tmp_path, start=1, stop=2, depth=False)
    assert full.frames.shape == (1, 3, 375, 1242) and full.depth is None
    torch.testing.assert_close(full.intrinsics, INTRINSICS)
    assert available(tmp_path) == [("0001", "clone")]


def test_missing_dataset_and_bad_files(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="virtual_kitti"):
        load_vkitti("0001", "clone", tmp_path)
    base = _write_vkitti(tmp_path)
    with pytest.raises(DataError, match="no frames"):
        load_vkitti("0002", "clone", tmp_path)
    ext = base / "vkitti_1.3.1_extrinsicsgt" / "0001_clone.txt"
    lines = ext.read_text().splitlines()
    ext.write_text("\n".join([*lines[:2], "1 2 3"]) + "\n")
    with pytest.raises(DataError, match="line 3: expected 17 numbers"):
        read_extrinsics(ext)
    ext.write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(DataError, match="line 1: expected the header"):
        read_extrinsics(ext)
    ext.write_text("\n".join(lines[:3]) + "\n")  # frames 0 and 1 only
    with pytest.raises(DataError, match="frame 2 has no line"):
        load_vkitti("0001", "clone", tmp_path)
