from __future__ import annotations

import gzip
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from unpaired.data.digits import (
    Labelled,
    load_digits,
    load_mnist,
    load_usps,
    read_idx,
    resize_images,
)
from unpaired.errors import ConfigError, DataError, DataNotFoundError

_CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
}


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, _CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, *, gz: bool) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "float32"])
def test_read_idx_round_trip(tmp_path: Path, gz: bool, dtype: str) -> None:
    arr = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    if dtype == "uint8":
        arr = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    out = read_idx(write(tmp_path / "a.idx", idx_bytes(arr), gz=gz))
    assert out.shape == arr.shape and out.dtype == arr.dtype
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"\x08\x03" + b[2:], "not an IDX file"),
        (lambda b: b[:2] + b"\x42" + b[3:], "not an IDX file"),
        (lambda b: b[:6], "truncated IDX header"),
        (lambda b: b[:-5], "payload is"),
        (lambda b: b + b"\x00", "payload is"),
        (lambda b: b"", "not an IDX file"),
    ],
)
def test_read_idx_corrupt_files_name_the_file(tmp_path: Path, mangle, message: str) -> None:
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write(tmp_path / "broken-idx3-ubyte", mangle(idx_bytes(arr)), gz=False)
    with pytest.raises(DataError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_read_idx_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(np.zeros((10, 28, 28), dtype=np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.gz: corrupt or truncated gzip"):
        read_idx(path)


def make_mnist(root: Path, images: np.ndarray, labels: np.ndarray, *, gz: bool = True) -> None:
    folder = root / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    # the catalog looks for the gzip names, so always keep those present
    write(folder / "t10k-images-idx3-ubyte.gz", idx_bytes(images), gz=True)
    write(folder / "t10k-labels-idx1-ubyte.gz", idx_bytes(labels), gz=True)
    write(folder / f"train-images-idx3-ubyte{suffix}", idx_bytes(images), gz=gz)
    write(folder / f"train-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz=gz)


@pytest.mark.parametrize("split", ["test", "train"])
def test_load_mnist_small_files(tmp_path: Path, split: str) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    make_mnist(tmp_path, images, labels, gz=split == "test")
    x, y = load_mnist(tmp_path, split=split)  # type: ignore[arg-type]
    assert x.shape == (5, 1, 28, 28) and x.dtype == torch.float32
    torch.testing.assert_close(x[:, 0], torch.from_numpy(images).float() / 255)
    assert y.dtype == torch.int64 and y.tolist() == [3, 1, 4, 1, 5]
    for size in (16, 32):
        xs, _ = load_mnist(tmp_path, split=split, size=size)  # type: ignore[arg-type]
        assert xs.shape == (5, 1, size, size)
        assert 0.0 <= xs.min() and xs.max() <= 1.0


def test_load_mnist_inconsistent_files(tmp_path: Path) -> None:
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    make_mnist(tmp_path, images, np.array([1, 2, 3], dtype=np.uint8))
    with pytest.raises(DataError, match="expected 4 uint8 labels"):
        load_mnist(tmp_path)
    make_mnist(tmp_path, images, np.array([1, 2, 3, 10], dtype=np.uint8))
    with pytest.raises(DataError, match=r"labels must be 0\.\.9"):
        load_mnist(tmp_path)
    make_mnist(tmp_path, np.zeros((4, 16, 16), dtype=np.uint8), np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match=r"\(N, 28, 28\)"):
        load_mnist(tmp_path)


def test_load_mnist_missing(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="dataset 'mnist' not found"):
        load_mnist(tmp_path)
    make_mnist(tmp_path, np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        (tmp_path / "mnist" / name).unlink(missing_ok=True)
    with pytest.raises(DataNotFoundError, match=r"train-images-idx3-ubyte\.gz"):
        load_mnist(tmp_path, split="train")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="val")  # type: ignore[arg-type]


def make_usps(root: Path, data: np.ndarray, target: np.ndarray) -> Path:
    (root / "usps").mkdir(parents=True, exist_ok=True)
    path = root / "usps" / "usps.h5"
    with h5py.File(path, "w") as f:
        for split in ("train", "test"):
            f[f"{split}/data"] = data
            f[f"{split}/target"] = target
    return path


def test_load_usps_small_file_is_row_major(tmp_path: Path) -> None:
    data = np.zeros((3, 256), dtype=np.float32)
    data[0, 2 * 16 + 5] = 1.0  # row 2, column 5 of image 0
    data[1] = np.linspace(0, 1, 256)
    make_usps(tmp_path, data, np.array([7, 0, 9], dtype=np.int32))
    x, y = load_usps(tmp_path, split="test")
    assert x.shape == (3, 1, 16, 16) and y.tolist() == [7, 0, 9] and y.dtype == torch.int64
    assert x[0, 0, 2, 5] == 1.0 and x[0].sum() == 1.0
    x32, _ = load_usps(tmp_path, size=32)
    assert x32.shape == (3, 1, 32, 32) and 0 <= x32.min() and x32.max() <= 1


def test_load_usps_bad_files(tmp_path: Path) -> None:
    path = make_usps(tmp_path, np.full((2, 256), 2.0, np.float32), np.zeros(2, np.int32))
    with pytest.raises(DataError, match=r"values in \[0, 1\]"):
        load_usps(tmp_path)
    make_usps(tmp_path, np.zeros((2, 255), np.float32), np.zeros(2, np.int32))
    with pytest.raises(DataError, match=r"\(N, 256\)"):
        load_usps(tmp_path)
    make_usps(tmp_path, np.zeros((2, 256), np.float32), np.array([0, 11], np.int32))
    with pytest.raises(DataError, match=r"labels 0\.\.9"):
        load_usps(tmp_path)
    with h5py.File(path, "w") as f:
        f["train/data"] = np.zeros((1, 256), np.float32)
    with pytest.raises(DataError, match="test/data and test/target"):
        load_usps(tmp_path, split="test")
    path.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        load_usps(tmp_path)


def test_resize_images() -> None:
    x = torch.rand(2, 1, 8, 8)
    assert resize_images(x, 8) is x
    torch.testing.assert_close(resize_images(x, 4), torch.nn.functional.avg_pool2d(x, 2))
    up = resize_images(x, (16, 12))
    assert up.shape == (2, 1, 16, 12) and x.min() <= up.min() and up.max() <= x.max()
    flat = torch.full((1, 1, 28, 28), 0.3)
    for size in (16, 32):
        torch.testing.assert_close(resize_images(flat, size), torch.full((1, 1, size, size), 0.3))
    with pytest.raises(ValueError, match="size"):
        resize_images(x, 0)


def test_real_mnist(shared_data: Path) -> None:
    x, y = load_mnist(shared_data)
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert x.min() == 0.0 and x.max() == 1.0
    assert y[:5].tolist() == [7, 2, 1, 0, 4]  # the well-known first test digits
    assert torch.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_usps_is_upright_like_mnist(shared_data: Path) -> None:
    """Class means of USPS correlate with MNIST's as stored, less once transposed."""
    xu, yu = load_usps(shared_data, split="train")
    xt, _ = load_usps(shared_data, split="test")
    assert xu.shape == (7291, 1, 16, 16) and xt.shape == (2007, 1, 16, 16)
    assert set(yu.tolist()) == set(range(10)) and 0 <= xu.min() and xu.max() <= 1
    xm, ym = load_mnist(shared_data, size=16)
    upright, transposed = 0.0, 0.0
    for k in range(10):
        mu, mm = xu[yu == k].mean(0).flatten(), xm[ym == k].mean(0).flatten()
        mt = xu[yu == k].mean(0).transpose(-1, -2).flatten()
        upright += torch.corrcoef(torch.stack([mu, mm]))[0, 1].item()
        transposed += torch.corrcoef(torch.stack([mt, mm]))[0, 1].item()
    assert upright / 10 > 0.4 and upright > transposed + 1.0  # measured: 0.51 vs 0.24 mean


def test_labelled_sets_take_where_flip_and_concatenate() -> None:
    images = torch.arange(4 * 3 * 2, dtype=torch.float32).reshape(4, 1, 3, 2)
    s = Labelled(images, torch.tensor([3, 1, 3, 0]))
    assert len(s) == 4
    assert s.where(s.labels == 3).labels.tolist() == [3, 3]
    assert torch.equal(s.take(torch.tensor([2, 0])).images, images[[2, 0]])
    flipped = s.with_flips()
    assert len(flipped) == 8 and torch.equal(flipped.images[4:], images.flip(-1))
    both = Labelled.cat(s, s.take(torch.tensor([1])))
    assert both.labels.tolist() == [3, 1, 3, 0, 1]
    with pytest.raises(ValueError, match="labels"):
        Labelled(images, torch.zeros(3, dtype=torch.long))


def test_load_digits_gives_32x32_frames(shared_data) -> None:
    for name, n in (("mnist", 10000), ("usps", 9298)):
        d = load_digits(shared_data, name)
        assert d.images.shape == (n, 1, 32, 32) and len(d.labels) == n
        assert d.images[:, :, :2].abs().max() == 0  # the padded border
    with pytest.raises(ValueError, match="dataset must be 'mnist' or 'usps'"):
        load_digits(shared_data, "svhn")  # type: ignore[arg-type]


def _rows(x: torch.Tensor) -> set[bytes]:
    return {r.numpy().tobytes() for r in x.flatten(1)}


def test_alignment_splits_keep_usps_test_and_the_holdout_apart(shared_data: Path) -> None:
    from unpaired.data.digits import alignment_splits

    s = alignment_splits(
        shared_data,
        size=16,
        mnist_val=2000,
        usps_holdout=1000,
        mnist_generator=torch.Generator().manual_seed(1),
        usps_generator=torch.Generator().manual_seed(2),
    )
    sets = (s.mnist_train, s.mnist_val, s.usps_fit, s.usps_holdout, s.usps_test)
    assert [len(d) for d in sets] == [8000, 2000, 6291, 1000, 2007]
    assert all(d.images.shape[1:] == (1, 16, 16) for d in sets)
    assert len(_rows(s.usps_holdout.images) & _rows(s.usps_fit.images)) <= 2  # duplicates at most
    assert not _rows(s.mnist_val.images) & _rows(s.mnist_train.images)
    assert set(s.usps_test.labels.tolist()) == set(range(10))
    with pytest.raises(ConfigError, match=r"mnist_val must be in 1\.\.9999"):
        alignment_splits(
            shared_data,
            size=16,
            mnist_val=10000,
            usps_holdout=1,
            mnist_generator=torch.Generator(),
            usps_generator=torch.Generator(),
        )
