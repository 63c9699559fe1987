"""Folders of images: the CycleGAN and pix2pix layouts, and a seeded batch sampler.

Two layouts, those of junyanz/pytorch-CycleGAN-and-pix2pix (``--dataroot DIR``):

* **CycleGAN (unpaired)**: ``DIR/trainA/`` and ``DIR/trainB/`` (required: the two
  domains, any number of images each, unrelated to each other), ``DIR/testA/`` and
  ``DIR/testB/`` (optional: held-out images to translate). :func:`cyclegan_folders`.
* **pix2pix (aligned)**: ``DIR/train/``, ``DIR/val/``, ``DIR/test/``, each image holding
  the pair side by side, A on the left half and B on the right (an odd last column is
  dropped). :func:`aligned_folders`.

Folders are searched recursively in sorted path order; hidden files and folders (names
starting with ".") are skipped. Images are PNG, JPEG or BMP (:data:`IMAGE_EXTENSIONS`,
read with Pillow); any other file is an error that names it, as is a missing or empty
folder or an image that cannot be decoded (:class:`unpaired.errors.DataError`, one line
naming the file). Nothing is ever written.

Images come out as float32 ``(C, H, W)`` in [-1, 1], with ``channels`` 3 (RGB) or 1
(luma, ITU-R 601-2). Grayscale, palette, 16-bit grayscale (scaled by 1/65535), CMYK and
images with an alpha channel (composited over white) are all converted. The
:class:`ImageTransform` (resize, then crop and horizontal flip) runs in torch; its
randomness comes from three uniform numbers per image, which a :class:`FolderSampler`
draws from the engine's generator, so batches are a pure function of ``(seed, step)``
like every batch source of :mod:`unpaired.engine.data` (exact resume, the same data on
any number of devices). Values are rounded to 256 levels after the resize (as an 8-bit
file would hold them), so reading from disk and from memory give identical tensors.

By default images are read from disk on every draw (a 10k-image folder costs no
memory); ``in_memory=True`` decodes and resizes each image once and keeps it as uint8
(for small sets, or when decoding is the bottleneck).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from unpaired.errors import DataError, DataNotFoundError

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")

CYCLEGAN_LAYOUT = (
    "CycleGAN layout: DIR/trainA/ and DIR/trainB/ hold the images of the two domains "
    "(unpaired, any number each); DIR/testA/ and DIR/testB/ (optional) hold test images; "
    f"images are {', '.join(IMAGE_EXTENSIONS)} files, any size (set data.load_size / "
    "data.crop_size); sub-folders are searched, hidden files are skipped"
)
ALIGNED_LAYOUT = (
    "pix2pix aligned layout: DIR/train/, DIR/val/, DIR/test/ hold images with the pair "
    "side by side (A on the left half, B on the right)"
)

_READ_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
)


# ------------------------------------------------------------------------ files


def list_images(folder: str | Path) -> tuple[Path, ...]:
    """The image files under ``folder`` (recursively), sorted by relative path.

    Raises :class:`DataNotFoundError` if the folder does not exist and
    :class:`DataError` if it is not a folder, holds a file that is not a PNG/JPEG/BMP
    image (the message names it) or holds no image at all.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataNotFoundError(f"image folder {folder} does not exist")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    files = sorted(
        (
            p
            for p in folder.rglob("*")
            if not any(part.startswith(".") for part in p.relative_to(folder).parts) and p.is_file()
        ),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    bad = [p for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS]
    if bad:
        more = f" (and {len(bad) - 1} more such files)" if len(bad) > 1 else ""
        raise DataError(
            f"{bad[0]}: not an image file this library reads (extension "
            f"{bad[0].suffix or 'none'!r}); image folders may only hold "
            f"{', '.join(IMAGE_EXTENSIONS)} files{more}"
        )
    if not files:
        raise DataError(f"image folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return tuple(files)


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image from its header; :class:`DataError` if unreadable."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            w, h = im.size
    except _READ_ERRORS as e:
        raise DataError(f"{path}: cannot read image ({type(e).__name__}: {e})") from None
    return h, w


def read_image(path: str | Path, *, channels: Literal[1, 3] = 3) -> torch.Tensor:
    """Decode one image file into (C, H, W) float32 in [-1, 1].

    ``channels`` 3 gives RGB, 1 gives luma. Palette, grayscale, 16-bit grayscale,
    CMYK, YCbCr and images with transparency are converted (alpha is composited over
    white). A file that cannot be decoded (corrupt, truncated, not an image) raises
    :class:`DataError` naming it.
    """
    return _to_float(_decode(Path(path), channels))


def _decode(path: Path, channels: int) -> torch.Tensor:
    """(C, H, W) float32 in [0, 1]."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(
            f"{path}: unsupported image type {path.suffix or 'none'!r} "
            f"(expected {', '.join(IMAGE_EXTENSIONS)})"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                arr = _pixels(im, channels)
    except (*_READ_ERRORS, Image.DecompressionBombWarning) as e:
        raise DataError(f"{path}: cannot read image ({type(e).__name__}: {e})") from None
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def _pixels(im: Image.Image, channels: int) -> np.ndarray:
    """(H, W, C) float32 in [0, 1] from a loaded Pillow image of any mode."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit (or 32-bit integer / float) grayscale: scale, do not clip to 8 bits.
        scale = 1.0 if im.mode == "F" else 65535.0
        g = np.clip(np.asarray(im, dtype=np.float32) / scale, 0.0, 1.0)[..., None]
        return np.repeat(g, 3, axis=2) if channels == 3 else g
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        rgb = rgba[..., :3] * alpha + (1.0 - alpha)  # over white
        if channels == 3:
            return np.ascontiguousarray(rgb)
        luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return luma[..., None]
    if channels == 1:
        return np.asarray(im.convert("L"), dtype=np.float32)[..., None] / 255.0
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def _to_float(x01: torch.Tensor) -> torch.Tensor:
    return x01 * 2.0 - 1.0


def _quantize(x01: torch.Tensor) -> torch.Tensor:
    """uint8 levels of an image in [0, 1]."""
    return (x01.clamp(0, 1) * 255.0).round().to(torch.uint8)


def write_image(image: torch.Tensor, path: str | Path) -> Path:
    """Write one image (C, H, W) in [-1, 1] (C = 1 or 3; clipped, rounded to 256 levels)
    as a PNG at ``path``, atomically (a temporary file renamed into place); parent
    folders are created. The inverse of :func:`read_image` up to the rounding."""
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"image must be (C, H, W) with C 1 or 3, got {tuple(image.shape)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = _quantize((image.detach().float().cpu() + 1) / 2).permute(1, 2, 0).numpy()
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).save(tmp, format="PNG")
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------ transforms


@dataclass(frozen=True)
class ImageTransform:
    """Resize, then crop, then flip (junyanz's ``--preprocess resize_and_crop`` default is
    ``ImageTransform(load_size=286, crop_size=256)``).

    * ``resize``: ``"square"`` resizes to ``load_size`` x ``load_size`` (the aspect ratio
      changes), ``"shorter_side"`` scales the shorter side to ``load_size`` (keeps it);
      nothing happens when ``load_size`` is None. Antialiased bilinear, in torch.
    * ``crop_size``: a random ``crop_size`` x ``crop_size`` crop while training, the
      centre crop otherwise; None keeps the whole (resized) image.
    * ``flip``: a horizontal flip with probability 1/2 while training.

    Training draws its randomness from ``u`` (3,) uniforms in [0, 1): crop row, crop
    column, flip. A pair of aligned images uses the same ``u`` for both.
    """

    load_size: int | None = None
    crop_size: int | None = None
    resize: Literal["square", "shorter_side"] = "square"
    flip: bool = False

    def __post_init__(self) -> None:
        for name in ("load_size", "crop_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if self.resize not in ("square", "shorter_side"):
            raise ValueError(f"resize must be 'square' or 'shorter_side', got {self.resize!r}")
        if (
            self.load_size is not None
            and self.crop_size is not None
            and self.crop_size > self.load_size
        ):
            raise ValueError(
                f"crop_size ({self.crop_size}) must not exceed load_size ({self.load_size})"
            )

    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) after the resize step."""
        if self.load_size is None:
            return height, width
        if self.resize == "square":
            return self.load_size, self.load_size
        s = self.load_size / min(height, width)
        return max(self.load_size, round(height * s)), max(self.load_size, round(width * s))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) of the result for an input of (height, width)."""
        h, w = self.resized_size(height, width)
        return (h, w) if self.crop_size is None else (self.crop_size, self.crop_size)

    def apply_resize(self, x01: torch.Tensor) -> torch.Tensor:
        """Resize (C, H, W) in [0, 1] and round to uint8 levels (the cacheable part)."""
        h, w = self.resized_size(x01.shape[-2], x01.shape[-1])
        if (h, w) != tuple(x01.shape[-2:]):
            x01 = F.interpolate(
                x01[None], size=(h, w), mode="bilinear", align_corners=False, antialias=True
            )[0]
        return _quantize(x01)

    def apply_random(
        self, x: torch.Tensor, u: torch.Tensor | None, *, source: str = "image"
    ) -> torch.Tensor:
        """Crop and flip a resized (C, H, W) image; ``u`` (3,) uniforms, None for the
        deterministic test-time view (centre crop, no flip)."""
        if self.crop_size is not None:
            c = self.crop_size
            h, w = x.shape[-2:]
            if h < c or w < c:
                raise DataError(
                    f"{source}: {h}x{w} after resizing is smaller than crop_size {c}; "
                    "set load_size >= crop_size or a smaller crop_size"
                )
            if u is None:
                top, left = (h - c) // 2, (w - c) // 2
            else:
                top = min(int(float(u[0]) * (h - c + 1)), h - c)
                left = min(int(float(u[1]) * (w - c + 1)), w - c)
            x = x[:, top : top + c, left : left + c]
        if self.flip and u is not None and float(u[2]) < 0.5:
            x = x.flip(-1)
        return x


# ------------------------------------------------------------------------ folders


class ImageFolder:
    """The images of one folder, as (C, H, W) float32 tensors in [-1, 1].

    ``ImageFolder(root, channels=3, transform=ImageTransform(286, 256, flip=True))``.
    ``check="header"`` (default) opens every file's header at construction, so a file
    that is not an image, or sizes that cannot form a batch (different sizes with no
    resize/crop, images smaller than the crop), fail at once with the file named;
    ``"full"`` decodes every image (slow, finds truncated files too); ``"none"`` only
    lists the files. ``in_memory=True`` decodes and resizes everything now.
    """

    aligned = False

    def __init__(
        self,
        root: str | Path,
        *,
        channels: Literal[1, 3] = 3,
        transform: ImageTransform | None = None,
        in_memory: bool = False,
        check: Literal["header", "full", "none"] = "header",
    ) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        if check not in ("header", "full", "none"):
            raise ValueError(f"check must be 'header', 'full' or 'none', got {check!r}")
        self.root = Path(root)
        self.channels = channels
        self.transform = transform if transform is not None else ImageTransform()
        self.paths = list_images(self.root)
        self.sizes: tuple[tuple[int, int], ...] | None = None
        if check != "none":
            self.sizes = tuple(self._item_size(image_size(p), p) for p in self.paths)
            self._check_sizes()
        self._cache: list[tuple[torch.Tensor, ...]] | None = None
        if in_memory or check == "full":
            cache = [self._resized(i) for i in range(len(self.paths))]
            self._cache = cache if in_memory else None

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, {len(self)} images, channels={self.channels})"

    def _item_size(self, size: tuple[int, int], path: Path) -> tuple[int, int]:
        return size

    def _check_sizes(self) -> None:
        assert self.sizes is not None
        t = self.transform
        outputs: dict[tuple[int, int], Path] = {}
        for path, (h, w) in zip(self.paths, self.sizes, strict=True):
            rh, rw = t.resized_size(h, w)
            if t.crop_size is not None and (rh < t.crop_size or rw < t.crop_size):
                raise DataError(
                    f"{path}: {rh}x{rw} after resizing is smaller than crop_size "
                    f"{t.crop_size}; set load_size >= crop_size or a smaller crop_size"
                )
            outputs.setdefault(t.output_size(h, w), path)
        if len(outputs) > 1:
            (s1, p1), (s2, p2) = list(outputs.items())[:2]
            raise DataError(
                f"images of {self.root} come out in different sizes ({p1.name}: "
                f"{s1[0]}x{s1[1]}, {p2.name}: {s2[0]}x{s2[1]}), so they cannot be batched; "
                "set load_size (resize='square') or crop_size"
            )

    def _resized(self, index: int) -> tuple[torch.Tensor, ...]:
        """The resized image(s) of item ``index`` as uint8 (C, H, W)."""
        x = _decode(self.paths[index], self.channels)
        return (self.transform.apply_resize(x),)

    def _item(self, index: int, u: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        parts = self._cache[index] if self._cache is not None else self._resized(index)
        source = str(self.paths[index])
        return tuple(
            _to_float(self.transform.apply_random(p, u, source=source).float() / 255.0)
            for p in parts
        )

    def get(self, index: int, *, u: torch.Tensor | None = None) -> torch.Tensor:
        """Image ``index`` (C, H, W); ``u`` (3,) uniforms for the random crop and flip
        (training), None for the test-time view."""
        return self._item(index, u)[0]

    def batch(
        self, indices: Sequence[int] | torch.Tensor, *, u: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Images (B, C, H, W) of ``indices`` (B,); ``u`` (B, 3) uniforms or None."""
        return self._batch(indices, u)[0]

    def _batch(
        self, indices: Sequence[int] | torch.Tensor, u: torch.Tensor | None
    ) -> tuple[torch.Tensor, ...]:
        idx = [int(i) for i in indices]
        if u is not None and tuple(u.shape) != (len(idx), 3):
            raise ValueError(f"u: expected shape ({len(idx)}, 3), got {tuple(u.shape)}")
        items = [self._item(i, None if u is None else u[k]) for k, i in enumerate(idx)]
        if not items:
            raise ValueError("indices must not be empty")
        try:
            return tuple(torch.stack(parts) for parts in zip(*items, strict=True))
        except RuntimeError:
            sizes = sorted({tuple(p.shape[-2:]) for item in items for p in item})
            raise DataError(
                f"images of {self.root} have different sizes {sizes[:3]} after the "
                "transform; set load_size or crop_size"
            ) from None

    def batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, tuple[Path, ...]]]:
        """Every image once, in order, test-time view: ((B, C, H, W), their paths)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield self.batch(range(start, stop)), self.paths[start:stop]

    def tensor(self) -> torch.Tensor:
        """All images (N, C, H, W), test-time view (small folders only)."""
        return self.batch(range(len(self)))


class AlignedFolder(ImageFolder):
    """A pix2pix folder: every image holds a pair side by side (A left, B right).

    ``get(i)`` / ``batch(...)`` return the pair ``(a, b)``: each half is resized, and
    both get the same crop and flip."""

    aligned = True

    def _item_size(self, size: tuple[int, int], path: Path) -> tuple[int, int]:
        h, w = size
        if w < 2:
            raise DataError(f"{path}: {h}x{w} is too narrow to hold an A|B pair side by side")
        return h, w // 2

    def _resized(self, index: int) -> tuple[torch.Tensor, ...]:
        x = _decode(self.paths[index], self.channels)
        w = x.shape[-1] // 2
        if w < 1:
            raise DataError(f"{self.paths[index]}: too narrow to hold an A|B pair side by side")
        return self.transform.apply_resize(x[..., :w]), self.transform.apply_resize(
            x[..., w : 2 * w]
        )

    def get(  # type: ignore[override]
        self, index: int, *, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._item(index, u)
        return a, b

    def batch(  # type: ignore[override]
        self, indices: Sequence[int] | torch.Tensor, *, u: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._batch(indices, u)
        return a, b

    def batches(  # type: ignore[override]
        self, batch_size: int
    ) -> Iterator[tuple[tuple[torch.Tensor, torch.Tensor], tuple[Path, ...]]]:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield self.batch(range(start, stop)), self.paths[start:stop]

    def tensor(self) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return self.batch(range(len(self)))


class FolderSampler:
    """A batch source (:class:`unpaired.engine.data.BatchSource`) over an image folder.

    ``sample(g)`` draws ``batch_size`` indices with replacement and three uniforms per
    image (crop row, crop column, flip) from ``g``, then reads those images: a pure
    function of the generator's state, so resumed runs and runs on any number of devices
    see the same data (with ``world_size`` ranks the global batch is drawn and each rank
    reads only its slice). Returns (B, C, H, W), or ``(a, b)`` for an
    :class:`AlignedFolder`. For CycleGAN, combine two samplers with
    ``Unpaired({"a": FolderSampler(train_a, ...), "b": FolderSampler(train_b, ...)})``.
    """

    def __init__(self, folder: ImageFolder, *, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.folder = folder
        self.batch_size = batch_size

    def __len__(self) -> int:
        return len(self.folder)

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        total = self.batch_size * world_size
        idx = torch.randint(len(self.folder), (total,), generator=generator)
        u = torch.rand(total, 3, generator=generator)
        mine = slice(rank * self.batch_size, (rank + 1) * self.batch_size)
        return self.folder.batch(idx[mine], u=u[mine])


# ------------------------------------------------------------------------ layouts


@dataclass(frozen=True)
class CycleGANFolders:
    """The folders of a CycleGAN dataset root; ``test_a``/``test_b`` are None if absent."""

    root: Path
    train_a: ImageFolder
    train_b: ImageFolder
    test_a: ImageFolder | None
    test_b: ImageFolder | None


def cyclegan_folders(
    root: str | Path,
    *,
    channels: Literal[1, 3] = 3,
    transform: ImageTransform | None = None,
    test_transform: ImageTransform | None = None,
    in_memory: bool = False,
    check: Literal["header", "full", "none"] = "header",
) -> CycleGANFolders:
    """Open ``root/trainA``, ``root/trainB`` (required) and ``root/testA``, ``root/testB``
    (if present) as :class:`ImageFolder`\\ s.

    ``transform`` applies to the training folders (default: none), ``test_transform``
    to the test folders (default: ``transform`` without the flip; test images are read
    with the deterministic centre crop anyway). A missing ``root`` or training folder
    raises :class:`DataNotFoundError` with the expected layout.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is not a folder; expected the {CYCLEGAN_LAYOUT}")
    for name in ("trainA", "trainB"):
        if not (root / name).is_dir():
            raise DataNotFoundError(f"{root / name} not found; expected the {CYCLEGAN_LAYOUT}")
    transform = transform if transform is not None else ImageTransform()
    if test_transform is None:
        test_transform = ImageTransform(
            transform.load_size, transform.crop_size, transform.resize, flip=False
        )

    def open_(name: str, t: ImageTransform) -> ImageFolder:
        return ImageFolder(
            root / name, channels=channels, transform=t, in_memory=in_memory, check=check
        )

    return CycleGANFolders(
        root=root,
        train_a=open_("trainA", transform),
        train_b=open_("trainB", transform),
        test_a=open_("testA", test_transform) if (root / "testA").is_dir() else None,
        test_b=open_("testB", test_transform) if (root / "testB").is_dir() else None,
    )


def aligned_folders(
    root: str | Path,
    *,
    channels: Literal[1, 3] = 3,
    transform: ImageTransform | None = None,
    in_memory: bool = False,
    check: Literal["header", "full", "none"] = "header",
) -> dict[str, AlignedFolder]:
    """Open the pix2pix splits ``root/train``, ``root/val``, ``root/test`` that exist
    (``train`` is required) as :class:`AlignedFolder`\\ s, keyed by split name."""
    root = Path(root)
    if not (root / "train").is_dir():
        raise DataNotFoundError(f"{root / 'train'} not found; expected the {ALIGNED_LAYOUT}")
    return {
        split: AlignedFolder(
            root / split, channels=channels, transform=transform, in_memory=in_memory, check=check
        )
        for split in ("train", "val", "test")
        if (root / split).is_dir()
    }


@dataclass(frozen=True)
class FolderReport:
    """What :func:`inspect_image_root` found in one folder."""

    name: str
    required: bool
    images: int | None  # None: missing or unreadable
    sizes: str  # "256x256" or "min 200x180 .. max 640x480"
    modes: str  # Pillow modes and counts, e.g. "RGB 100, L 3"
    problem: str | None


def inspect_image_root(root: str | Path) -> tuple[str, list[FolderReport]]:
    """Look at a dataset root for ``unpaired data check --images``.

    Returns the layout found (``"cyclegan"``, ``"aligned"`` or ``"unknown"``) and one
    :class:`FolderReport` per expected folder: image count, sizes, Pillow modes and the
    first problem (missing folder, stray file, unreadable image). Opens every header.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is not a folder; expected the {CYCLEGAN_LAYOUT}")
    if (root / "train").is_dir() and not (root / "trainA").is_dir():
        layout, names, required = "aligned", ("train", "val", "test"), {"train"}
    else:
        has = (root / "trainA").is_dir() or (root / "trainB").is_dir()
        layout = "cyclegan" if has else "unknown"
        names, required = ("trainA", "trainB", "testA", "testB"), {"trainA", "trainB"}
    reports = []
    for name in names:
        folder = root / name
        if not folder.is_dir():
            reports.append(
                FolderReport(
                    name, name in required, None, "", "", "missing" if name in required else None
                )
            )
            continue
        try:
            paths = list_images(folder)
        except DataError as e:
            reports.append(FolderReport(name, name in required, None, "", "", str(e)))
            continue
        sizes, modes, problem = [], {}, None
        for p in paths:
            try:
                with Image.open(p) as im:
                    w, h = im.size
                    modes[im.mode] = modes.get(im.mode, 0) + 1
                sizes.append((h, w))
            except _READ_ERRORS as e:
                problem = problem or f"{p}: cannot read image ({type(e).__name__}: {e})"
        if sizes:
            area = [h * w for h, w in sizes]
            lo, hi = sizes[int(np.argmin(area))], sizes[int(np.argmax(area))]
            size_text = (
                f"{lo[0]}x{lo[1]}"
                if lo == hi and len(set(sizes)) == 1
                else (f"{len(set(sizes))} sizes, {lo[0]}x{lo[1]} .. {hi[0]}x{hi[1]}")
            )
        else:
            size_text = ""
        mode_text = ", ".join(f"{m} {c}" for m, c in sorted(modes.items(), key=lambda kv: -kv[1]))
        reports.append(
            FolderReport(name, name in required, len(paths), size_text, mode_text, problem)
        )
    return layout, reports
