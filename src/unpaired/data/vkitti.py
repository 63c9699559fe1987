"""Virtual KITTI 1.3.1 (Gaidon et al. 2016): the dataset of the AIGN paper's SfM
experiments (Sec. 3.2). Bring your own copy; the library never downloads it.

Layout under ``<data dir>/vkitti`` (facts from the dataset's README files):

* ``vkitti_1.3.1_rgb/<world>/<variation>/%05d.png``: 8-bit RGB, 1242 x 375.
* ``vkitti_1.3.1_depthgt/<world>/<variation>/%05d.png``: 16-bit z-depth in centimetres
  (distance to the camera plane, from the z-buffer); far plane 655.35 m, so sky pixels
  read 65535 and stay finite.
* ``vkitti_1.3.1_extrinsicsgt/<world>_<variation>.txt``: a header line ("frame r1,1 r1,2
  r1,3 t1 ... t3 0 0 0 1") then per frame the frame index and the row-major 4x4 matrix
  that maps *world* points to *camera* coordinates.
* Intrinsics, constant: ``f = 725``, ``cx = 620.5``, ``cy = 187.0`` (1242 x 375, 29
  degree vertical field of view); camera axes x right, y down, z forward.

Worlds ``0001, 0002, 0006, 0018, 0020``; variations ``clone``, ``15-deg-left``,
``15-deg-right``, ``30-deg-left``, ``30-deg-right``, ``morning``, ``sunset``,
``overcast``, ``fog``, ``rain``. The paper validates on the first world (``0001``, all
variations) and trains on the other four (``TEST_WORLD``, ``TRAIN_WORLDS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.data.rgbd import Sequence, load_frames, scale_intrinsics, select
from unpaired.data.root import data_dir
from unpaired.errors import DataError

WORLDS = ("0001", "0002", "0006", "0018", "0020")
TEST_WORLD = "0001"
TRAIN_WORLDS = WORLDS[1:]
VARIATIONS = (
    "clone",
    "15-deg-left",
    "15-deg-right",
    "30-deg-left",
    "30-deg-right",
    "morning",
    "sunset",
    "overcast",
    "fog",
    "rain",
)
IMAGE_SIZE = (375, 1242)  # H, W
INTRINSICS = torch.tensor([[725.0, 0.0, 620.5], [0.0, 725.0, 187.0], [0.0, 0.0, 1.0]])
DEPTH_SCALE = 100.0  # PNG units per metre (centimetres)


def read_extrinsics(path: Path) -> dict[int, torch.Tensor]:
    """Parse an extrinsics file -> {frame index: world-to-camera (4, 4) float64}."""
    if not path.is_file():
        raise DataError(f"{path}: extrinsics file not found")
    lines = path.read_text().splitlines()
    if not lines or not lines[0].strip().startswith("frame"):
        raise DataError(f"{path}: line 1: expected the header 'frame r1,1 r1,2 ... 0 0 0 1'")
    out: dict[int, torch.Tensor] = {}
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split()
        try:
            values = [float(x) for x in fields]
        except ValueError:
            raise DataError(
                f"{path}: line {n}: expected 17 numbers, got {line.strip()!r}"
            ) from None
        if len(values) != 17:
            raise DataError(
                f"{path}: line {n}: expected 17 numbers (frame + 4x4 matrix), got {len(values)}"
            )
        m = np.array(values[1:]).reshape(4, 4)
        if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
            raise DataError(
                f"{path}: line {n}: last matrix row must be 0 0 0 1, got {m[3].tolist()}"
            )
        out[int(values[0])] = torch.from_numpy(m)
    if not out:
        raise DataError(f"{path}: no frames after the header")
    return out


def load_vkitti(
    world: str,
    variation: str = "clone",
    root: str | Path | None = None,
    *,
    height: int | None = None,
    width: int | None = None,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    depth: bool = True,
) -> Sequence:
    """One Virtual KITTI video as a :class:`~unpaired.data.rgbd.Sequence`.

    ``root`` is the data directory (the dataset lives in its ``vkitti`` folder). Frames
    ``[start:stop:step]`` (in file order) are read and resized to (height, width) when
    both are given, intrinsics scaled to match; depth in metres (``depth=False`` skips
    reading it).
    """
    base = require("virtual_kitti", data_dir(root))
    rgb_dir = base / "vkitti_1.3.1_rgb" / world / variation
    files = sorted(rgb_dir.glob("*.png"))
    if not files:
        raise DataError(
            f"{rgb_dir}: no frames (expected %05d.png files for world {world!r}, variation {variation!r})"
        )
    files = select(files, start, stop, step)
    extrinsics = read_extrinsics(base / "vkitti_1.3.1_extrinsicsgt" / f"{world}_{variation}.txt")
    poses = []
    for f in files:
        try:
            index = int(f.stem)
        except ValueError:
            raise DataError(f"{f}: expected a %05d.png frame name") from None
        if index not in extrinsics:
            raise DataError(f"{f}: frame {index} has no line in {world}_{variation}.txt")
        poses.append(torch.linalg.inv(extrinsics[index]))
    depth_files = None
    if depth:
        depth_dir = base / "vkitti_1.3.1_depthgt" / world / variation
        depth_files = [depth_dir / f.name for f in files]
    frames, depths, size = load_frames(files, depth_files, DEPTH_SCALE, height=height, width=width)
    if size != IMAGE_SIZE:
        raise DataError(
            f"{files[0]}: Virtual KITTI frames are {IMAGE_SIZE[1]}x{IMAGE_SIZE[0]}, got {size[1]}x{size[0]}"
        )
    k = (
        INTRINSICS
        if height is None or width is None
        else scale_intrinsics(INTRINSICS, size, (height, width))
    )
    return Sequence(
        frames, depths, torch.stack(poses).float(), k, name=f"vkitti-{world}-{variation}"
    )


def available(root: str | Path | None = None) -> list[tuple[str, str]]:
    """(world, variation) of every video present under the data directory."""
    base = require("virtual_kitti", data_dir(root))
    return sorted(
        (p.parent.name, p.name) for p in (base / "vkitti_1.3.1_rgb").glob("*/*") if p.is_dir()
    )


def write_vkitti(
    sequence: Sequence, root: str | Path, world: str = "0001", variation: str = "clone"
) -> Path:
    """Write ``sequence`` in the Virtual KITTI 1.3.1 layout under ``root`` (what
    :func:`load_vkitti` reads from ``root`` as the ``vkitti`` folder):
    ``vkitti_1.3.1_rgb/<world>/<variation>/%05d.png``, the depth in centimetres
    (``vkitti_1.3.1_depthgt``, clipped to the 655.35 m far plane; only when the sequence
    has depth) and the world-to-camera extrinsics file. Frames are written at their own
    size (the loader expects 1242x375: resize first, :meth:`Sequence.resized`). Returns
    the RGB folder of the video."""
    import cv2

    base = Path(root)
    rgb_dir = base / "vkitti_1.3.1_rgb" / world / variation
    depth_dir = base / "vkitti_1.3.1_depthgt" / world / variation
    ext_dir = base / "vkitti_1.3.1_extrinsicsgt"
    for d in (rgb_dir, ext_dir) + ((depth_dir,) if sequence.depth is not None else ()):
        d.mkdir(parents=True, exist_ok=True)
    header = "frame r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1"
    lines = [header]
    for i, frame in enumerate(sequence.frames):
        image = frame.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        cv2.imwrite(str(rgb_dir / f"{i:05d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if sequence.depth is not None:
            cm = (sequence.depth[i, 0].double() * DEPTH_SCALE).round().clamp(0, 65535)
            cv2.imwrite(str(depth_dir / f"{i:05d}.png"), cm.numpy().astype(np.uint16))
        w2c = torch.linalg.inv(sequence.poses[i].double())
        lines.append(f"{i} " + " ".join(f"{v:.9f}" for v in w2c.reshape(-1).tolist()))
    (ext_dir / f"{world}_{variation}.txt").write_text("\n".join(lines) + "\n")
    return rgb_dir
