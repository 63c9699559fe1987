from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from unpaired.data.faces import load_olivetti, per_person_split, person_split, split_people
from unpaired.errors import DataError, DataNotFoundError


def write_mat(root: Path, faces: object) -> Path:
    (root / "faces").mkdir(parents=True, exist_ok=True)
    path = root / "faces" / "olivettifaces.mat"
    scipy.io.savemat(path, {"faces": faces})
    return path


def test_small_file_columns_are_column_major_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 64, 64), dtype=np.uint8)  # 2 people
    images[:, :2, :] = 255  # bright top rows: transposing would make them columns
    # MATLAB stores each image column-major: column n is images[n] flattened in 'F' order
    write_mat(tmp_path, np.stack([im.flatten(order="F") for im in images], axis=1))
    x, ids = load_olivetti(tmp_path)
    assert x.shape == (20, 1, 64, 64) and x.dtype == torch.float32
    torch.testing.assert_close(x[:, 0], torch.from_numpy(images).float() / 255)
    assert ids.tolist() == [0] * 10 + [1] * 10 and ids.dtype == torch.int64
    x32, _ = load_olivetti(tmp_path, size=32)
    assert x32.shape == (20, 1, 32, 32) and (x32[:, 0, 0] > 0.99).all()


@pytest.mark.parametrize(
    ("faces", "match"),
    [
        (np.zeros((4096, 15), np.uint8), r"uint8 \(4096, 10 \* people\)"),
        (np.zeros((4095, 10), np.uint8), r"got uint8 \(4095, 10\)"),
        (np.zeros((4096, 10), np.float64), "got float64"),
    ],
)
def test_bad_contents(tmp_path: Path, faces: np.ndarray, match: str) -> None:
    write_mat(tmp_path, faces)
    with pytest.raises(DataError, match=match):
        load_olivetti(tmp_path)


def test_missing_variable_and_unreadable_file(tmp_path: Path) -> None:
    path = write_mat(tmp_path, np.zeros((4096, 10), np.uint8))
    scipy.io.savemat(path, {"images": np.zeros(3)})
    with pytest.raises(DataError, match="no such variable"):
        load_olivetti(tmp_path)
    path.write_bytes(b"garbage" * 20)
    with pytest.raises(DataError, match="not a readable MATLAB v5 file"):
        load_olivetti(tmp_path)


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="olivetti_faces"):
        load_olivetti(tmp_path)


def test_real_olivetti_is_upright(shared_data: Path) -> None:
    """Faces are near mirror-symmetric left-right, not top-bottom: so is their mean."""
    x, ids = load_olivetti(shared_data)
    assert x.shape == (400, 1, 64, 64) and 0 <= x.min() and x.max() <= 1
    assert torch.bincount(ids).tolist() == [10] * 40
    mean = x.mean(0)[0]
    left_right = (mean - mean.flip(1)).abs().mean()
    top_bottom = (mean - mean.flip(0)).abs().mean()
    assert left_right < 0.5 * top_bottom


def test_person_split_holds_out_whole_people() -> None:
    ids = torch.arange(400) // 10
    train, test = person_split(ids, test_people=8, generator=torch.Generator().manual_seed(0))
    assert len(test) == 80 and len(train) == 320
    assert set(ids[train].tolist()).isdisjoint(ids[test].tolist())
    assert sorted(train.tolist() + test.tolist()) == list(range(400))
    assert torch.equal(train, train.sort().values)
    again = person_split(ids, test_people=8, generator=torch.Generator().manual_seed(0))
    other = person_split(ids, test_people=8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again[1], test) and not torch.equal(other[1], test)


@pytest.mark.parametrize("k", [0, 40])
def test_person_split_bad_sizes(k: int) -> None:
    with pytest.raises(ValueError, match="test_people"):
        person_split(torch.arange(400) // 10, test_people=k)
    with pytest.raises(ValueError, match="integer"):
        person_split(torch.zeros(4), test_people=1)


def test_split_people_groups_are_disjoint_and_start_with_person_split() -> None:
    ids = torch.arange(400) // 10
    groups = split_people(ids, (5, 3), exclude=(13,), generator=torch.Generator().manual_seed(4))
    assert [len(g) for g in groups] == [5, 3, 31]
    every = torch.cat(groups)
    assert 13 not in every.tolist() and len(set(every.tolist())) == 39
    _, test = person_split(ids, test_people=5, generator=torch.Generator().manual_seed(4))
    plain = split_people(ids, (5,), generator=torch.Generator().manual_seed(4))[0]
    assert set(ids[test].tolist()) == set(plain.tolist())
    with pytest.raises(ValueError, match="cannot draw groups"):
        split_people(ids, (30, 20))


def test_per_person_split_takes_the_first_images_of_each_person() -> None:
    ids = torch.arange(40) // 10
    first, rest = per_person_split(ids, torch.tensor([2, 0]), first=3, generator=None)
    assert ids[first].tolist() == [2, 2, 2, 0, 0, 0] and len(rest) == 14
    assert not set(first.tolist()) & set(rest.tolist())
    with pytest.raises(ValueError, match="cannot take 11"):
        per_person_split(ids, torch.tensor([1]), first=11)
