"""User SfM sequences by path (``unpaired.data.sequences``): TUM, KITTI and Virtual KITTI
folders written here from procedural streets, their ground truth and calibration, and
bad input."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import torch

from unpaired.data.flow import motion_vectors
from unpaired.data.rgbd import relative_motion
from unpaired.data.sequences import folder_depth_memories, open_sequence
from unpaired.data.vkitti import INTRINSICS, write_vkitti
from unpaired.errors import DataError

sys.path.insert(0, str(Path(__file__).parent))
from _sequences import (
    TUM_FR1,
    street,
    write_kitti_street,
    write_memories,
    write_tum_street,
    write_vkitti_street,
)


def _true_motion(seq) -> torch.Tensor:  # type: ignore[no-untyped-def]
    rot, trans = relative_motion(seq.poses[:-1].double(), seq.poses[1:].double())
    return motion_vectors(rot, trans).float()


def test_tum_reads_frames_depth_poses_and_the_published_fr1_calibration(tmp_path) -> None:
    seq = write_tum_street(tmp_path / "rgbd_dataset_freiburg1_street")
    files = open_sequence(tmp_path / "rgbd_dataset_freiburg1_street", "tum")
    assert len(files) == 6 and files.has_depth and files.has_poses and files.size == (24, 32)
    assert "freiburg1" in files.calibration and "scaled from 640x480" in files.calibration
    torch.testing.assert_close(files.intrinsics.float(), seq.intrinsics, atol=1e-4, rtol=0)
    data = files.read(24, 32)
    near = (seq.depth > 0) & (seq.depth < 13.0)  # TUM's 16 bits end at 13.1 m
    assert (data.depth[near] - seq.depth[near]).abs().max() < 2e-4
    assert (data.depth[seq.depth > 13.2] == 0).all()
    pairs = data.pair_set()
    assert pairs.inputs.shape == (5, 10, 24, 32) and len(data.stamps) == 6
    torch.testing.assert_close(pairs.motion, _true_motion(seq), atol=2e-5, rtol=0)
    half = open_sequence(tmp_path / "rgbd_dataset_freiburg1_street", "tum", start=1, step=2)
    assert len(half) == 3 and half.stamps[0] == pytest.approx(files.stamps[1])


def test_tum_without_ground_truth_and_with_a_camera_or_intrinsics_set(tmp_path) -> None:
    folder = tmp_path / "my_video"
    write_tum_street(folder)
    (folder / "depth.txt").unlink()
    (folder / "groundtruth.txt").unlink()
    files = open_sequence(folder, "tum")
    assert not files.has_depth and not files.has_poses
    assert "default (ROS)" in files.calibration
    pairs = files.read(16, 24).pair_set()
    assert (pairs.depth == 0).all() and pairs.motion.isnan().all()
    fr3 = open_sequence(folder, "tum", camera="fr3")
    assert fr3.intrinsics[0, 0] == pytest.approx(535.4 * 32 / 640)
    own = open_sequence(folder, "tum", intrinsics=(30.0, 31.0, 15.5, 11.5))
    assert own.intrinsics[1, 1] == 31.0 and "user" in own.calibration
    assert TUM_FR1[0, 0] == pytest.approx(517.3)


def test_kitti_reads_calib_poses_and_times(tmp_path) -> None:
    seq = write_kitti_street(tmp_path / "odometry")
    path = tmp_path / "odometry" / "sequences" / "07"
    files = open_sequence(path, "kitti")
    assert len(files) == 6 and not files.has_depth and files.has_poses
    assert "calib.txt (P2)" in files.calibration and files.stamps[1] == pytest.approx(0.1)
    torch.testing.assert_close(files.intrinsics.float(), seq.intrinsics, atol=1e-5, rtol=0)
    pairs = files.read(24, 72).pair_set()
    torch.testing.assert_close(pairs.motion, _true_motion(seq), atol=2e-5, rtol=0)
    (tmp_path / "odometry" / "poses" / "07.txt").unlink()
    assert not open_sequence(path, "kitti").has_poses  # sequences 11-21: no ground truth


def test_vkitti_reads_depth_extrinsics_and_its_constant_intrinsics(tmp_path) -> None:
    seq = write_vkitti_street(tmp_path / "vkitti")
    path = tmp_path / "vkitti" / "vkitti_1.3.1_rgb" / "0001" / "clone"
    files = open_sequence(path, "vkitti")
    assert len(files) == 5 and files.has_depth and files.has_poses
    assert files.size == (375, 1242)
    torch.testing.assert_close(files.intrinsics.float(), INTRINSICS)
    data = files.read(25, 83)
    torch.testing.assert_close(data.intrinsics, seq.intrinsics, atol=1e-4, rtol=0)
    close = (data.depth - seq.depth).abs() < 0.01 * seq.depth
    assert close.float().mean() > 0.95  # up- then down-sampled, nearest neighbour
    torch.testing.assert_close(data.pair_set().motion, _true_motion(seq), atol=2e-5, rtol=0)


def test_bad_input_names_the_file_or_value(tmp_path) -> None:
    write_tum_street(tmp_path / "tum")
    with pytest.raises(DataError, match="no such sequence folder"):
        open_sequence(tmp_path / "nope", "tum")
    with pytest.raises(DataError, match="unknown sequence format 'colmap'"):
        open_sequence(tmp_path / "tum", "colmap")
    with pytest.raises(DataError, match=r"rgb\.txt: file not found"):
        open_sequence(tmp_path, "tum")
    with pytest.raises(DataError, match="unknown TUM camera 'fr9'"):
        open_sequence(tmp_path / "tum", "tum", camera="fr9")
    with pytest.raises(DataError, match="leave 1; SfM needs at least 2"):
        open_sequence(tmp_path / "tum", "tum", start=5)
    write_kitti_street(tmp_path / "odo")
    kitti = tmp_path / "odo" / "sequences" / "07"
    (kitti / "calib.txt").unlink()
    with pytest.raises(DataError, match=r"calib\.txt: calibration file not found"):
        open_sequence(kitti, "kitti")
    assert open_sequence(kitti, "kitti", intrinsics=(40, 40, 35.5, 11.5)).has_poses
    for f in (kitti / "image_2").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="no frames found"):
        open_sequence(kitti, "kitti", intrinsics=(40, 40, 35.5, 11.5))
    shutil.rmtree(kitti / "image_2")
    with pytest.raises(DataError, match="no image_2/ folder"):
        open_sequence(kitti, "kitti")
    small = tmp_path / "vk" / "vkitti_1.3.1_rgb" / "0001" / "clone"
    write_vkitti(street(3, 3, 16, 48), tmp_path / "vk")
    with pytest.raises(DataError, match="Virtual KITTI frames are 1242x375, got 48x16"):
        open_sequence(small, "vkitti")
    assert open_sequence(small, "vkitti", intrinsics=(28, 28, 23.5, 7.5)).has_depth


def test_memories_from_a_folder_of_depth_pngs(tmp_path) -> None:
    folder = write_memories(tmp_path / "mem")
    mem = folder_depth_memories(folder, height=12, width=16)
    assert mem.shape == (3, 1, 12, 16) and (mem > 0).all() and (mem < 13.2).all()
    with pytest.raises(DataError, match="no depth images"):
        folder_depth_memories(tmp_path, height=12, width=16)
    with pytest.raises(DataError, match="no such depth-memory folder"):
        folder_depth_memories(tmp_path / "nope", height=12, width=16)


def test_memories_from_the_rgbd_frames_dataset(shared_data) -> None:
    real = folder_depth_memories(shared_data / "rgbd_frames", height=12, width=16)
    assert real.shape == (3, 1, 12, 16) and 0.3 < float(real.median()) < 10.0
