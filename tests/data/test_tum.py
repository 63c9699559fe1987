"""TUM RGB-D loader, on small files written here in the benchmark's format."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from unpaired.data.tum import associate, camera_intrinsics, load_tum, read_file_list
from unpaired.errors import DataError, DataNotFoundError

SEQ = "rgbd_dataset_freiburg1_xyz"


def _write_tum(root: Path) -> Path:
    seq = root / "tum_rgbd" / SEQ
    (seq / "rgb").mkdir(parents=True)
    (seq / "depth").mkdir()
    rng = np.random.default_rng(2)
    rgb_t = [1.000, 1.033, 1.066, 1.100]
    depth_t = [1.004, 1.031, 1.300, 1.098]  # frame 2 has no depth within 0.02 s
    rgb_lines = [
        "# color images",
        "# file: 'rgbd_dataset_freiburg1_xyz.bag'",
        "# timestamp filename",
    ]
    depth_lines = [
        "# depth maps",
        "# file: 'rgbd_dataset_freiburg1_xyz.bag'",
        "# timestamp filename",
    ]
    for i, (tr, td) in enumerate(zip(rgb_t, depth_t, strict=True)):
        cv2.imwrite(
            str(seq / "rgb" / f"{tr:.6f}.png"), rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        )
        cv2.imwrite(
            str(seq / "depth" / f"{td:.6f}.png"),
            np.full((480, 640), 5000 * (i + 1), dtype=np.uint16),
        )
        rgb_lines.append(f"{tr:.6f} rgb/{tr:.6f}.png")
        depth_lines.append(f"{td:.6f} depth/{td:.6f}.png")
    (seq / "rgb.txt").write_text("\n".join(rgb_lines) + "\n")
    (seq / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    truth = [
        "# ground truth trajectory",
        "# file: 'rgbd_dataset_freiburg1_xyz.bag'",
        "# timestamp tx ty tz qx qy qz qw",
    ]
    for j in range(15):
        t = 0.99 + 0.01 * j
        q = Rotation.from_euler("y", 0.1 * j).as_quat()  # x, y, z, w
        truth.append(f"{t:.4f} {0.1 * j:.4f} 0.0 0.0 " + " ".join(f"{v:.6f}" for v in q))
    (seq / "groundtruth.txt").write_text("\n".join(truth) + "\n")
    return seq


def test_loads_associated_frames(tmp_path) -> None:
    _write_tum(tmp_path)
    seq = load_tum(SEQ, tmp_path, height=48, width=64)
    assert seq.frames.shape == (3, 3, 48, 64)  # the frame without depth is dropped
    torch.testing.assert_close(seq.depth[:, 0, 10, 10], torch.tensor([1.0, 2.0, 4.0]))
    # rgb 1.000 -> pose at 1.00 (j = 1): tx = 0.1, 0.1 rad about y.
    torch.testing.assert_close(seq.poses[0, :3, 3], torch.tensor([0.1, 0.0, 0.0]))
    expected = torch.from_numpy(Rotation.from_euler("y", 0.1).as_matrix()).float()
    torch.testing.assert_close(seq.poses[0, :3, :3], expected, atol=1e-5, rtol=0)
    assert seq.intrinsics[0, 0] == pytest.approx(517.3 * 64 / 640)
    torch.testing.assert_close(
        camera_intrinsics("rgbd_dataset_freiburg3_long_office")[0, 0], torch.tensor(535.4)
    )
    assert camera_intrinsics("my_sequence")[0, 2] == 319.5


def test_errors(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="tum_rgbd"):
        load_tum(SEQ, tmp_path)
    seq = _write_tum(tmp_path)
    with pytest.raises(DataError, match="no such sequence folder"):
        load_tum("rgbd_dataset_freiburg2_desk", tmp_path)
    (seq / "groundtruth.txt").write_text("# header\n1.0 0 0 0 0 0 0\n")
    with pytest.raises(DataError, match="line 2: expected a timestamp and 7 values"):
        read_file_list(seq / "groundtruth.txt", fields=7)
    (seq / "groundtruth.txt").write_text("# header\n5.0 0 0 0 0 0 0 1\n")
    with pytest.raises(DataError, match="no colour frame has both"):
        load_tum(SEQ, tmp_path)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=20, unique=True),
    st.lists(st.floats(0, 1), min_size=1, max_size=20, unique=True),
    st.floats(0.001, 0.3),
)
def test_associate_matches_greedy_brute_force(
    a: list[float], b: list[float], max_diff: float
) -> None:
    candidates = sorted(
        (abs(x - y), i, j)
        for i, x in enumerate(a)
        for j, y in enumerate(b)
        if abs(x - y) < max_diff
    )
    used_a, used_b, expected = set(), set(), []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            expected.append((i, j))
    got = associate(a, b, max_difference=max_diff)
    # Ties in |a - b| may be broken differently; the matched distances must agree.
    assert sorted(abs(a[i] - b[j]) for i, j in got) == pytest.approx(
        sorted(abs(a[i] - b[j]) for i, j in expected)
    )
    assert len({i for i, _ in got}) == len(got) and len({j for _, j in got}) == len(got)
