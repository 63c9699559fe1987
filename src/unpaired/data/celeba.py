"""CelebA aligned faces with their 40 binary attributes (the AIGN paper's Sec. 3.3).

Standard published layout under ``celeba/`` in the data directory:

* ``img_align_celeba/*.jpg``: aligned faces, 178x218 (width x height) JPEGs.
* ``list_attr_celeba.txt``: line 1 the number of images N; line 2 the 40 attribute
  names (:data:`CELEBA_ATTRIBUTES`, in that order); then N lines
  ``filename v1 ... v40`` with each value -1 or 1, whitespace-separated.
* ``list_eval_partition.txt`` (optional; needed for ``split``): lines
  ``filename p`` with p = 0 train, 1 valid, 2 test.

Biased memories (Sec. 2.3 / 2.4) are attribute filters, e.g. ``{"Male": -1}`` for
female faces, ``{"Young": 1}``, ``{"Big_Lips": 1}`` or ``{"Big_Nose": 1}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.errors import ConfigError, DataError, DataNotFoundError

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

_VALUE = {"-1": -1, "1": 1}
_SPLITS = {"train": 0, "valid": 1, "test": 2}


def _read_lines(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read as text ({e})") from None
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def read_attributes(path: str | Path) -> tuple[list[str], torch.Tensor]:
    """Parse ``list_attr_celeba.txt``.

    Returns the file names (N) and the attribute values (N, 40) int64 in {-1, 1},
    columns in :data:`CELEBA_ATTRIBUTES` order. Raises :class:`DataError` with the
    file and line number on any malformed line.
    """
    path = Path(path)
    lines = _read_lines(path)
    if len(lines) < 2:
        raise DataError(f"{path}: expected an image count line and an attribute name line")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataError(f"{path}:1: expected the number of images, got {lines[0][:40]!r}") from None
    names = tuple(lines[1].split())
    if names != CELEBA_ATTRIBUTES:
        raise DataError(
            f"{path}:2: expected the 40 CelebA attribute names "
            f"({CELEBA_ATTRIBUTES[0]} ... {CELEBA_ATTRIBUTES[-1]}) in standard order, "
            f"got {len(names)} names"
        )
    body = lines[2:]
    if len(body) != count:
        raise DataError(f"{path}: line 1 announces {count} images, but {len(body)} follow")
    filenames: list[str] = []
    values = np.empty((count, len(CELEBA_ATTRIBUTES)), dtype=np.int64)
    for i, line in enumerate(body):
        parts = line.split()
        if len(parts) != 1 + len(CELEBA_ATTRIBUTES):
            raise DataError(
                f"{path}:{i + 3}: expected a file name and 40 values, got {len(parts)} fields"
            )
        try:
            values[i] = [_VALUE[v] for v in parts[1:]]
        except KeyError as e:
            raise DataError(
                f"{path}:{i + 3}: attribute values must be -1 or 1, got {e.args[0]!r}"
            ) from None
        filenames.append(parts[0])
    return filenames, torch.from_numpy(values)


def read_partition(path: str | Path) -> dict[str, int]:
    """Parse ``list_eval_partition.txt``: file name -> 0 (train), 1 (valid) or 2 (test)."""
    path = Path(path)
    out: dict[str, int] = {}
    for i, line in enumerate(_read_lines(path)):
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise DataError(f"{path}:{i + 1}: expected 'filename 0|1|2', got {line[:60]!r}")
        out[parts[0]] = int(parts[1])
    return out


def attribute_filter(values: torch.Tensor, attributes: Mapping[str, int]) -> torch.Tensor:
    """Boolean (N,) selecting the rows of ``values`` (N, 40) that match every entry of
    ``attributes`` (name -> +1 or -1), e.g. ``{"Male": -1, "Young": 1}``."""
    keep = torch.ones(values.shape[0], dtype=torch.bool)
    for name, want in attributes.items():
        if name not in CELEBA_ATTRIBUTES:
            raise ConfigError(
                f"unknown CelebA attribute {name!r}; choose from {', '.join(CELEBA_ATTRIBUTES)}"
            )
        if want not in (-1, 1) or isinstance(want, bool):
            raise ConfigError(f"CelebA attribute {name} must be selected as 1 or -1, got {want!r}")
        keep &= values[:, CELEBA_ATTRIBUTES.index(name)] == want
    return keep


def _decode(path: Path, *, crop: int | None, size: int, grayscale: bool) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"{path}: missing or not a decodable image")
    h, w = img.shape[:2]
    side = min(h, w) if crop is None else crop
    if side > min(h, w):
        raise DataError(f"{path}: image is {w}x{h}, smaller than the {side}x{side} crop")
    top, left = (h - side) // 2, (w - side) // 2
    img = img[top : top + side, left : left + side]
    interp = cv2.INTER_AREA if size <= side else cv2.INTER_LINEAR
    img = cv2.resize(img, (size, size), interpolation=interp)
    return img[:, :, None] if grayscale else img[:, :, ::-1]  # (S, S, 1) or RGB (S, S, 3)


def load_celeba(
    root: str | Path,
    *,
    split: Literal["all", "train", "valid", "test"] = "all",
    attributes: Mapping[str, int] | None = None,
    size: int = 64,
    crop: int | None = None,
    grayscale: bool = False,
    limit: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CelebA faces from the data directory ``root``, optionally filtered.

    Keeps the images of ``split`` (needs ``list_eval_partition.txt`` unless ``"all"``)
    whose attributes match ``attributes`` (see :func:`attribute_filter`), in file
    order, at most ``limit`` of them. Each image is center-cropped to a ``crop`` x
    ``crop`` square (default: the largest central square, 178x178 for aligned CelebA)
    and resized to ``size`` x ``size`` (area interpolation when shrinking).

    Returns images (N, C, size, size) float32 in [0, 1] (C = 1 if ``grayscale``, else
    3 in RGB order) and their attributes (N, 40) int64 in {-1, 1}.
    """
    if split not in ("all", *_SPLITS):
        raise ValueError(f"split must be 'all', 'train', 'valid' or 'test', got {split!r}")
    if size < 1 or (crop is not None and crop < 1) or (limit is not None and limit < 0):
        raise ValueError(
            f"size and crop must be positive and limit >= 0, got {size}, {crop}, {limit}"
        )
    folder = require("celeba", Path(root))
    filenames, values = read_attributes(folder / "list_attr_celeba.txt")
    keep = attribute_filter(values, attributes or {})
    if split != "all":
        part_path = folder / "list_eval_partition.txt"
        if not part_path.is_file():
            raise DataNotFoundError(
                f"split={split!r} needs {part_path}; obtain list_eval_partition.txt from "
                "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html or use split='all'"
            )
        partition = read_partition(part_path)
        missing = [f for f in filenames if f not in partition]
        if missing:
            raise DataError(
                f"{part_path}: no partition for {missing[0]} (and {len(missing) - 1} more)"
            )
        keep &= torch.tensor([partition[f] == _SPLITS[split] for f in filenames], dtype=torch.bool)
    index = torch.nonzero(keep).flatten()[:limit]
    channels = 1 if grayscale else 3
    images = np.empty((len(index), size, size, channels), dtype=np.uint8)
    for j, i in enumerate(index.tolist()):
        images[j] = _decode(
            folder / "img_align_celeba" / filenames[i], crop=crop, size=size, grayscale=grayscale
        )
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
    return x, values[index]
