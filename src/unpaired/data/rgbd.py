"""RGB-D data: the common structure of every structure-from-motion source, and single
RGB-D frames used as depth "memories".

Every SfM source (procedural scenes, Virtual KITTI, KITTI odometry, TUM RGB-D) returns a
:class:`Sequence`; :meth:`Sequence.pairs` turns it into :class:`FramePairs`, the input of
the AIGN structure-from-motion task (Sec. 2.2 of the AIGN paper).

Conventions shared by all sources (and by :mod:`unpaired.renderers.rigid_warp`):

* Camera coordinates: x right, y down, z forward (KITTI / VKITTI / TUM optical frame).
* Pixel coordinates: ``x`` is the column, ``y`` the row, pixel centres at integers
  (``(0, 0)`` is the centre of the top-left pixel). Intrinsics ``K`` use the same
  convention.
* Depth is z-depth in metres (not the distance along the ray); 0 means "no measurement".
* Poses are camera-to-world 4x4 matrices. The relative motion of a pair (frame 1 -> 2)
  maps camera-1 coordinates to camera-2 coordinates, ``X2 = R X1 + T`` (AIGN Sec. 2.2),
  i.e. ``[R|T] = inv(pose2) @ pose1``. For a car driving forward, ``T`` is about
  ``(0, 0, -speed)``: minus the camera's displacement, expressed in frame 2.

Single frames (``rgbd_frames`` in the data directory), checked by reading the files:

* ``TUM_depth.png``: uint16, metres = value / 5000, 0 = no measurement (TUM RGB-D).
* ``NYU_depth.pgm``: a 16-bit PGM whose bytes are *little-endian* although the PGM
  standard is big-endian (cv2 reads 65287 = 0xFF07 where the Kinect's invalid marker
  2047 = 0x07FF is meant). After swapping bytes the values are raw Kinect disparities
  (here 839..2047); metres = 351.3 / (1092.5 - value) as in the NYU Depth v2 toolbox
  (and Open3D's ``create_from_nyu_format``), 2047 = no measurement, kept below 10 m.
* ``SUN_depth.png``: uint16 millimetres with the bits rotated left by 3 (SUN RGB-D
  convention, as in its toolbox and Open3D's ``create_from_sun_format``): metres =
  ``(((v >> 3) | (v << 13)) & 0xFFFF) / 1000``, 0 = no measurement. This frame reads
  1.06-9.87 m after the rotation (its low 3 bits hold only 0 or 1, as they should).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from unpaired._checks import check_shape
from unpaired.data.catalog import require
from unpaired.data.root import data_dir
from unpaired.errors import DataError


def relative_motion(pose1: torch.Tensor, pose2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Motion from camera 1 to camera 2 given camera-to-world poses (*, 4, 4).

    Returns ``R`` (*, 3, 3) and ``T`` (*, 3) with ``X2 = R X1 + T`` (AIGN Sec. 2.2).
    """
    check_shape("pose1", pose1, ("*", 4, 4))
    check_shape("pose2", pose2, ("*", 4, 4))
    m = torch.linalg.inv(pose2) @ pose1
    return m[..., :3, :3], m[..., :3, 3]


def scale_intrinsics(
    intrinsics: torch.Tensor, size: tuple[int, int], new_size: tuple[int, int]
) -> torch.Tensor:
    """Intrinsics (*, 3, 3) of an image of ``size`` (H, W) resized to ``new_size`` (H', W').

    With pixel centres at integers, ``c' = (c + 0.5) * s - 0.5`` and ``f' = f * s``
    (``s = W'/W`` horizontally, ``H'/H`` vertically).
    """
    check_shape("intrinsics", intrinsics, ("*", 3, 3))
    sy, sx = new_size[0] / size[0], new_size[1] / size[1]
    k = intrinsics.clone()
    k[..., 0, 0] *= sx
    k[..., 0, 1] *= sx
    k[..., 1, 1] *= sy
    k[..., 0, 2] = (k[..., 0, 2] + 0.5) * sx - 0.5
    k[..., 1, 2] = (k[..., 1, 2] + 0.5) * sy - 0.5
    return k


def resize_images(images: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Colour images (T, C, H, W) -> (T, C, height, width), bilinear with antialiasing."""
    check_shape("images", images, ("T", "C", "H", "W"))
    if images.shape[-2:] == (height, width):
        return images
    out = F.interpolate(images, size=(height, width), mode="bilinear", antialias=True)
    return out.clamp(0.0, 1.0)


def resize_depth(depth: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Depth maps (T, 1, H, W) -> (T, 1, height, width) by nearest neighbour.

    Nearest keeps measured values exact (no blending across object edges or with the
    0 "no measurement" value), which is what evaluation needs.
    """
    check_shape("depth", depth, ("T", 1, "H", "W"))
    if depth.shape[-2:] == (height, width):
        return depth
    return F.interpolate(depth, size=(height, width), mode="nearest-exact")


@dataclass(frozen=True)
class FramePairs:
    """Consecutive-frame pairs with their true relative motion (AIGN Sec. 2.2).

    ``frame1``, ``frame2`` (B, 3, H, W) in [0, 1]; ``depth1`` (B, 1, H, W) metres (0 =
    unknown) or None; ``rotation`` (B, 3, 3) and ``translation`` (B, 3) with
    ``X2 = R X1 + T``; ``intrinsics`` (B, 3, 3).
    """

    frame1: torch.Tensor
    frame2: torch.Tensor
    depth1: torch.Tensor | None
    rotation: torch.Tensor
    translation: torch.Tensor
    intrinsics: torch.Tensor

    def __post_init__(self) -> None:
        check_shape("frame1", self.frame1, ("B", 3, "H", "W"))
        b, _, h, w = self.frame1.shape
        check_shape("frame2", self.frame2, (b, 3, h, w))
        if self.depth1 is not None:
            check_shape("depth1", self.depth1, (b, 1, h, w))
        check_shape("rotation", self.rotation, (b, 3, 3))
        check_shape("translation", self.translation, (b, 3))
        check_shape("intrinsics", self.intrinsics, (b, 3, 3))

    def __len__(self) -> int:
        return self.frame1.shape[0]

    def __getitem__(self, index: int | slice | torch.Tensor) -> FramePairs:
        if isinstance(index, int):
            index = slice(index, index + 1)
        return FramePairs(
            self.frame1[index],
            self.frame2[index],
            None if self.depth1 is None else self.depth1[index],
            self.rotation[index],
            self.translation[index],
            self.intrinsics[index],
        )

    def to(self, device: torch.device | str) -> FramePairs:
        return FramePairs(
            self.frame1.to(device),
            self.frame2.to(device),
            None if self.depth1 is None else self.depth1.to(device),
            self.rotation.to(device),
            self.translation.to(device),
            self.intrinsics.to(device),
        )

    @staticmethod
    def cat(parts: list[FramePairs]) -> FramePairs:
        """Concatenate pairs (same image size; depth kept only if every part has it)."""
        if not parts:
            raise ValueError("FramePairs.cat needs at least one part")
        has_depth = all(p.depth1 is not None for p in parts)
        return FramePairs(
            torch.cat([p.frame1 for p in parts]),
            torch.cat([p.frame2 for p in parts]),
            torch.cat([p.depth1 for p in parts]) if has_depth else None,  # type: ignore[misc]
            torch.cat([p.rotation for p in parts]),
            torch.cat([p.translation for p in parts]),
            torch.cat([p.intrinsics for p in parts]),
        )


@dataclass(frozen=True)
class Sequence:
    """A monocular video with camera poses, and depth where the source has it.

    ``frames`` (T, 3, H, W) float in [0, 1]; ``depth`` (T, 1, H, W) z-depth in metres
    (0 = unknown) or None; ``poses`` (T, 4, 4) camera-to-world; ``intrinsics`` (3, 3).
    """

    frames: torch.Tensor
    depth: torch.Tensor | None
    poses: torch.Tensor
    intrinsics: torch.Tensor
    name: str = ""

    def __post_init__(self) -> None:
        check_shape("frames", self.frames, ("T", 3, "H", "W"))
        t, _, h, w = self.frames.shape
        if self.depth is not None:
            check_shape("depth", self.depth, (t, 1, h, w))
        check_shape("poses", self.poses, (t, 4, 4))
        check_shape("intrinsics", self.intrinsics, (3, 3))

    def __len__(self) -> int:
        return self.frames.shape[0]

    def pairs(self, *, stride: int = 1) -> FramePairs:
        """Pairs (t, t + stride) for every valid t, with their relative motion."""
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        n = len(self) - stride
        if n < 1:
            raise ValueError(
                f"sequence {self.name!r} has {len(self)} frames, too few for stride {stride}"
            )
        rot, trans = relative_motion(self.poses[:n], self.poses[stride:])
        return FramePairs(
            self.frames[:n],
            self.frames[stride:],
            None if self.depth is None else self.depth[:n],
            rot,
            trans,
            self.intrinsics.expand(n, 3, 3).clone(),
        )

    def resized(self, height: int, width: int) -> Sequence:
        """The same sequence at (height, width), intrinsics scaled accordingly."""
        h, w = self.frames.shape[-2:]
        return Sequence(
            resize_images(self.frames, height, width),
            None if self.depth is None else resize_depth(self.depth, height, width),
            self.poses,
            scale_intrinsics(self.intrinsics, (h, w), (height, width)),
            self.name,
        )


# ---------------------------------------------------------------- file reading helpers


def read_color(path: Path) -> torch.Tensor:
    """An 8-bit colour image file -> (3, H, W) float32 RGB in [0, 1]; DataError if unreadable."""
    if not path.is_file():
        raise DataError(f"{path}: image file not found")
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise DataError(f"{path}: not a readable image (expected an 8-bit colour PNG/JPEG/PPM)")
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


def read_uint16(path: Path) -> np.ndarray:
    """A single-channel 16-bit image (PNG/PGM) -> (H, W) uint16; DataError otherwise."""
    if not path.is_file():
        raise DataError(f"{path}: depth file not found")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(f"{path}: not a readable image (expected a 16-bit depth PNG/PGM)")
    if img.dtype != np.uint16 or img.ndim != 2:
        raise DataError(
            f"{path}: expected a single-channel 16-bit depth image, got {img.dtype} "
            f"with shape {img.shape}"
        )
    return img


def load_frames(
    color_paths: list[Path],
    depth_paths: list[Path] | None,
    depth_scale: float,
    *,
    height: int | None,
    width: int | None,
) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int]]:
    """Read colour (and uint16 depth = value / depth_scale metres) files, resized frame by
    frame to (height, width) when given. Returns frames (T,3,h,w), depth (T,1,h,w) or
    None, and the original (H, W). All files must share one size."""
    if (height is None) != (width is None):
        raise ValueError(f"give both height and width or neither, got {height=}, {width=}")
    frames, depths = [], []
    size: tuple[int, int] | None = None
    for i, cpath in enumerate(color_paths):
        img = read_color(cpath)
        if size is None:
            size = (img.shape[1], img.shape[2])
        elif img.shape[1:] != size:
            raise DataError(f"{cpath}: image size {tuple(img.shape[1:])} differs from {size}")
        depth = None
        if depth_paths is not None:
            raw = read_uint16(depth_paths[i])
            if raw.shape != size:
                raise DataError(
                    f"{depth_paths[i]}: depth size {raw.shape} differs from image {size}"
                )
            depth = torch.from_numpy(raw.astype(np.float32) / depth_scale)[None, None]
        if height is not None and width is not None:
            img = resize_images(img[None], height, width)[0]
            if depth is not None:
                depth = resize_depth(depth, height, width)
        frames.append(img)
        if depth is not None:
            depths.append(depth[0])
    if size is None:
        raise DataError("no frames selected")
    return torch.stack(frames), (torch.stack(depths) if depths else None), size


def select(items: list, start: int, stop: int | None, step: int) -> list:
    """``items[start:stop:step]``; ValueError when that selects nothing."""
    if step < 1 or start < 0:
        raise ValueError(f"need start >= 0 and step >= 1, got start={start}, step={step}")
    chosen = items[start:stop:step]
    if not chosen:
        raise ValueError(f"frames [{start}:{stop}:{step}] select nothing out of {len(items)}")
    return chosen


# ------------------------------------------------------------- single RGB-D frames


@dataclass(frozen=True)
class RGBDFrame:
    """One RGB-D frame: ``color`` (3, H, W) in [0, 1], ``depth`` (1, H, W) metres (0 where
    ``valid`` (1, H, W) is False)."""

    name: str
    color: torch.Tensor
    depth: torch.Tensor
    valid: torch.Tensor


RGBD_FILES: dict[str, tuple[str, str]] = {
    "TUM": ("TUM_color.png", "TUM_depth.png"),
    "NYU": ("NYU_color.ppm", "NYU_depth.pgm"),
    "SUN": ("SUN_color.jpg", "SUN_depth.png"),
}

NYU_MAX_DEPTH = 10.0  # metres; the NYU toolbox clips at 10 m


def decode_depth(raw: np.ndarray, convention: Literal["TUM", "NYU", "SUN"]) -> np.ndarray:
    """Raw uint16 depth image (H, W) as cv2 reads it -> metres float32, 0 = no measurement."""
    if convention == "TUM":
        return raw.astype(np.float32) / 5000.0
    if convention == "NYU":
        disparity = raw.byteswap().astype(np.float32)
        valid = disparity < 2047
        with np.errstate(divide="ignore"):
            metres = 351.3 / (1092.5 - disparity)
        valid &= (metres > 0) & (metres <= NYU_MAX_DEPTH)
        return np.where(valid, metres, 0.0).astype(np.float32)
    if convention == "SUN":
        rotated = ((raw >> 3) | (raw << 13)).astype(np.uint16)
        return rotated.astype(np.float32) / 1000.0
    raise ValueError(f"convention must be 'TUM', 'NYU' or 'SUN', got {convention!r}")


def load_rgbd_frames(root: str | Path | None = None) -> list[RGBDFrame]:
    """The three single RGB-D frames of the ``rgbd_frames`` dataset, at native resolution.

    ``root`` is the data directory (``--data-dir``; else ``$UNPAIRED_DATA``, else
    ``~/.cache/unpaired``).
    """
    base = require("rgbd_frames", data_dir(root))
    frames = []
    for name, (color_file, depth_file) in RGBD_FILES.items():
        color = read_color(base / color_file)
        metres = decode_depth(read_uint16(base / depth_file), name)  # type: ignore[arg-type]
        if metres.shape != tuple(color.shape[1:]):
            raise DataError(f"{base / depth_file}: size {metres.shape} differs from {color_file}")
        depth = torch.from_numpy(metres)[None]
        frames.append(RGBDFrame(name, color, depth, depth > 0))
    return frames


def fill_holes(depth: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill invalid pixels of (1, H, W) depth with the nearest valid value."""
    check_shape("depth", depth, (1, "H", "W"))
    inval = ~valid[0].numpy()
    if not inval.any():
        return depth
    if inval.all():
        raise ValueError("depth map has no valid pixel")
    idx = ndimage.distance_transform_edt(inval, return_distances=False, return_indices=True)
    filled = depth[0].numpy()[idx[0], idx[1]]
    return torch.from_numpy(np.ascontiguousarray(filled))[None]


def center_crop_to_aspect(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Centre crop (C, H, W) to the aspect ratio height:width."""
    _, h, w = image.shape
    if w * height > h * width:  # too wide
        new_w = round(h * width / height)
        x0 = (w - new_w) // 2
        return image[:, :, x0 : x0 + new_w]
    new_h = round(w * height / width)
    y0 = (h - new_h) // 2
    return image[:, y0 : y0 + new_h, :]


def depth_memories(root: str | Path | None = None, *, height: int, width: int) -> torch.Tensor:
    """Depth "memories" for the AIGN depth critic (Sec. 2.2): (3, 1, height, width) metres.

    The three unrelated RGB-D frames, holes filled with the nearest measurement, centre
    cropped to the aspect ratio height:width and resized (area-averaged) to
    (height, width). Indoor depth (about 0.5-10 m): unrelated to the driving scenes by
    design, as the paper's memories come from unrelated sequences.
    """
    out = []
    for frame in load_rgbd_frames(root):
        d = fill_holes(frame.depth, frame.valid)
        d = center_crop_to_aspect(d, height, width)
        out.append(F.interpolate(d[None], size=(height, width), mode="area")[0])
    return torch.stack(out)
