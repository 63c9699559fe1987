"""KITTI odometry (Geiger et al. 2012): real driving video with ground-truth poses.
Bring your own copy; the library never downloads it. No depth maps.

Layout under ``<data dir>/kitti/odometry`` (the odometry benchmark's own layout):

* ``sequences/NN/image_2/%06d.png`` (left colour camera; ``image_3`` right colour,
  ``image_0``/``image_1`` grey);
* ``sequences/NN/calib.txt``: lines ``P0: p11 ... p34`` .. ``P3: ...`` (3x4 rectified
  projection matrices, row-major; ``P_i = K [I | b_i]`` with ``b_i`` camera i's offset
  from camera 0) and ``Tr: ...`` (ignored here);
* ``poses/NN.txt`` (sequences 00-10 only): per frame 12 numbers, the row-major 3x4
  camera-to-world pose of camera 0 (world = camera 0 at frame 0).

Poses of the requested camera ``c`` are ``pose_0 @ [I | -b_c]`` (rectified cameras share
camera 0's orientation; ``b_c = K^-1 P_c[:, 3]``), so relative motions are those of the
camera whose images are read. The AIGN paper avoids KITTI for SfM because its ground
truth is noisy over short snippets; it is useful for qualitative runs and pretraining.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.data.rgbd import Sequence, load_frames, scale_intrinsics, select
from unpaired.data.root import data_dir
from unpaired.errors import DataError


def _numbers(path: Path, n: int, line: str, count: int) -> list[float]:
    try:
        values = [float(x) for x in line.split()]
    except ValueError:
        raise DataError(
            f"{path}: line {n}: expected {count} numbers, got {line.strip()!r}"
        ) from None
    if len(values) != count:
        raise DataError(f"{path}: line {n}: expected {count} numbers, got {len(values)}")
    return values


def read_calib(path: Path) -> dict[str, np.ndarray]:
    """``calib.txt`` -> {"P0": (3, 4), ..., "P3": (3, 4)} (other keys ignored)."""
    if not path.is_file():
        raise DataError(f"{path}: calibration file not found")
    out: dict[str, np.ndarray] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if ":" not in line:
            continue
        key, rest = line.split(":", 1)
        key = key.strip()
        if key in {"P0", "P1", "P2", "P3"}:
            out[key] = np.array(_numbers(path, n, rest, 12)).reshape(3, 4)
    missing = [k for k in ("P0", "P1", "P2", "P3") if k not in out]
    if missing:
        raise DataError(
            f"{path}: missing projection matrices {', '.join(missing)} (lines 'P0: <12 numbers>')"
        )
    return out


def read_poses(path: Path) -> torch.Tensor:
    """``poses/NN.txt`` -> camera-to-world poses (T, 4, 4) float64."""
    if not path.is_file():
        raise DataError(
            f"{path}: pose file not found (ground truth exists for sequences 00-10 only)"
        )
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            rows.append(_numbers(path, n, line, 12))
    if not rows:
        raise DataError(f"{path}: no poses")
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    poses[:, :3, :] = np.array(rows).reshape(-1, 3, 4)
    return torch.from_numpy(poses)


def load_kitti_odometry(
    sequence: int | str,
    root: str | Path | None = None,
    *,
    camera: int = 2,
    height: int | None = None,
    width: int | None = None,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
) -> Sequence:
    """One KITTI odometry sequence (e.g. ``0`` or ``"00"``) as a
    :class:`~unpaired.data.rgbd.Sequence` (``depth`` is None).

    ``camera`` picks ``image_<camera>``; frames ``[start:stop:step]`` are resized to
    (height, width) when both are given, intrinsics scaled to match.
    """
    if camera not in (0, 1, 2, 3):
        raise ValueError(f"camera must be 0, 1, 2 or 3, got {camera}")
    name = f"{int(sequence):02d}" if str(sequence).isdigit() else str(sequence)
    base = require("kitti_odometry", data_dir(root))
    seq_dir = base / "sequences" / name
    image_dir = seq_dir / f"image_{camera}"
    files = sorted(image_dir.glob("*.png"))
    if not files:
        raise DataError(f"{image_dir}: no frames (expected %06d.png files)")
    calib = read_calib(seq_dir / "calib.txt")
    poses0 = read_poses(base / "poses" / f"{name}.txt")
    if len(poses0) != len(files):
        raise DataError(
            f"{base / 'poses' / f'{name}.txt'}: {len(poses0)} poses for {len(files)} frames in {image_dir}"
        )
    proj = calib[f"P{camera}"]
    k = proj[:, :3]
    offset = np.linalg.solve(k, proj[:, 3])
    cam_to_cam0 = torch.eye(4, dtype=torch.float64)
    cam_to_cam0[:3, 3] = torch.from_numpy(-offset)
    indices = select(list(range(len(files))), start, stop, step)
    frames, _, size = load_frames(
        [files[i] for i in indices], None, 1.0, height=height, width=width
    )
    k_t = torch.from_numpy(k).float()
    if height is not None and width is not None:
        k_t = scale_intrinsics(k_t, size, (height, width))
    poses = poses0[indices] @ cam_to_cam0
    return Sequence(frames, None, poses.float(), k_t, name=f"kitti-{name}-cam{camera}")


def write_kitti_odometry(sequence: Sequence, root: str | Path, name: str = "00") -> Path:
    """Write ``sequence`` in the odometry layout under ``root`` (what
    :func:`load_kitti_odometry` reads): ``sequences/<name>/image_2/%06d.png``,
    ``calib.txt`` (every ``P_i = K [I | 0]``: one camera), ``times.txt`` (10 fps) and
    ``poses/<name>.txt`` (camera-to-world, relative to the first frame as KITTI's are).
    Depth, which KITTI odometry does not have, is not written. Returns the sequence folder."""
    import cv2

    seq_dir = Path(root) / "sequences" / name
    (seq_dir / "image_2").mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(sequence.frames):
        image = frame.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        cv2.imwrite(
            str(seq_dir / "image_2" / f"{i:06d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        )
    proj = np.zeros((3, 4))
    proj[:, :3] = sequence.intrinsics.double().numpy()
    row = " ".join(f"{v:.12e}" for v in proj.ravel())
    (seq_dir / "calib.txt").write_text("".join(f"P{c}: {row}\n" for c in range(4)))
    (seq_dir / "times.txt").write_text("".join(f"{i / 10:.6e}\n" for i in range(len(sequence))))
    poses = torch.linalg.inv(sequence.poses[0].double()) @ sequence.poses.double()
    (Path(root) / "poses").mkdir(exist_ok=True)
    lines = [" ".join(f"{v:.12e}" for v in p[:3].reshape(-1).tolist()) for p in poses]
    (Path(root) / "poses" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return seq_dir
