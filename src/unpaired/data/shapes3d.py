"""3D Shapes: the thesis' three domain splits, and the DeepMind ``3dshapes.h5`` layout.

**Splits** (thesis talk, "Datasets": 3D-Shapes-A/B/C; RIFT ``train.py`` and the evaluation
paper's ``generate_dataset.py``). Each split names the factors *shared* by domains A and
B, the *A-specific* ones (vary in A, frozen to one value in B) and the *B-specific* ones
(vary in B, frozen in A). Shared factors vary fully in both domains; the factor tuples in
both domains are dropped from both. Each factor is shared in exactly one split.

=====  ======================  ======================  ======================
split  shared                  A-specific (source)     B-specific (target)
=====  ======================  ======================  ======================
A      object hue, shape       floor hue, wall hue     scale, orientation
B      wall hue, scale         object hue, orientation shape, floor hue
C      floor hue, orientation  wall hue, shape         scale, object hue
=====  ======================  ======================  ======================

Frozen values: split A's are the official ones, decoded from the evaluation code's
image list (domain A: scale 5, orientation 0 (-30 degrees); domain B: floor 0, wall 7;
``../shared/notes/rift_metapose.md`` 1.4). Those of B and C are not public (their files
are on Google Drive only); the values below were chosen here, once, and are pinned by
``tests/data/test_shapes3d.py``. Each domain's tuples are cut into test / val / train
(15% / 10% / the rest) by a fixed permutation per split and domain: the same for every
run and seed (:func:`partition`).

**File layout** (``google-deepmind/3d-shapes``): an HDF5 file with ``images`` (N, 64, 64,
3) uint8 and ``labels`` (N, 6) float64 holding factor *values* (hue in [0, 1), scale
0.75..1.25, shape 0..3, orientation -30..30). :class:`Shapes3DFile` reads any subset of
the 480,000 images by factor tuple; :func:`write_h5` writes the layout (the tests write a
tiny file; users with the real file pass its path and run the same recipe).

Example:
    >>> s = SPLITS["A"]
    >>> s.role("floor_hue", "a2b"), s.role("scale", "a2b"), s.role("shape", "b2a")
    ('source', 'target', 'shared')
    >>> domain_factors(s, "a").shape, domain_factors(s, "b").shape
    (torch.Size([3960, 6]), torch.Size([4760, 6]))
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from unpaired._checks import check_shape
from unpaired.data.synthetic.shapes3d import FACTORS, LEVELS, VALUES, index_of, render
from unpaired.errors import DataError, DataNotFoundError

Direction = Literal["a2b", "b2a"]
Role = Literal["shared", "source", "target"]


@dataclass(frozen=True)
class Split:
    """Which factors are shared or specific, and the frozen values of the specific ones.

    ``frozen_in_a``: (factor, level) of each B-specific factor in domain A;
    ``frozen_in_b``: (factor, level) of each A-specific factor in domain B.
    """

    name: str
    shared: tuple[str, ...]
    frozen_in_a: tuple[tuple[str, int], ...]
    frozen_in_b: tuple[tuple[str, int], ...]

    @property
    def a_specific(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.frozen_in_b)

    @property
    def b_specific(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.frozen_in_a)

    def role(self, factor: str, direction: Direction) -> Role:
        """Role of ``factor`` when translating in ``direction``: ``shared`` (kept from the
        source), ``target`` (specific to the target domain: taken from the guide) or
        ``source`` (specific to the source domain: set to the target's frozen value)."""
        if factor in self.shared:
            return "shared"
        target_specific = self.b_specific if direction == "a2b" else self.a_specific
        return "target" if factor in target_specific else "source"

    def frozen(self, domain: Literal["a", "b"]) -> dict[int, int]:
        """Factor column -> frozen level in ``domain``."""
        pairs = self.frozen_in_a if domain == "a" else self.frozen_in_b
        return {FACTORS.index(f): v for f, v in pairs}


#: The thesis' splits; B and C's frozen values are this library's choice (module doc).
SPLITS: dict[str, Split] = {
    "A": Split(
        "A",
        shared=("object_hue", "shape"),
        frozen_in_a=(("scale", 5), ("orientation", 0)),
        frozen_in_b=(("floor_hue", 0), ("wall_hue", 7)),
    ),
    "B": Split(
        "B",
        shared=("wall_hue", "scale"),
        frozen_in_a=(("shape", 0), ("floor_hue", 5)),
        frozen_in_b=(("object_hue", 3), ("orientation", 7)),
    ),
    "C": Split(
        "C",
        shared=("floor_hue", "orientation"),
        frozen_in_a=(("scale", 5), ("object_hue", 8)),
        frozen_in_b=(("wall_hue", 2), ("shape", 2)),
    ),
}


def domain_factors(split: Split, domain: Literal["a", "b"]) -> torch.Tensor:
    """Every factor tuple (M, 6) of ``domain`` in ``split``, in index order, without the
    tuples that lie in both domains."""
    mine, other = split.frozen(domain), split.frozen("b" if domain == "a" else "a")
    ranges = [[mine[k]] if k in mine else range(n) for k, n in enumerate(LEVELS)]
    f = torch.tensor(list(itertools.product(*ranges)), dtype=torch.long)
    in_both = torch.ones(len(f), dtype=torch.bool)
    for k, v in other.items():
        in_both &= f[:, k] == v
    return f[~in_both]


def partition(
    split: Split, domain: Literal["a", "b"]
) -> dict[Literal["train", "val", "test"], torch.Tensor]:
    """The domain's tuples cut into ``test`` (15%), ``val`` (10%) and ``train`` (the rest)
    by a permutation fixed per split and domain (independent of any run seed)."""
    f = domain_factors(split, domain)
    g = torch.Generator().manual_seed(zlib.crc32(f"shapes3d/{split.name}/{domain}".encode()))
    perm = torch.randperm(len(f), generator=g)
    n_test, n_val = int(0.15 * len(f)), int(0.10 * len(f))
    return {
        "test": f[perm[:n_test]],
        "val": f[perm[n_test : n_test + n_val]],
        "train": f[perm[n_test + n_val :]],
    }


def levels_of(labels: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Level tuples (N, 6) of 3dshapes label *values* (N, 6) (nearest grid value per factor);
    ``DataError`` if a value is off the grid by more than a quarter step."""
    lab = torch.as_tensor(np.asarray(labels), dtype=torch.float64)
    check_shape("labels", lab, ("N", 6))
    out = []
    for k, vals in enumerate(VALUES):
        grid = torch.tensor(vals, dtype=torch.float64)
        dist = (lab[:, k, None] - grid).abs()
        err, level = dist.min(1)
        step = float(grid[1] - grid[0])
        if err.numel() and float(err.max()) > step / 4:
            raise DataError(
                f"labels: {FACTORS[k]} value {float(lab[err.argmax(), k])} is off its grid"
            )
        out.append(level)
    return torch.stack(out, 1)


def values_of(factors: torch.Tensor) -> np.ndarray:
    """3dshapes label values (N, 6) float64 of level tuples (N, 6)."""
    return np.stack([np.asarray(VALUES[k])[factors[:, k].numpy()] for k in range(6)], 1)


def write_h5(path: str | Path, images: torch.Tensor, factors: torch.Tensor) -> Path:
    """Write images (N, 3, 64, 64) in [-1, 1] and level tuples (N, 6) as a 3dshapes.h5 file
    (``images`` uint8 (N, 64, 64, 3), ``labels`` float64 values), atomically."""
    import h5py

    check_shape("images", images, ("N", 3, "H", "W"))
    check_shape("factors", factors, (images.shape[0], 6))
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    u8 = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)
    with h5py.File(tmp, "w") as f:
        f.create_dataset("images", data=u8.numpy())
        f.create_dataset("labels", data=values_of(factors))
    tmp.replace(path)
    return path


class Shapes3DFile:
    """A ``3dshapes.h5`` file (the full 480,000 images or any subset) read by factor tuple.

    ``images(factors)`` returns images (N, 3, size, size) in [-1, 1] (area-resized from
    64 px when ``size`` differs); a tuple missing from the file is a ``DataError``.
    """

    def __init__(self, path: str | Path) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError(f"{self.path}: no such file (the DeepMind 3dshapes.h5)")
        try:
            with h5py.File(self.path, "r") as f:
                if "images" not in f or "labels" not in f:
                    raise DataError(f"{self.path}: expected datasets 'images' and 'labels'")
                shape, labels = f["images"].shape, np.asarray(f["labels"])
        except OSError as e:
            raise DataError(f"{self.path}: not a readable HDF5 file ({e})") from None
        if len(shape) != 4 or shape[1:] != (64, 64, 3) or labels.shape != (shape[0], 6):
            raise DataError(
                f"{self.path}: expected images (N, 64, 64, 3) and labels (N, 6), "
                f"got {shape} and {labels.shape}"
            )
        idx = index_of(levels_of(labels)).numpy()
        self._row = dict(zip(idx.tolist(), range(len(idx)), strict=True))

    def __len__(self) -> int:
        return len(self._row)

    def images(self, factors: torch.Tensor, size: int = 64) -> torch.Tensor:
        import h5py

        wanted = index_of(factors).tolist()
        missing = [i for i in wanted if i not in self._row]
        if missing:
            raise DataError(f"{self.path}: {len(missing)} requested images are not in the file")
        rows = np.asarray([self._row[i] for i in wanted], dtype=np.int64)
        order = np.argsort(rows)
        uniq, inverse = np.unique(rows[order], return_inverse=True)
        with h5py.File(self.path, "r") as f:
            data = np.asarray(f["images"][uniq.tolist()])
        out = np.empty((len(rows), 64, 64, 3), dtype=np.uint8)
        out[order] = data[inverse]
        x = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1
        if size != 64:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="area")
        return x


ImageSource = Callable[[torch.Tensor, int], torch.Tensor]


def image_source(path: str | Path | None = None, *, supersample: int = 2) -> ImageSource:
    """``f(factors (N, 6), size) -> images``: the procedural renderer when ``path`` is
    None, else the images of a 3dshapes.h5 file."""
    if path is None:
        return lambda f, size: render(f, size, supersample=supersample)
    file = Shapes3DFile(path)
    return file.images


def cached_source(source: ImageSource) -> ImageSource:
    """``source`` with memory: each (factor tuple, size) is rendered (or read) once, so the
    test pairs that every method is scored on are not rendered again per method.

    >>> calls = []
    >>> def fake(f, size):
    ...     calls.append(len(f))
    ...     return f.float()[:, :3, None, None].expand(-1, 3, size, size)
    >>> images = cached_source(fake)
    >>> f = torch.tensor([[1, 2, 3, 4, 1, 5], [1, 2, 3, 4, 1, 5], [0, 0, 0, 0, 0, 0]])
    >>> images(f, 2).shape, images(f[:1], 2)[0, :, 0, 0].tolist(), calls
    (torch.Size([3, 3, 2, 2]), [1.0, 2.0, 3.0], [2])
    """
    store: dict[tuple[int, int], torch.Tensor] = {}

    def images(factors: torch.Tensor, size: int) -> torch.Tensor:
        keys = index_of(factors).tolist()
        missing = list(dict.fromkeys(k for k in keys if (k, size) not in store))
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            rows = factors[torch.tensor([first[k] for k in missing])]
            store.update({(k, size): x for k, x in zip(missing, source(rows, size), strict=True)})
        if not keys:
            return source(factors, size)
        return torch.stack([store[(k, size)] for k in keys])

    return images
