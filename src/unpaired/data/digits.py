"""Handwritten digits: MNIST (IDX files) and USPS (HDF5), as image tensors.

Both loaders return ``(images, labels)``: float32 images (N, 1, H, W) in [0, 1] and
int64 labels (N,) in 0..9. MNIST is 28x28 and USPS 16x16 natively; ``size`` resizes
with :func:`resize_images` so the two domains can share one resolution (the usual
USPS <-> MNIST pairs use 16x16 or 32x32).

Files (under the data directory, see ``unpaired data check``):

* ``mnist/{t10k,train}-images-idx3-ubyte[.gz]`` and ``...-labels-idx1-ubyte[.gz]``:
  the IDX format (big-endian header: two zero bytes, a type code, the number of
  dimensions, then each dimension as a uint32; then the values), gzip or raw.
* ``usps/usps.h5``: groups ``train`` and ``test``, each with ``data`` (N, 256) floats
  in [0, 1] (16x16 images, row-major) and ``target`` (N,) integer labels.

:class:`Labelled` is the labelled image set every digit and face experiment passes around;
:func:`load_digits` gives either dataset at the 32x32 frame of the biased image recipes.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from unpaired._checks import check_shape
from unpaired.data.catalog import require
from unpaired.errors import ConfigError, DataError, DataNotFoundError

#: IDX type codes -> big-endian numpy dtypes.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MNIST_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw, detected from its first bytes).

    Returns an array with the dimensions and dtype of its header. Raises
    :class:`DataError` naming the file on a bad magic number, a corrupt gzip stream,
    or a payload shorter or longer than the header promises.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DataError(
            f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'}; expected "
            "00 00, a type code in 08/09/0b/0c/0d/0e, and a dimension count >= 1)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: IDX payload is {len(raw) - header} bytes, but the header {dims} "
            f"of {dtype.name} needs {expected} (truncated or corrupt file)"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))
    )


def resize_images(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize images (B, C, H, W) -> (B, C, *size).

    Shrinking (both sides no larger) averages pixel areas (``F.interpolate`` mode
    ``"area"``, i.e. adaptive average pooling); anything else is antialiased bilinear
    (``align_corners=False``). Both are convex combinations of input pixels, so
    images in [0, 1] stay in [0, 1]. The same size returns ``x`` unchanged.
    """
    check_shape("x", x, ("B", "C", "H", "W"))
    out = (size, size) if isinstance(size, int) else tuple(size)
    if len(out) != 2 or min(out) < 1:
        raise ValueError(f"size must be a positive int or (height, width), got {size!r}")
    if out == tuple(x.shape[-2:]):
        return x
    if out[0] <= x.shape[-2] and out[1] <= x.shape[-1]:
        return F.interpolate(x, size=out, mode="area")
    return F.interpolate(x, size=out, mode="bilinear", align_corners=False, antialias=True)


def _find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataNotFoundError(
        f"{stem}.gz (or {stem}) not found under {folder}; obtain it from "
        "https://yann.lecun.com/exdb/mnist/"
    )


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def load_mnist(
    root: str | Path,
    *,
    split: Literal["train", "test"] = "test",
    size: int = 28,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST from the data directory ``root``: images (N, 1, size, size), labels (N,).

    Images are float32 in [0, 1] (bytes / 255), resized from 28x28 with
    :func:`resize_images` when ``size != 28``; labels are int64 in 0..9. The
    development data has only the test split (10,000 digits).
    """
    _check_split(split)
    folder = require("mnist", Path(root))
    prefix = _MNIST_PREFIX[split]
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8 or labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: expected {images.shape[0]} uint8 labels (one per image in "
            f"{images_path.name}), got {labels.dtype} {labels.shape}"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: labels must be 0..9, found {int(labels.max())}")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    return resize_images(x, size), torch.from_numpy(labels.astype(np.int64))


def load_usps(
    root: str | Path,
    *,
    split: Literal["train", "test"] = "train",
    size: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """USPS from the data directory ``root``: images (N, 1, size, size), labels (N,).

    Images are float32 in [0, 1] (as stored), resized from 16x16 with
    :func:`resize_images` when ``size != 16``; labels int64 in 0..9.
    Train has 7,291 digits, test 2,007.
    """
    _check_split(split)
    path = require("usps", Path(root)) / "usps.h5"
    try:
        with h5py.File(path, "r") as f:
            group = f.get(split)
            if not isinstance(group, h5py.Group) or "data" not in group or "target" not in group:
                raise DataError(f"{path}: expected datasets {split}/data and {split}/target")
            data = np.asarray(group["data"], dtype=np.float32)
            target = np.asarray(group["target"])
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file ({e})") from None
    if data.ndim != 2 or data.shape[1] != 256 or target.shape != (data.shape[0],):
        raise DataError(
            f"{path}: expected {split}/data (N, 256) and {split}/target (N,), "
            f"got {data.shape} and {target.shape}"
        )
    if data.size and not (np.isfinite(data).all() and data.min() >= 0.0 and data.max() <= 1.0):
        raise DataError(f"{path}: {split}/data must hold finite values in [0, 1]")
    if target.dtype.kind not in "iu" or (target.size and (target.min() < 0 or target.max() > 9)):
        raise DataError(f"{path}: {split}/target must hold integer labels 0..9")
    x = torch.from_numpy(data.reshape(-1, 1, 16, 16))
    return resize_images(x, size), torch.from_numpy(target.astype(np.int64))


@dataclass
class Labelled:
    """Images (N, C, H, W) with integer labels (N,) (digit, person, ...)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        check_shape("images", self.images, ("N", "C", "H", "W"))
        check_shape("labels", self.labels, (self.images.shape[0],))

    def __len__(self) -> int:
        return self.images.shape[0]

    def take(self, index: torch.Tensor) -> Labelled:
        """The rows ``index`` (an int64 index tensor), in that order."""
        return Labelled(self.images[index], self.labels[index])

    def where(self, keep: torch.Tensor) -> Labelled:
        """The rows where the boolean mask ``keep`` (N,) is set, in order."""
        return self.take(torch.nonzero(keep).flatten())

    def with_flips(self) -> Labelled:
        """The set followed by its horizontal mirror images (same labels)."""
        return Labelled(
            torch.cat([self.images, self.images.flip(-1)]), torch.cat([self.labels, self.labels])
        )

    @staticmethod
    def cat(*sets: Labelled) -> Labelled:
        """The sets one after the other."""
        return Labelled(
            torch.cat([s.images for s in sets]).contiguous(), torch.cat([s.labels for s in sets])
        )


def load_digits(root: str | Path, dataset: Literal["mnist", "usps"]) -> Labelled:
    """Every digit of ``dataset`` at 32x32: MNIST (the test split, 10,000) 28x28 padded by
    2 px; USPS (train + test, 9,298) 16x16 resized to 24x24 and padded by 4 px, about
    MNIST's digit-to-frame ratio."""
    if dataset == "mnist":
        x, y = load_mnist(root, split="test")
        return Labelled(F.pad(x, (2, 2, 2, 2)), y)
    if dataset == "usps":
        parts = [load_usps(root, split=s) for s in ("train", "test")]
        x = torch.cat([p[0] for p in parts])
        return Labelled(F.pad(resize_images(x, 24), (4, 4, 4, 4)), torch.cat([p[1] for p in parts]))
    raise ValueError(f"dataset must be 'mnist' or 'usps', got {dataset!r}")


def random_scale(
    x: torch.Tensor, low: float, high: float, *, generator: torch.Generator
) -> torch.Tensor:
    """Each image (N, C, H, W) zoomed about its centre by its own factor, uniform in
    [``low``, ``high``] (bilinear, zeros outside): the "scaled MNIST" of PuppetGAN's size
    experiment, so the real domain shows sizes to manipulate."""
    check_shape("x", x, ("N", "C", "H", "W"))
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got {low}, {high}")
    s = low + (high - low) * torch.rand(x.shape[0], generator=generator)
    theta = torch.zeros(x.shape[0], 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / s
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@dataclass
class AlignmentSplits:
    """USPS -> MNIST alignment sets (``align-digits``), every one :class:`Labelled`.

    ``mnist_train`` (classifier, autoencoder, alignment target B), ``mnist_val``
    (classifier validation, target side of held-out distances), ``usps_fit`` (the
    alignment source A), ``usps_holdout`` (monitoring only), ``usps_test`` (reported only).
    """

    mnist_train: Labelled
    mnist_val: Labelled
    usps_fit: Labelled
    usps_holdout: Labelled
    usps_test: Labelled


def alignment_splits(
    root: str | Path,
    *,
    size: int,
    mnist_val: int,
    usps_holdout: int,
    mnist_generator: torch.Generator,
    usps_generator: torch.Generator,
) -> AlignmentSplits:
    """MNIST (its test split, the only one in the data directory) split at random into
    train and ``mnist_val`` validation digits; USPS train split into the alignment source
    and ``usps_holdout`` hold-out digits; USPS test as is; all at ``size`` x ``size``.
    Each random split draws from its own generator."""
    mnist = Labelled(*load_mnist(root, split="test", size=size))
    usps = Labelled(*load_usps(root, split="train", size=size))
    test = Labelled(*load_usps(root, split="test", size=size))
    if not 0 < mnist_val < len(mnist) or not 0 < usps_holdout < len(usps):
        raise ConfigError(
            f"mnist_val must be in 1..{len(mnist) - 1} and usps_holdout in "
            f"1..{len(usps) - 1}; got {mnist_val}, {usps_holdout}"
        )
    pm = torch.randperm(len(mnist), generator=mnist_generator)
    pu = torch.randperm(len(usps), generator=usps_generator)
    return AlignmentSplits(
        mnist_train=mnist.take(pm[mnist_val:]),
        mnist_val=mnist.take(pm[:mnist_val]),
        usps_fit=usps.take(pu[usps_holdout:]),
        usps_holdout=usps.take(pu[:usps_holdout]),
        usps_test=test,
    )
