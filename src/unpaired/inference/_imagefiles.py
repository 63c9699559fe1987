"""The image files of ``unpaired predict``, read and written with little per-file work.

* :func:`read_pixels`: an image file as (H, W, C) ``uint8`` when it is an 8-bit PNG of
  the requested channels (or grey asked for as colour: replicated), decoded by OpenCV
  (about 5x faster than Pillow on small files); otherwise (JPEG, BMP, alpha, palette with
  transparency, 16-bit, colour asked for as grey) ``None``, and the caller falls back to
  :func:`unpaired.data.images.read_image`'s decoding. PNG is lossless and the fast path
  takes only files whose pixels need no conversion, so both give the same values
  (``tests/inference/test_predict.py`` checks it).
* :func:`stack_unit`: a batch of such arrays or (C, H, W) tensors in [0, 1] -> (B, C, H, W)
  float32 in [0, 1], converted once per batch.
* :class:`PngWriter`: (B, C, H, W) images in [0, 1] -> PNG files (zlib level 1), one
  conversion to ``uint8`` per batch, each output folder made once.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from unpaired.errors import DataError

__all__ = ["PngWriter", "out_paths", "read_pixels", "read_unit", "stack_unit"]

Item = np.ndarray | torch.Tensor


def read_pixels(path: Path, channels: int) -> np.ndarray | None:
    """(H, W, channels) uint8 of an 8-bit PNG needing no conversion, else None."""
    if path.suffix.lower() != ".png":
        return None
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # also ignores EXIF orientation
    if arr is None or arr.dtype != np.uint8:
        return None
    if arr.ndim == 2:
        arr = arr[..., None]
        return np.repeat(arr, 3, axis=2) if channels == 3 else arr
    if arr.shape[2] == 3 and channels == 3:
        return np.ascontiguousarray(arr[..., ::-1])  # BGR -> RGB
    return None  # alpha, or colour asked for as grey: Pillow's conversions


def read_unit(path: Path, channels: int) -> Item:
    """The image ``path`` with ``channels`` channels: (H, W, C) uint8 from the fast path,
    else (C, H, W) float32 in [0, 1] from the library's decoder."""
    arr = read_pixels(path, channels)
    if arr is not None:
        return arr
    from unpaired.data.images import _decode

    return _decode(path, channels)


def item_size(item: Item) -> tuple[int, int]:
    """(H, W) of an item of :func:`read_unit`."""
    return tuple(item.shape[:2]) if isinstance(item, np.ndarray) else tuple(item.shape[1:])  # type: ignore[return-value]


def _tensor(item: Item) -> torch.Tensor:
    if isinstance(item, np.ndarray):
        return torch.from_numpy(item).permute(2, 0, 1).float().div_(255.0)
    return item


def stack_unit(items: list[Item]) -> torch.Tensor:
    """(B, C, H, W) float32 in [0, 1] of items of one size."""
    if all(isinstance(i, np.ndarray) for i in items):
        arr = torch.from_numpy(np.stack(items))  # type: ignore[arg-type]
        return arr.permute(0, 3, 1, 2).float().div_(255.0)
    return torch.stack([_tensor(i) for i in items])


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [0, 1] -> (B, H, W, C) uint8 (clipped, rounded)."""
    x = images.detach().float().cpu().clamp_(0.0, 1.0).mul_(255.0).round_()
    return x.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def out_paths(paths: list[Path], root: Path, out: Path) -> list[Path]:
    """``out / (path relative to root)`` with the suffix ``.png``, for each path under
    ``root`` (string slicing: ``Path.relative_to`` costs more than a small image)."""
    head, base = len(str(root).rstrip("/")) + 1, str(out)
    result = []
    for p in paths:
        rel = str(p)[head:]
        if not str(p).startswith(str(root)) or not rel:  # not under root: the slow way
            rel = p.relative_to(root).as_posix()
        stem, dot, ext = rel.rpartition(".")
        result.append(Path(f"{base}/{stem if dot and '/' not in ext else rel}.png"))
    return result


class PngWriter:
    """``writer.write(images, paths)``: images (B, C, H, W) in [0, 1] as PNGs."""

    def __init__(self) -> None:
        self._folders: set[Path] = set()

    def write(self, images: torch.Tensor, paths: list[Path]) -> None:
        for arr, path in zip(to_uint8(images), paths, strict=True):
            self.write_pixels(arr, path)

    def write_pixels(self, arr: np.ndarray, path: Path) -> None:
        """One (H, W, C) uint8 image, C = 1 or 3 (RGB)."""
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        pixels = arr[..., 0] if arr.shape[2] == 1 else arr[..., ::-1]  # RGB -> BGR
        ok = cv2.imwrite(str(path), np.ascontiguousarray(pixels), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise DataError(f"{path}: could not write the PNG")
