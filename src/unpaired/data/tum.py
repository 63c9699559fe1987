"""TUM RGB-D (Sturm et al. 2012): Kinect video with depth and motion-capture poses.
Bring your own copy; the library never downloads it.

Layout under ``<data dir>/tum_rgbd``: one extracted folder per sequence (e.g.
``rgbd_dataset_freiburg1_xyz``) holding ``rgb/``, ``depth/`` and three text files,
each with ``#`` comment lines:

* ``rgb.txt``, ``depth.txt``: ``timestamp filename`` per line;
* ``groundtruth.txt``: ``timestamp tx ty tz qx qy qz qw``, the pose of the colour
  camera's optical centre in the world (camera-to-world; quaternion scalar last).

Depth PNGs are uint16, metres = value / 5000, 0 = no measurement. Colour and depth
images and poses are matched by timestamp as in the benchmark's ``associate.py``:
candidate pairs closer than ``max_difference`` seconds are accepted greedily, closest
first, each timestamp used at most once. Intrinsics are the published per-camera
calibration (freiburg1/2/3 by folder name; otherwise the ROS default 525, 525, 319.5,
239.5); lens distortion is ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from unpaired.data.catalog import require
from unpaired.data.rgbd import Sequence, load_frames, scale_intrinsics, select
from unpaired.data.root import data_dir
from unpaired.errors import DataError

DEPTH_SCALE = 5000.0
CAMERAS = {  # fx, fy, cx, cy of the colour camera (TUM RGB-D file-format page)
    "freiburg1": (517.3, 516.5, 318.6, 255.3),
    "freiburg2": (520.9, 521.0, 325.1, 249.7),
    "freiburg3": (535.4, 539.2, 320.1, 247.6),
}
DEFAULT_CAMERA = (525.0, 525.0, 319.5, 239.5)


def read_file_list(path: Path, *, fields: int) -> list[tuple[float, list[str]]]:
    """A TUM text file -> [(timestamp, the ``fields`` values after it)], in file order."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.replace(",", " ").split()
        if len(parts) != fields + 1:
            raise DataError(
                f"{path}: line {n}: expected a timestamp and {fields} values, got {len(parts)} fields"
            )
        try:
            stamp = float(parts[0])
        except ValueError:
            raise DataError(f"{path}: line {n}: bad timestamp {parts[0]!r}") from None
        out.append((stamp, parts[1:]))
    if not out:
        raise DataError(f"{path}: no entries")
    return out


def associate(
    first: list[float], second: list[float], *, max_difference: float = 0.02
) -> list[tuple[int, int]]:
    """Match timestamps one-to-one: pairs with ``|a - b| < max_difference``, closest
    first (TUM's ``associate.py``). Returns (index in first, index in second), sorted."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    b_order = np.argsort(b, kind="stable")
    b_sorted = b[b_order]
    lo = np.searchsorted(b_sorted, a - max_difference, side="left")
    hi = np.searchsorted(b_sorted, a + max_difference, side="right")
    counts = hi - lo
    i = np.repeat(np.arange(len(a)), counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    j = b_order[starts + np.arange(counts.sum())]
    diff = np.abs(a[i] - b[j])
    close = diff < max_difference
    i, j, diff = i[close], j[close], diff[close]
    order = np.argsort(diff, kind="stable")
    used_a, used_b, pairs = set(), set(), []
    for k in order:
        if i[k] not in used_a and j[k] not in used_b:
            used_a.add(int(i[k]))
            used_b.add(int(j[k]))
            pairs.append((int(i[k]), int(j[k])))
    return sorted(pairs)


def camera_intrinsics(sequence: str) -> torch.Tensor:
    fx, fy, cx, cy = next((v for k, v in CAMERAS.items() if k in sequence), DEFAULT_CAMERA)
    return torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def load_tum(
    sequence: str,
    root: str | Path | None = None,
    *,
    height: int | None = None,
    width: int | None = None,
    max_difference: float = 0.02,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
) -> Sequence:
    """One TUM RGB-D sequence folder (e.g. ``"rgbd_dataset_freiburg1_xyz"``) as a
    :class:`~unpaired.data.rgbd.Sequence`.

    Colour frames with a depth image and a ground-truth pose within ``max_difference``
    seconds are kept; of those, ``[start:stop:step]`` are read and resized to (height,
    width) when both are given, intrinsics scaled to match.
    """
    base = require("tum_rgbd", data_dir(root))
    seq_dir = base / sequence
    if not seq_dir.is_dir():
        found = ", ".join(sorted(p.parent.name for p in base.glob("*/rgb.txt"))) or "none"
        raise DataError(f"{seq_dir}: no such sequence folder (found: {found})")
    rgb = read_file_list(seq_dir / "rgb.txt", fields=1)
    depth = read_file_list(seq_dir / "depth.txt", fields=1)
    truth = read_file_list(seq_dir / "groundtruth.txt", fields=7)
    rgb_depth = dict(
        associate([t for t, _ in rgb], [t for t, _ in depth], max_difference=max_difference)
    )
    rgb_pose = dict(
        associate([t for t, _ in rgb], [t for t, _ in truth], max_difference=max_difference)
    )
    keep = [i for i in range(len(rgb)) if i in rgb_depth and i in rgb_pose]
    if not keep:
        raise DataError(
            f"{seq_dir}: no colour frame has both a depth image and a pose within {max_difference} s"
        )
    keep = select(keep, start, stop, step)
    try:
        values = np.array([[float(x) for x in truth[rgb_pose[i]][1]] for i in keep])
    except ValueError:
        raise DataError(f"{seq_dir / 'groundtruth.txt'}: pose values must be numbers") from None
    norms = np.linalg.norm(values[:, 3:], axis=1)
    if np.any(norms < 1e-6):
        raise DataError(f"{seq_dir / 'groundtruth.txt'}: zero quaternion")
    poses = np.tile(np.eye(4), (len(keep), 1, 1))
    poses[:, :3, :3] = Rotation.from_quat(values[:, 3:] / norms[:, None]).as_matrix()
    poses[:, :3, 3] = values[:, :3]
    color_files = [seq_dir / rgb[i][1][0] for i in keep]
    depth_files = [seq_dir / depth[rgb_depth[i]][1][0] for i in keep]
    frames, depths, size = load_frames(
        color_files, depth_files, DEPTH_SCALE, height=height, width=width
    )
    k = camera_intrinsics(sequence)
    if height is not None and width is not None:
        k = scale_intrinsics(k, size, (height, width))
    return Sequence(frames, depths, torch.from_numpy(poses).float(), k, name=f"tum-{sequence}")


def write_tum(
    sequence: Sequence, folder: str | Path, *, fps: float = 30.0, start: float = 1.0
) -> Path:
    """Write ``sequence`` as a TUM RGB-D sequence folder (what :func:`load_tum` reads):
    ``rgb/*.png``, ``depth/*.png`` (uint16, metres x 5000; 0 = no measurement beyond
    13.1 m, the format's range; only when the sequence has depth), ``rgb.txt``, ``depth.txt`` and ``groundtruth.txt`` (camera-to-world, quaternion
    scalar last), frame ``i`` at ``start + i / fps`` seconds. Returns the folder."""
    import cv2

    root = Path(folder)
    (root / "rgb").mkdir(parents=True, exist_ok=True)
    stamps = [start + i / fps for i in range(len(sequence))]
    rgb, depth, truth = (
        ["# timestamp filename"],
        ["# timestamp filename"],
        ["# timestamp tx ty tz qx qy qz qw"],
    )
    quats = Rotation.from_matrix(sequence.poses[:, :3, :3].double().numpy()).as_quat()
    for i, t in enumerate(stamps):
        name = f"{t:.6f}.png"
        image = sequence.frames[i].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
        cv2.imwrite(str(root / "rgb" / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        rgb.append(f"{t:.6f} rgb/{name}")
        if sequence.depth is not None:
            (root / "depth").mkdir(exist_ok=True)
            raw = (sequence.depth[i, 0].double() * DEPTH_SCALE).round()
            raw[(raw > 65535) | (raw < 0)] = 0  # beyond 13.1 m: no measurement, as TUM
            cv2.imwrite(str(root / "depth" / name), raw.numpy().astype(np.uint16))
            depth.append(f"{t:.6f} depth/{name}")
        position = sequence.poses[i, :3, 3].double().tolist()
        truth.append(f"{t:.6f} " + " ".join(f"{v:.7f}" for v in [*position, *quats[i]]))
    (root / "rgb.txt").write_text("\n".join(rgb) + "\n")
    if sequence.depth is not None:
        (root / "depth.txt").write_text("\n".join(depth) + "\n")
    (root / "groundtruth.txt").write_text("\n".join(truth) + "\n")
    return root
