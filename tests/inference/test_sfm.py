"""``unpaired predict`` on SfM models: frame folders, TUM and KITTI sequences the tests
write from the procedural scenes (known depth and motion)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import unpaired
from unpaired.data.flow import egomotion_inputs, farneback_flow, motion_vectors
from unpaired.data.kitti import write_kitti_odometry
from unpaired.data.rgbd import relative_motion
from unpaired.data.synthetic.scenes import render_sequence
from unpaired.data.tum import write_tum
from unpaired.errors import DataError
from unpaired.inference import predict_files
from unpaired.inference.sfm import compose_trajectory, open_frames

sys.path.insert(0, str(Path(__file__).parent))
from _runs import sfm_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sfm_run(tmp_path_factory.mktemp("sfm") / "run")


def _frames(folder: Path, seq) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    for i, f in enumerate(seq.frames):
        arr = f.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(arr).save(folder / f"f{i:03d}.png")


def test_composing_the_true_motions_gives_back_the_trajectory() -> None:
    seq = render_sequence(0, n_frames=6, height=8, width=24)
    poses = seq.poses.double()
    rot, trans = relative_motion(poses[:-1], poses[1:])
    got = compose_trajectory(motion_vectors(rot, trans))
    want = torch.linalg.inv(poses[0]) @ poses
    assert torch.allclose(got, want, atol=1e-5)


def test_a_frame_folder_gives_depth_and_a_trajectory_equal_to_the_network(
    run: Path, tmp_path: Path
) -> None:
    seq = render_sequence(0, n_frames=5, height=16, width=48)
    _frames(tmp_path / "frames", seq)
    model = unpaired.load(run)
    assert model.kind == "sfm"
    summary = predict_files(model, tmp_path / "frames", tmp_path / "out", batch_size=3)
    assert summary["frames"] == 5 and summary["format"] == "folder"
    names = sorted(p.name for p in (tmp_path / "out" / "depth").iterdir())
    assert names == [f"f{i:03d}.{e}" for i in range(5) for e in ("npy", "png")]
    net, k = model.network, model.meta["generator"]["intrinsics"]
    f = torch.stack([torch.from_numpy(np.asarray(Image.open(tmp_path / "frames" / f"f{i:03d}.png"), np.float32) / 255).permute(2, 0, 1) for i in range(5)])  # fmt: skip
    with torch.no_grad():
        pred = net(egomotion_inputs(f[:-1], f[1:], farneback_flow(f[:-1], f[1:]), k))
    depth = np.load(tmp_path / "out" / "depth" / "f001.npy")
    np.testing.assert_allclose(depth, pred["log_depth"][1, 0].exp().numpy(), rtol=1e-4)
    lines = (tmp_path / "out" / "trajectory.txt").read_text().splitlines()[1:]
    traj = np.array([[float(v) for v in ln.split()] for ln in lines])
    assert traj.shape == (5, 8) and np.allclose(traj[0, 1:], [0, 0, 0, 0, 0, 0, 1])
    want = compose_trajectory(pred["motion"])[:, :3, 3].numpy()
    np.testing.assert_allclose(traj[:, 1:4], want, atol=1e-5)


def test_tum_and_kitti_sequences_read_their_own_timestamps_and_intrinsics(
    run: Path, tmp_path: Path
) -> None:
    seq = render_sequence(0, n_frames=4, height=32, width=96)  # resized to the model's 16 x 48
    tum = write_tum(seq, tmp_path / "rgbd_dataset_freiburg1_street")
    kitti = write_kitti_odometry(seq, tmp_path / "odometry", "07")
    frames = open_frames(tum)
    assert frames.format == "tum" and frames.intrinsics[0, 0] == pytest.approx(517.3)
    assert open_frames(kitti).intrinsics[0, 0] == pytest.approx(float(seq.intrinsics[0, 0]))
    model = unpaired.load(run)
    for name, src in (("tum", tum), ("kitti", kitti)):
        summary = predict_files(model, src, tmp_path / name, batch_size=8)
        assert summary["format"] == name and summary["frames"] == 4
        k = np.loadtxt(tmp_path / name / "intrinsics.txt")
        assert k.shape == (3, 3) and k[0, 2] == pytest.approx(23.5, abs=0.1)
        stamps = [
            float(ln.split()[0])
            for ln in (tmp_path / name / "trajectory.txt").read_text().splitlines()[1:]
        ]
        assert stamps == pytest.approx(
            [1.0 + i / 30 for i in range(4)] if name == "tum" else [i / 10 for i in range(4)],
            abs=1e-6,
        )
        depth = np.load(
            tmp_path / name / "depth" / ("000000.npy" if name == "kitti" else "1.000000.npy")
        )
        assert depth.shape == (16, 48) and np.isfinite(depth).all() and (depth > 0).all()


def test_too_few_frames_is_an_error_naming_the_folder(run: Path, tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    Image.fromarray(np.zeros((16, 48, 3), np.uint8)).save(tmp_path / "one" / "a.png")
    with pytest.raises(DataError, match=r"one: 1 frames; SfM needs at least 2"):
        predict_files(unpaired.load(run), tmp_path / "one", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_vkitti_video_is_detected_and_uses_its_constant_intrinsics(
    run: Path, tmp_path: Path
) -> None:
    from unpaired.data.rgbd import scale_intrinsics
    from unpaired.data.vkitti import IMAGE_SIZE, INTRINSICS, write_vkitti

    k = scale_intrinsics(INTRINSICS, IMAGE_SIZE, (25, 83))
    seq = render_sequence(3, n_frames=3, height=25, width=83, intrinsics=k)
    src = write_vkitti(seq.resized(*IMAGE_SIZE), tmp_path / "vkitti")
    frames = open_frames(src)
    assert frames.format == "vkitti" and frames.intrinsics[0, 0] == pytest.approx(725.0)
    summary = predict_files(unpaired.load(run), src, tmp_path / "out", batch_size=2)
    assert summary["format"] == "vkitti" and summary["frames"] == 3
    depth = np.load(tmp_path / "out" / "depth" / "00002.npy")
    assert depth.shape == (16, 48) and np.isfinite(depth).all()
    lines = (tmp_path / "out" / "trajectory.txt").read_text().splitlines()[1:]
    assert [float(ln.split()[0]) for ln in lines] == pytest.approx([0.0, 0.1, 0.2])
