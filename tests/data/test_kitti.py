"""KITTI odometry loader, on small files written here in the benchmark's format."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from unpaired.data.kitti import load_kitti_odometry, read_calib
from unpaired.data.rgbd import relative_motion
from unpaired.errors import DataError, DataNotFoundError
from unpaired.geometry import euler_to_matrix

K = np.array([[718.856, 0.0, 607.1928], [0.0, 718.856, 185.2157], [0.0, 0.0, 1.0]])
OFFSETS = {
    0: [0.0, 0.0, 0.0],
    1: [-0.537, 0.0, 0.0],
    2: [0.0597, -0.00036, 0.0027],
    3: [-0.473, 0.0024, 0.0033],
}


def _pose0(i: int) -> np.ndarray:
    p = np.eye(4)
    p[:3, :3] = euler_to_matrix(torch.tensor([0.0, 0.05 * i, 0.0], dtype=torch.float64)).numpy()
    p[:3, 3] = [0.02 * i, 0.0, 1.0 * i]
    return p


def _write_kitti(root: Path, n: int = 3, size: tuple[int, int] = (376, 1241)) -> Path:
    base = root / "kitti" / "odometry"
    seq = base / "sequences" / "00"
    (seq / "image_2").mkdir(parents=True)
    (base / "poses").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        cv2.imwrite(
            str(seq / "image_2" / f"{i:06d}.png"), rng.integers(0, 255, (*size, 3), dtype=np.uint8)
        )
    calib = []
    for c, b in OFFSETS.items():
        proj = K @ np.hstack([np.eye(3), np.array(b)[:, None]])
        calib.append(f"P{c}: " + " ".join(f"{v:.12e}" for v in proj.ravel()))
    calib.append("Tr: " + " ".join(["0"] * 12))
    (seq / "calib.txt").write_text("\n".join(calib) + "\n")
    (base / "poses" / "00.txt").write_text(
        "\n".join(" ".join(f"{v:.12e}" for v in _pose0(i)[:3].ravel()) for i in range(n)) + "\n"
    )
    return base


def test_loads_frames_intrinsics_and_camera2_poses(tmp_path) -> None:
    _write_kitti(tmp_path)
    seq = load_kitti_odometry(0, tmp_path, height=64, width=192)
    assert seq.frames.shape == (3, 3, 64, 192) and seq.depth is None
    assert seq.intrinsics[0, 0] == pytest.approx(718.856 * 192 / 1241, rel=1e-5)
    # P2 = K [I | b2]: camera-2 coordinates are X_c2 = X_c0 + b2, so camera 2's centre
    # is at -b2 in camera 0 and its world position is pose0 @ (-b2).
    b2 = np.array(OFFSETS[2])
    for i in range(3):
        centre = _pose0(i) @ np.append(-b2, 1.0)
        np.testing.assert_allclose(seq.poses[i, :3, 3].double().numpy(), centre[:3], atol=1e-5)
        np.testing.assert_allclose(
            seq.poses[i, :3, :3].double().numpy(), _pose0(i)[:3, :3], atol=1e-6
        )
    _, trans = relative_motion(seq.poses[0], seq.poses[1])
    torch.testing.assert_close(seq.pairs().translation[0], trans)
    assert trans[2] < -0.9


def test_calibration_and_pose_errors(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="kitti_odometry"):
        load_kitti_odometry(0, tmp_path)
    base = _write_kitti(tmp_path)
    calib = base / "sequences" / "00" / "calib.txt"
    assert set(read_calib(calib)) == {"P0", "P1", "P2", "P3"}
    lines = calib.read_text().splitlines()
    calib.write_text("\n".join([lines[0], "P1: 1 2 3", *lines[2:]]) + "\n")
    with pytest.raises(DataError, match="line 2: expected 12 numbers"):
        read_calib(calib)
    calib.write_text("\n".join(lines[:2]) + "\n")
    with pytest.raises(DataError, match="missing projection matrices P2, P3"):
        read_calib(calib)
    calib.write_text("\n".join(lines) + "\n")
    poses = base / "poses" / "00.txt"
    poses.write_text("\n".join(poses.read_text().splitlines()[:2]) + "\n")
    with pytest.raises(DataError, match="2 poses for 3 frames"):
        load_kitti_odometry("00", tmp_path)
