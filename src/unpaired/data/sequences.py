"""Your own SfM sequence by path: a TUM RGB-D, KITTI odometry or Virtual KITTI folder.

:func:`open_sequence` finds a sequence's files, ground truth and calibration without
reading the images (cheap: a recipe calls it to check its input before a run directory
is written); :meth:`SequenceFiles.read` reads the frames at a working size;
:meth:`SequenceData.pair_set` makes the consecutive pairs the SfM networks take
(:class:`~unpaired.data.flow.PairSet`), with the ground truth the sequence has.

What ``path`` is, per format (the layouts of :mod:`unpaired.data.tum`,
:mod:`unpaired.data.kitti`, :mod:`unpaired.data.vkitti`):

* ``tum``: the sequence folder (``rgb.txt``, ``rgb/``; optional ``depth.txt`` +
  ``depth/``, uint16 metres x 5000; optional ``groundtruth.txt``). Frames matched by
  timestamp (0.02 s) to a depth image and a pose when those files exist. Intrinsics:
  TUM's published colour-camera calibration for the camera named in the folder
  (``freiburg1``/``2``/``3``, else the ROS default 525, 525, 319.5, 239.5), or the one
  ``camera`` names (``fr1``, ``freiburg2``, ...), given for 640x480 and scaled to the
  frames' size when they differ.
* ``kitti``: the odometry sequence folder ``.../sequences/NN`` (``image_2/`` or the
  ``camera`` asked for; ``calib.txt``; optional ``times.txt``); poses, when present, in
  ``.../poses/NN.txt`` (the benchmark's layout) as camera-to-world of camera 0, moved to
  the camera read. No depth. Intrinsics: ``P<camera>`` of ``calib.txt``.
* ``vkitti``: the RGB folder of one video, ``.../vkitti_1.3.1_rgb/<world>/<variation>``
  (``%05d.png``, 1242x375); depth (``vkitti_1.3.1_depthgt/<world>/<variation>``, cm)
  and extrinsics (``vkitti_1.3.1_extrinsicsgt/<world>_<variation>.txt``) are used when
  they exist. Intrinsics: Virtual KITTI's constant ``f = 725, cx = 620.5, cy = 187``.

``intrinsics=(fx, fy, cx, cy)`` (pixels of the files) replaces the format's calibration
(and makes KITTI's ``calib.txt`` optional). Bad input raises
:class:`~unpaired.errors.DataError` naming the file or value.

Example:
    >>> from unpaired.data.synthetic.scenes import render_sequence
    >>> from unpaired.data.tum import write_tum
    >>> import tempfile
    >>> folder = write_tum(render_sequence(3, n_frames=3, height=24, width=72),
    ...                    tempfile.mkdtemp() + "/street")
    >>> files = open_sequence(folder, "tum", intrinsics=(42.0, 42.0, 35.5, 11.5))
    >>> len(files), files.has_depth, files.has_poses, files.size
    (3, True, True, (24, 72))
    >>> pairs = files.read(16, 48).pair_set()
    >>> tuple(pairs.inputs.shape)
    (2, 10, 16, 48)
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial.transform import Rotation

from unpaired.data import tum, vkitti
from unpaired.data.flow import PairSet, egomotion_inputs, farneback_flow, motion_vectors
from unpaired.data.kitti import read_calib, read_poses
from unpaired.data.rgbd import (
    RGBD_FILES,
    center_crop_to_aspect,
    decode_depth,
    fill_holes,
    load_frames,
    read_uint16,
    relative_motion,
    scale_intrinsics,
)
from unpaired.errors import DataError

__all__ = [
    "SEQUENCE_FORMATS",
    "SequenceData",
    "SequenceFiles",
    "folder_depth_memories",
    "open_sequence",
]

SEQUENCE_FORMATS = ("tum", "kitti", "vkitti")
TUM_SIZE = (480, 640)  # the size TUM's published intrinsics are for (H, W)
_TUM_ALIASES = {"fr1": "freiburg1", "fr2": "freiburg2", "fr3": "freiburg3"}


def _matrix(fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    return torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=torch.float64)


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataError(f"{path}: not a readable image (expected an 8-bit colour PNG/JPEG)")
    return int(image.shape[0]), int(image.shape[1])


@dataclass(frozen=True)
class SequenceData:
    """A sequence read at a working size: ``frames`` (T, 3, H, W) in [0, 1], ``depth``
    (T, 1, H, W) metres (0 = no measurement) or None, ``poses`` (T, 4, 4) camera-to-world
    or None, ``intrinsics`` (3, 3) at (H, W), ``stamps`` (T seconds or frame indices)."""

    frames: torch.Tensor
    depth: torch.Tensor | None
    poses: torch.Tensor | None
    intrinsics: torch.Tensor
    stamps: list[float]
    name: str = ""

    def pair_set(self) -> PairSet:
        """Pairs (t, t + 1) with Farneback flow and the egomotion inputs. Ground truth the
        sequence lacks is marked so that metrics skip it: depth 0 (no valid pixel) without
        depth maps, motion NaN without poses."""
        f1, f2 = self.frames[:-1], self.frames[1:]
        n, k = len(f1), self.intrinsics.float()
        flow = farneback_flow(f1, f2)
        if self.poses is None:
            rot = torch.full((n, 3, 3), torch.nan)
            trans = torch.full((n, 3), torch.nan)
            motion = torch.full((n, 6), torch.nan)
        else:
            r, t = relative_motion(self.poses[:-1].double(), self.poses[1:].double())
            motion = motion_vectors(r, t).float()
            rot, trans = r.float(), t.float()
        depth = torch.zeros_like(f1[:, :1]) if self.depth is None else self.depth[:-1]
        return PairSet(egomotion_inputs(f1, f2, flow, k), flow, depth, motion, rot, trans, k)


@dataclass(frozen=True)
class SequenceFiles:
    """The files of a sequence (:func:`open_sequence`), nothing read yet but the first
    frame's size. ``poses`` (T, 4, 4) float64 camera-to-world or None; ``intrinsics``
    (3, 3) at ``size`` (H, W) of the files; ``calibration`` says where they came from."""

    path: Path
    format: str
    color: list[Path]
    depth: list[Path] | None
    depth_scale: float
    poses: torch.Tensor | None
    intrinsics: torch.Tensor
    size: tuple[int, int]
    stamps: list[float]
    calibration: str

    def __len__(self) -> int:
        return len(self.color)

    @property
    def has_depth(self) -> bool:
        return self.depth is not None

    @property
    def has_poses(self) -> bool:
        return self.poses is not None

    def read(self, height: int, width: int) -> SequenceData:
        """Every frame (and depth map) resized to (height, width), intrinsics scaled."""
        frames, depth, size = load_frames(
            self.color, self.depth, self.depth_scale, height=height, width=width
        )
        k = scale_intrinsics(self.intrinsics.float(), size, (height, width))
        poses = None if self.poses is None else self.poses.float()
        name = f"{self.format}-{self.path.name}"
        return SequenceData(frames, depth, poses, k, list(self.stamps), name)


def _select(n: int, start: int, stop: int | None, step: int, where: Path) -> list[int]:
    if start < 0 or step < 1:
        raise DataError(f"{where}: need start >= 0 and step >= 1, got start={start}, step={step}")
    chosen = list(range(n))[start:stop:step]
    if len(chosen) < 2:
        raise DataError(
            f"{where}: frames [{start}:{stop}:{step}] of {n} leave {len(chosen)}; SfM needs at least 2"
        )
    return chosen


def _tum_camera(path: Path, camera: str) -> tuple[torch.Tensor, str]:
    if camera == "auto":
        name = path.resolve().name
        found = next((c for c in tum.CAMERAS if c in name), None)
        values = tum.CAMERAS[found] if found else tum.DEFAULT_CAMERA
        return _matrix(*values), f"TUM {found or 'default (ROS)'} calibration"
    key = _TUM_ALIASES.get(camera, camera)
    if key not in tum.CAMERAS:
        raise DataError(f"unknown TUM camera {camera!r} (auto, fr1, fr2, fr3)")
    return _matrix(*tum.CAMERAS[key]), f"TUM {key} calibration"


def _tum(path: Path, camera: str) -> dict:
    rgb = tum.read_file_list(path / "rgb.txt", fields=1)
    stamps = [t for t, _ in rgb]
    keep = list(range(len(rgb)))
    depth_files = poses = None
    if (path / "depth.txt").is_file():
        depth = tum.read_file_list(path / "depth.txt", fields=1)
        match = dict(tum.associate(stamps, [t for t, _ in depth]))
        keep = [i for i in keep if i in match]
        depth_files = {i: path / depth[match[i]][1][0] for i in keep}
    if (path / "groundtruth.txt").is_file():
        truth = tum.read_file_list(path / "groundtruth.txt", fields=7)
        match = dict(tum.associate(stamps, [t for t, _ in truth]))
        keep = [i for i in keep if i in match]
        try:
            values = np.array([[float(x) for x in truth[match[i]][1]] for i in keep])
        except ValueError:
            raise DataError(f"{path / 'groundtruth.txt'}: pose values must be numbers") from None
        poses = np.tile(np.eye(4), (len(keep), 1, 1))
        if len(keep):
            norms = np.linalg.norm(values[:, 3:], axis=1, keepdims=True)
            if np.any(norms < 1e-6):
                raise DataError(f"{path / 'groundtruth.txt'}: zero quaternion")
            poses[:, :3, :3] = Rotation.from_quat(values[:, 3:] / norms).as_matrix()
            poses[:, :3, 3] = values[:, :3]
        poses = dict(zip(keep, torch.from_numpy(poses), strict=True))
    k, source = _tum_camera(path, camera)
    return {
        "color": {i: path / rgb[i][1][0] for i in keep},
        "depth": depth_files,
        "poses": poses,
        "stamps": {i: stamps[i] for i in keep},
        "intrinsics": k,
        "calibration": source,
        "depth_scale": tum.DEPTH_SCALE,
        "native": TUM_SIZE,
    }


def _kitti(path: Path, camera: str, calib_needed: bool) -> dict:
    cams = (2, 0, 3, 1) if camera == "auto" else (int(camera),) if camera.isdigit() else ()
    if not cams or cams[0] not in (0, 1, 2, 3):
        raise DataError(f"unknown KITTI camera {camera!r} (auto, 0, 1, 2 or 3)")
    cam = next((c for c in cams if (path / f"image_{c}").is_dir()), None)
    if cam is None:
        raise DataError(f"{path}: no image_{cams[0]}/ folder (a KITTI odometry sequence folder)")
    files = sorted((path / f"image_{cam}").glob("*.png"))
    if not files:
        raise DataError(f"{path / f'image_{cam}'}: no frames found (expected %06d.png files)")
    k, offset, source = None, np.zeros(3), "calib.txt"
    if calib_needed or (path / "calib.txt").is_file():
        proj = read_calib(path / "calib.txt")[f"P{cam}"]
        k = torch.from_numpy(proj[:, :3].copy())
        offset = np.linalg.solve(proj[:, :3], proj[:, 3])
        source = f"{path / 'calib.txt'} (P{cam})"
    poses = None
    pose_file = path.parent.parent / "poses" / f"{path.name}.txt"
    if pose_file.is_file():
        poses0 = read_poses(pose_file)
        if len(poses0) != len(files):
            raise DataError(f"{pose_file}: {len(poses0)} poses for {len(files)} frames")
        to_cam0 = torch.eye(4, dtype=torch.float64)
        to_cam0[:3, 3] = torch.from_numpy(-offset)
        poses = dict(enumerate(poses0 @ to_cam0))
    stamps = [float(i) / 10 for i in range(len(files))]
    if (path / "times.txt").is_file():
        try:
            stamps = [float(x) for x in (path / "times.txt").read_text().split()]
        except ValueError:
            raise DataError(f"{path / 'times.txt'}: expected one number per line") from None
        if len(stamps) != len(files):
            raise DataError(f"{path / 'times.txt'}: {len(stamps)} times for {len(files)} frames")
    return {
        "color": dict(enumerate(files)),
        "depth": None,
        "poses": poses,
        "stamps": dict(enumerate(stamps)),
        "intrinsics": k,
        "calibration": source,
        "depth_scale": 1.0,
        "native": None,
    }


def _vkitti(path: Path) -> dict:
    files = sorted(path.glob("*.png"))
    root, world, variation = path.parent.parent.parent, path.parent.name, path.name
    depth_dir = root / "vkitti_1.3.1_depthgt" / world / variation
    ext_file = root / "vkitti_1.3.1_extrinsicsgt" / f"{world}_{variation}.txt"
    indices = {}
    for i, f in enumerate(files):
        try:
            indices[i] = int(f.stem)
        except ValueError:
            raise DataError(f"{f}: expected a %05d.png frame name") from None
    poses = None
    if ext_file.is_file():
        extrinsics = vkitti.read_extrinsics(ext_file)
        missing = [files[i].name for i, j in indices.items() if j not in extrinsics]
        if missing:
            raise DataError(f"{ext_file}: no line for frame {missing[0]}")
        poses = {i: torch.linalg.inv(extrinsics[j]) for i, j in indices.items()}
    depth = {i: depth_dir / f.name for i, f in enumerate(files)} if depth_dir.is_dir() else None
    return {
        "color": dict(enumerate(files)),
        "depth": depth,
        "poses": poses,
        "stamps": {i: j / 10 for i, j in indices.items()},
        "intrinsics": vkitti.INTRINSICS.double(),
        "calibration": "Virtual KITTI intrinsics (f 725, cx 620.5, cy 187)",
        "depth_scale": vkitti.DEPTH_SCALE,
        "native": vkitti.IMAGE_SIZE,
    }


def open_sequence(
    path: str | Path,
    format: str,
    *,
    intrinsics: Seq[float] | None = None,
    camera: str = "auto",
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
) -> SequenceFiles:
    """The files of the ``format`` sequence at ``path`` (module docstring), frames
    ``[start:stop:step]`` of those with the ground truth the folder has."""
    path = Path(path).expanduser()
    if format not in SEQUENCE_FORMATS:
        raise DataError(
            f"unknown sequence format {format!r} (one of {', '.join(SEQUENCE_FORMATS)})"
        )
    if not path.is_dir():
        raise DataError(f"{path}: no such sequence folder")
    if intrinsics is not None and len(intrinsics) != 4:
        raise DataError(f"intrinsics must be 4 numbers fx, fy, cx, cy, got {list(intrinsics)}")
    if format == "tum":
        found = _tum(path, camera)
    elif format == "kitti":
        found = _kitti(path, camera, calib_needed=intrinsics is None)
    else:
        found = _vkitti(path)
    keys = sorted(found["color"])
    if not keys:
        raise DataError(f"{path}: no frames found for format {format!r}")
    keys = [keys[i] for i in _select(len(keys), start, stop, step, path)]
    color = [found["color"][i] for i in keys]
    depth = None if found["depth"] is None else [found["depth"][i] for i in keys]
    for f in depth or []:
        if not f.is_file():
            raise DataError(f"{f}: depth file not found")
    size = _image_size(color[0])
    k, source = found["intrinsics"], found["calibration"]
    if intrinsics is not None:
        k, source = _matrix(*(float(v) for v in intrinsics)), "set by the user (data.intrinsics)"
    elif found["native"] is not None and size != found["native"]:
        if format == "vkitti":
            h, w = vkitti.IMAGE_SIZE
            raise DataError(
                f"{color[0]}: Virtual KITTI frames are {w}x{h}, got {size[1]}x{size[0]}; "
                "set data.intrinsics=fx,fy,cx,cy for other sizes"
            )
        k = scale_intrinsics(k, found["native"], size)
        source += f" scaled from {found['native'][1]}x{found['native'][0]}"
    poses = None if found["poses"] is None else torch.stack([found["poses"][i] for i in keys])
    return SequenceFiles(
        path=path,
        format=format,
        color=color,
        depth=depth,
        depth_scale=found["depth_scale"],
        poses=poses,
        intrinsics=k.double(),
        size=size,
        stamps=[found["stamps"][i] for i in keys],
        calibration=source,
    )


def folder_depth_memories(
    folder: str | Path, *, height: int, width: int, depth_scale: float = tum.DEPTH_SCALE
) -> torch.Tensor:
    """Depth memories (N, 1, height, width) metres from a folder of depth images: the
    ``rgbd_frames`` dataset's three frames (by their names, each decoded in its own
    convention, :func:`~unpaired.data.rgbd.decode_depth`) if present, else every 16-bit
    PNG in it at ``depth_scale`` units per metre (TUM's 5000 by default). Holes are
    filled with the nearest measurement, each map centre cropped to height:width and
    area-resized."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such depth-memory folder")
    named = [(folder / d, c) for c, (_, d) in RGBD_FILES.items() if (folder / d).is_file()]
    if named:
        maps = [decode_depth(read_uint16(p), c) for p, c in named]  # type: ignore[arg-type]
    else:
        files = sorted(folder.glob("*.png"))
        if not files:
            raise DataError(f"{folder}: no depth images (16-bit PNGs) in the memory folder")
        maps = [read_uint16(p).astype(np.float32) / depth_scale for p in files]
    out = []
    for m in maps:
        depth = torch.from_numpy(np.ascontiguousarray(m))[None]
        if not (depth > 0).any():
            continue
        d = center_crop_to_aspect(fill_holes(depth, depth > 0), height, width)
        out.append(F.interpolate(d[None], size=(height, width), mode="area")[0])
    if not out:
        raise DataError(f"{folder}: every depth image is empty (no measurement)")
    return torch.stack(out)
