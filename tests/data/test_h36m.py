from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from unpaired.data.h36m import activity, load_h36m, load_h36m_2d, load_h36m_3d
from unpaired.errors import DataError, DataNotFoundError

KEPT = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
SYMMETRY = [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]


def fake_3d(frames: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(frames, 32, 3)).astype(np.float32)


def write_3d(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """The VideoPose3D layout: positions_3d = {subject: {action: (T, 32, 3)}}."""
    data = {
        "S1": {"Directions 1": fake_3d(9, 0), "TakingPhoto": fake_3d(4, 1)},
        "S9": {"Walking": fake_3d(6, 2)},
    }
    np.savez_compressed(path, positions_3d=data)
    return data


def write_2d(path: Path, *, joints: int = 17, symmetry: list[list[int]] = SYMMETRY) -> dict:
    rng = np.random.default_rng(5)
    data = {
        "S1": {
            "Directions 1": [
                rng.uniform(0, 1000, (9, joints, 2)).astype(np.float32) for _ in range(4)
            ]
        },
    }
    metadata = {"num_joints": joints, "keypoints_symmetry": symmetry}
    np.savez_compressed(path, positions_2d=data, metadata=metadata)
    return data


def test_load_3d_maps_to_17_joints_y_up(tmp_path: Path) -> None:
    raw = write_3d(tmp_path / "data_3d_h36m.npz")
    poses = load_h36m_3d(tmp_path / "data_3d_h36m.npz")
    assert sorted(poses) == ["S1", "S9"] and sorted(poses["S1"]) == ["Directions 1", "TakingPhoto"]
    out = poses["S1"]["Directions 1"]
    assert out.shape == (9, 17, 3) and out.dtype == torch.float32
    src = torch.from_numpy(raw["S1"]["Directions 1"][:, KEPT])
    # z up -> y up: (x, y, z) -> (x, z, -y)
    torch.testing.assert_close(out, torch.stack([src[..., 0], src[..., 2], -src[..., 1]], -1))


def test_load_3d_subjects_and_step(tmp_path: Path) -> None:
    write_3d(tmp_path / "d.npz")
    full = load_h36m_3d(tmp_path / "d.npz")
    sub = load_h36m_3d(tmp_path / "d.npz", subjects=["S9"], step=3)
    assert list(sub) == ["S9"]
    torch.testing.assert_close(sub["S9"]["Walking"], full["S9"]["Walking"][::3])
    with pytest.raises(DataError, match=r"subjects \['S5'\] not found"):
        load_h36m_3d(tmp_path / "d.npz", subjects=["S5"])


def test_load_2d_checks_metadata(tmp_path: Path) -> None:
    raw = write_2d(tmp_path / "gt.npz")
    out = load_h36m_2d(tmp_path / "gt.npz")
    views = out["S1"]["Directions 1"]
    assert len(views) == 4 and views[0].shape == (9, 17, 2)
    torch.testing.assert_close(views[2], torch.from_numpy(raw["S1"]["Directions 1"][2]))
    write_2d(tmp_path / "g32.npz", joints=32)
    assert load_h36m_2d(tmp_path / "g32.npz")["S1"]["Directions 1"][0].shape == (9, 17, 2)
    write_2d(tmp_path / "swapped.npz", symmetry=SYMMETRY[::-1])
    with pytest.raises(DataError, match="keypoints_symmetry"):
        load_h36m_2d(tmp_path / "swapped.npz")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a zip at all"), "not a readable .npz"),
        (lambda p: p.write_bytes(_valid_bytes(p)[:300]), "not a readable .npz"),  # truncated
        (lambda p: np.savez_compressed(p, other=np.zeros(3)), "no 'positions_3d' entry"),
        (
            lambda p: np.savez_compressed(p, positions_3d={"S1": {"Walk": np.zeros((5, 20, 3))}}),
            r"positions_3d\['S1'\]\['Walk'\] has shape",
        ),
        (lambda p: np.savez_compressed(p, positions_3d={"S1": [1, 2]}), "must be a dict"),
        (
            lambda p: np.savez_compressed(
                p, positions_3d={"S1": {"W": np.full((2, 32, 3), np.nan)}}
            ),
            "NaN",
        ),
    ],
)
def test_corrupt_3d_files_raise_data_error(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "bad.npz"
    make(path)
    with pytest.raises(DataError, match=message) as err:
        load_h36m_3d(path)
    assert "bad.npz" in str(err.value)


def _valid_bytes(path: Path) -> bytes:
    write_3d(path.with_name("valid.npz"))
    return path.with_name("valid.npz").read_bytes()


def test_load_from_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="human36m"):
        load_h36m(tmp_path)
    (tmp_path / "human36m").mkdir()
    write_3d(tmp_path / "human36m" / "data_3d_h36m.npz")
    poses_3d, poses_2d = load_h36m(tmp_path)
    assert poses_2d is None and "S1" in poses_3d
    write_2d(tmp_path / "human36m" / "data_2d_h36m_gt.npz")
    _, poses_2d = load_h36m(tmp_path, subjects=["S1"])
    assert poses_2d is not None and len(poses_2d["S1"]["Directions 1"]) == 4


def test_activity_names() -> None:
    assert activity("Directions 1") == "Directions"
    assert activity("TakingPhoto") == "Photo"
    assert activity("WalkingDog 1") == "WalkDog"
    assert activity("SittingDown") == "SittingDown"
