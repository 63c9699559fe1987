"""``unpaired predict`` for SfM models: frames in, depth maps and a trajectory out.

Inputs (``sequence_format``, ``"auto"`` by default, detected from the folder):

* ``folder``: image files (PNG/JPEG, sorted by name); intrinsics: ``intrinsics``
  (fx, fy, cx, cy in the images' pixels), else the model's own (those of its
  evaluation frames), scaled to the images' size;
* ``tum``: a TUM RGB-D sequence folder (``rgb.txt``); timestamps from ``rgb.txt``,
  intrinsics TUM's published defaults for the camera named in the folder
  (:func:`unpaired.data.tum.camera_intrinsics`, 640x480);
* ``kitti``: a KITTI odometry sequence folder (``image_2/`` or ``image_0/``, and
  ``calib.txt``); intrinsics from its projection matrix, timestamps from ``times.txt``
  when present (else the frame index);
* ``vkitti``: a Virtual KITTI RGB folder (``vkitti_1.3.1_rgb/<world>/<variation>``,
  detected by that path); Virtual KITTI's constant intrinsics
  (:func:`unpaired.data.sequences.open_sequence`), timestamps frame / 10 s.

Frames are resized to the model's size (intrinsics scaled to match) and read in
batches of consecutive pairs (never the whole sequence at once). For every pair (t,
t+1) the model sees the two frames, their Farneback flow and the angle fields
(:func:`~unpaired.data.flow.egomotion_inputs`); the depth of the last frame comes from
the depth network alone. Outputs in ``out``: ``depth/<frame>.npy`` (H, W) metres at the
model's resolution, ``depth/<frame>.png`` (inverse depth, colour-mapped),
``trajectory.txt`` (TUM format: ``timestamp tx ty tz qx qy qz qw``, camera-to-world,
the first frame at the origin, composed from the predicted motions) and
``intrinsics.txt`` (the 3x3 matrix the model was given).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from unpaired.aign.sfm import LOG_DEPTH_RANGE
from unpaired.data.flow import egomotion_inputs, farneback_flow
from unpaired.data.images import IMAGE_EXTENSIONS
from unpaired.data.kitti import read_calib
from unpaired.data.rgbd import read_color, resize_images, scale_intrinsics
from unpaired.data.sequences import open_sequence
from unpaired.data.tum import camera_intrinsics, read_file_list
from unpaired.engine.records import LoadedModel
from unpaired.errors import DataError
from unpaired.inference._imagefiles import PngWriter
from unpaired.inference._output import Bar
from unpaired.models.sfm import motion_from_vector

__all__ = ["Frames", "compose_trajectory", "open_frames", "predict_sequence"]

TUM_SIZE = (480, 640)


@dataclass
class Frames:
    """The frame files of a sequence, their timestamps, and the intrinsics (3, 3) at
    ``size`` (H, W) (None: the model's)."""

    files: list[Path]
    stamps: list[float]
    intrinsics: torch.Tensor | None
    size: tuple[int, int] | None
    format: str


def _detect(source: Path) -> str:
    if source.is_dir() and source.parent.parent.name == "vkitti_1.3.1_rgb":
        return "vkitti"
    if source.is_dir() and (source / "rgb.txt").is_file():
        return "tum"
    if source.is_dir() and (source / "calib.txt").is_file():
        return "kitti"
    return "folder"


def _folder(source: Path) -> Frames:
    if not source.is_dir():
        raise DataError(f"{source}: an SfM model needs a folder of frames or a sequence folder")
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    return Frames(files, [float(i) for i in range(len(files))], None, None, "folder")


def _tum(source: Path) -> Frames:
    entries = read_file_list(source / "rgb.txt", fields=1)
    files = [source / name[0] for _, name in entries]
    return Frames(files, [t for t, _ in entries], camera_intrinsics(source.name), TUM_SIZE, "tum")


def _kitti(source: Path) -> Frames:
    camera = next((c for c in (2, 0, 3, 1) if (source / f"image_{c}").is_dir()), None)
    if camera is None:
        raise DataError(
            f"{source}: a KITTI sequence needs image_2/ (or image_0/) next to calib.txt"
        )
    files = sorted((source / f"image_{camera}").glob("*.png"))
    k = torch.from_numpy(read_calib(source / "calib.txt")[f"P{camera}"][:, :3]).float()
    stamps = [float(i) for i in range(len(files))]
    times = source / "times.txt"
    if times.is_file():
        values = [float(x) for x in times.read_text().split()]
        if len(values) != len(files):
            raise DataError(f"{times}: {len(values)} times for {len(files)} frames")
        stamps = values
    size = None
    if files:
        first = read_color(files[0])
        size = (int(first.shape[1]), int(first.shape[2]))
    return Frames(files, stamps, k, size, "kitti")


def _vkitti(source: Path) -> Frames:
    seq = open_sequence(source, "vkitti")
    return Frames(seq.color, seq.stamps, seq.intrinsics.float(), seq.size, "vkitti")


def open_frames(source: str | Path, sequence_format: str = "auto") -> Frames:
    """The frames of ``source`` in ``sequence_format`` (auto, folder, tum, kitti, vkitti)."""
    source = Path(source)
    fmt = _detect(source) if sequence_format == "auto" else sequence_format
    readers = {"folder": _folder, "tum": _tum, "kitti": _kitti, "vkitti": _vkitti}
    if fmt not in readers:
        raise DataError(f"unknown sequence format {fmt!r} (auto, folder, tum, kitti or vkitti)")
    frames = readers[fmt](source)
    if len(frames.files) < 2:
        raise DataError(f"{source}: {len(frames.files)} frames; SfM needs at least 2")
    return frames


def compose_trajectory(motion: torch.Tensor) -> torch.Tensor:
    """Camera-to-world poses (N+1, 4, 4) from N motion vectors (N, 6) (``X2 = R X1 + T``),
    the first camera at the origin: ``P_{t+1} = P_t M_t^{-1}``."""
    rot, trans = motion_from_vector(motion.double())
    m = torch.eye(4, dtype=torch.float64).repeat(len(motion), 1, 1)
    m[:, :3, :3], m[:, :3, 3] = rot, trans
    poses = [torch.eye(4, dtype=torch.float64)]
    for step in torch.linalg.inv(m):
        poses.append(poses[-1] @ step)
    return torch.stack(poses)


def _write_trajectory(path: Path, stamps: list[float], poses: torch.Tensor) -> None:
    quat = Rotation.from_matrix(poses[:, :3, :3].numpy()).as_quat()  # x, y, z, w
    lines = ["# timestamp tx ty tz qx qy qz qw (camera-to-world, predicted by unpaired)"]
    for t, p, q in zip(stamps, poses, quat, strict=True):
        values = [*p[:3, 3].tolist(), *q.tolist()]
        lines.append(f"{t:.6f} " + " ".join(f"{v:.6f}" for v in values))
    path.write_text("\n".join(lines) + "\n")


@functools.cache
def _magma() -> np.ndarray:
    """matplotlib's magma as a (256, 3) uint8 table (what ``colormaps["magma"]`` maps to)."""
    from matplotlib import colormaps

    cmap = colormaps["magma"]
    return (cmap(np.arange(cmap.N))[:, :3] * 255).round().astype(np.uint8)


def depth_colors(depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB: inverse depth over its 95th percentile, colour-mapped with
    magma; the table lookup matplotlib's colormap does (``floor(v * N)``, clipped)."""
    inv = 1.0 / np.maximum(depth, 1e-6)
    top = float(np.percentile(inv, 95)) or 1.0
    lut = _magma()
    index = np.minimum((np.clip(inv / top, 0.0, 1.0) * len(lut)).astype(np.intp), len(lut) - 1)
    return lut[index]


def _depth_png(depth: np.ndarray, path: Path, writer: PngWriter | None = None) -> None:
    (writer or PngWriter()).write_pixels(depth_colors(depth), path)


def _read(frames: Frames, index: int, size: tuple[int, int]) -> torch.Tensor:
    image = read_color(frames.files[index])
    return resize_images(image[None], *size)[0]


def _intrinsics(
    frames: Frames, model_k: torch.Tensor, size: tuple[int, int], user: Any
) -> torch.Tensor:
    if user is not None:
        fx, fy, cx, cy = (float(v) for v in user)
        k, base = torch.tensor([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]]), None
    else:
        k, base = frames.intrinsics, frames.size
    if k is None:
        return model_k.float()
    if base is None:
        first = read_color(frames.files[0])
        base = (int(first.shape[1]), int(first.shape[2]))
    return scale_intrinsics(k.float(), base, size)


def predict_sequence(
    model: LoadedModel,
    key: str,
    source: Path,
    out: Path,
    *,
    batch_size: int,
    device: torch.device,
    progress: bool = False,
    sequence_format: str = "auto",
    intrinsics: Any = None,
    **_: Any,
) -> dict[str, Any]:
    """Depth per frame and the trajectory of the sequence ``source`` (module docstring)."""
    net, meta = model.networks[key], model.meta[key]
    size = (int(meta["height"]), int(meta["width"]))
    frames = open_frames(source, sequence_format)
    k = _intrinsics(frames, meta["intrinsics"], size, intrinsics)
    (out / "depth").mkdir()
    n = len(frames.files)
    motions, writer = [], PngWriter()
    with Bar("frames", n, enabled=progress) as bar, torch.inference_mode():
        current = _read(frames, 0, size)
        for start in range(0, n - 1, batch_size):
            idx = list(range(start, min(start + batch_size, n - 1)))
            first = [current] + [_read(frames, i, size) for i in idx[1:]]
            second = [*first[1:], _read(frames, idx[-1] + 1, size)]
            current = second[-1]
            f1, f2 = torch.stack(first), torch.stack(second)
            x = egomotion_inputs(f1, f2, farneback_flow(f1, f2), k).to(device)
            pred = net(x)
            depth = pred["log_depth"].clamp(*LOG_DEPTH_RANGE).exp().float().cpu()
            motions.append(pred["motion"].float().cpu())
            for i, d in zip(idx, depth, strict=True):
                _save_depth(out, frames.files[i], d[0].numpy(), writer)
            bar.advance(len(idx))
        last = net.depth(current[None].to(device)).clamp(*LOG_DEPTH_RANGE).exp().float().cpu()
        _save_depth(out, frames.files[-1], last[0, 0].numpy(), writer)
        bar.advance(1)
    poses = compose_trajectory(torch.cat(motions))
    _write_trajectory(out / "trajectory.txt", frames.stamps, poses)
    np.savetxt(out / "intrinsics.txt", k.numpy(), fmt="%.6f")
    return {"frames": n, "format": frames.format, "outputs": ["depth/", "trajectory.txt"]}


def _save_depth(out: Path, file: Path, depth: np.ndarray, writer: PngWriter) -> None:
    np.save(out / "depth" / f"{file.stem}.npy", depth.astype(np.float32))
    _depth_png(depth, out / "depth" / f"{file.stem}.png", writer)
