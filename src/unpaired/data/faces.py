"""Olivetti / AT&T faces: 40 people x 10 grayscale images, 64x64.

File: ``faces/olivettifaces.mat`` (MATLAB v5) under the data directory, holding
``faces`` (4096, 400) uint8. Column ``10k + i`` is image ``i`` of person ``k``; each
column is a 64x64 image stored column-major (MATLAB order), so a column reshaped
row-major must be transposed to stand upright.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.io
import torch

from unpaired._checks import check_shape
from unpaired.data.catalog import require
from unpaired.data.digits import resize_images
from unpaired.errors import DataError

IMAGES_PER_PERSON = 10
_SIDE = 64


def load_olivetti(root: str | Path, *, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Olivetti faces from the data directory ``root``.

    Returns images (400, 1, size, size) float32 in [0, 1] (bytes / 255, upright,
    resized from 64x64 with :func:`unpaired.data.digits.resize_images` when
    ``size != 64``) and person ids (400,) int64 in 0..39 (ten images each, in order).
    """
    path = require("olivetti_faces", Path(root)) / "olivettifaces.mat"
    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises OSError, ValueError, IndexError... on bad files
        raise DataError(
            f"{path}: not a readable MATLAB v5 file ({type(e).__name__}: {e})"
        ) from None
    faces = mat.get("faces")
    if (
        not isinstance(faces, np.ndarray)
        or faces.dtype != np.uint8
        or faces.ndim != 2
        or faces.shape[0] != _SIDE * _SIDE
        or faces.shape[1] % IMAGES_PER_PERSON
        or faces.shape[1] == 0
    ):
        got = (
            f"{faces.dtype} {faces.shape}" if isinstance(faces, np.ndarray) else "no such variable"
        )
        raise DataError(
            f"{path}: expected variable 'faces' of uint8 (4096, 10 * people), got {got}"
        )
    n = faces.shape[1]
    # column-major 64x64 per column: (4096, N) -> (N, 64, 64) rows-then-cols, then transpose
    images = faces.T.reshape(n, _SIDE, _SIDE).transpose(0, 2, 1)
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32) / 255.0)[:, None]
    ids = torch.arange(n, dtype=torch.int64) // IMAGES_PER_PERSON
    return resize_images(x, size), ids


def _check_ids(person_ids: torch.Tensor) -> None:
    check_shape("person_ids", person_ids, ("N",))
    if person_ids.dtype.is_floating_point or person_ids.dtype == torch.bool:
        raise ValueError(f"person_ids must be integer, got {person_ids.dtype}")


def split_people(
    person_ids: torch.Tensor,
    sizes: Sequence[int],
    *,
    exclude: Sequence[int] = (),
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """Random disjoint groups of whole people: ``len(sizes) + 1`` tensors of person ids,
    ``sizes[i]`` people each and the rest last (people in ``exclude`` are in no group).

    ``person_ids`` is (N,) integer. The people (sorted) are shuffled once with
    ``generator`` and cut in order, so the first group is :func:`person_split`'s test set.
    """
    _check_ids(person_ids)
    people = torch.unique(person_ids)
    people = people[~torch.isin(people, torch.as_tensor(list(exclude), dtype=people.dtype))]
    if any(n < 0 for n in sizes) or sum(sizes) > len(people):
        raise ValueError(f"cannot draw groups of {list(sizes)} from {len(people)} people")
    shuffled = people[torch.randperm(len(people), generator=generator)]
    cuts = [0, *itertools.accumulate(sizes)]
    return [shuffled[a:b] for a, b in itertools.pairwise(cuts)] + [shuffled[cuts[-1] :]]


def person_split(
    person_ids: torch.Tensor,
    *,
    test_people: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split sample indices by person: ``test_people`` whole identities are held out.

    ``person_ids`` is (N,) integer. Returns ``(train_index, test_index)``, int64 index
    tensors into the N samples, each sorted; no person appears in both. Which people
    are held out is a uniform draw (``generator`` for reproducibility).
    """
    _check_ids(person_ids)
    people = torch.unique(person_ids)
    if not 0 < test_people < len(people):
        raise ValueError(
            f"test_people must be between 1 and {len(people) - 1} (there are {len(people)} people), "
            f"got {test_people}"
        )
    held_out, _ = split_people(person_ids, (test_people,), generator=generator)
    is_test = torch.isin(person_ids, held_out)
    return torch.nonzero(~is_test).flatten(), torch.nonzero(is_test).flatten()


def per_person_split(
    person_ids: torch.Tensor,
    people: torch.Tensor,
    *,
    first: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the images of each of ``people`` (in that order): ``first`` random images of
    each person (e.g. a classifier's gallery) and the rest. Returns two int64 index
    tensors into ``person_ids`` (N,), grouped by person."""
    check_shape("person_ids", person_ids, ("N",))
    chosen, rest = [], []
    for p in people.tolist():
        idx = torch.nonzero(person_ids == p).flatten()
        if not 0 <= first <= len(idx):
            raise ValueError(f"person {p} has {len(idx)} images, cannot take {first}")
        idx = idx[torch.randperm(len(idx), generator=generator)]
        chosen.append(idx[:first])
        rest.append(idx[first:])
    return torch.cat(chosen), torch.cat(rest)
