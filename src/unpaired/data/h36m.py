"""Human3.6M in the VideoPose3D ``.npz`` layout, mapped to the library's 17-joint skeleton.

Files (made by VideoPose3D's ``prepare_data_h36m.py``; the dataset is not redistributable,
see ``unpaired data check``):

- ``data_3d_h36m.npz``: ``positions_3d`` = pickled dict ``{subject: {action: (T, 32, 3)}}``
  of world coordinates in metres, z up, 50 fps.
- ``data_2d_h36m_gt.npz`` (optional): ``positions_2d`` = ``{subject: {action: [ (T, J, 2)
  per camera ]}}`` in pixels, and ``metadata`` = ``{"num_joints": J, "keypoints_symmetry":
  [left, right]}`` (J = 17 in VideoPose3D's files).

3D poses are returned as (T, 17, 3) in metres and converted to the library's **y-up**
world frame by the proper rotation ``(x, y, z) -> (x, z, -y)``; 2D keypoints are returned
unchanged in pixels. 32-joint arrays are reduced with :data:`FROM_H36M32`. The AIGN
protocol (Sec. 3.1) trains on S1, S5, S6, S7, S8, tests on S9, S11, at a third of the frame
rate (``step=3``).

The ``.npz`` files hold pickled objects, which ``numpy`` must unpickle: load only files
from a source you trust.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.data.skeleton import (
    FROM_H36M32,
    H36M32_JOINTS,
    LEFT_JOINTS,
    NUM_JOINTS,
    RIGHT_JOINTS,
    map_joints,
)
from unpaired.errors import DataError, DataNotFoundError

PathLike = str | os.PathLike[str]
TRAIN_SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8")
TEST_SUBJECTS: tuple[str, ...] = ("S9", "S11")
H36M_FPS = 50.0
FILE_3D = "data_3d_h36m.npz"
FILE_2D = "data_2d_h36m_gt.npz"
#: The 15 Human3.6M activities (table columns), in the usual order.
ACTIVITIES: tuple[str, ...] = (
    "Directions",
    "Discussion",
    "Eating",
    "Greeting",
    "Phoning",
    "Photo",
    "Posing",
    "Purchases",
    "Sitting",
    "SittingDown",
    "Smoking",
    "Waiting",
    "WalkDog",
    "Walking",
    "WalkTogether",
)
_ALIASES = {"TakingPhoto": "Photo", "WalkingDog": "WalkDog"}
#: z-up (Human3.6M world) -> y-up (library world): (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

Poses3D = dict[str, dict[str, torch.Tensor]]
Poses2D = dict[str, dict[str, list[torch.Tensor]]]


def activity(action: str) -> str:
    """Activity of an action name: ``"Directions 1"`` -> ``"Directions"``,
    ``"TakingPhoto"`` -> ``"Photo"``. Unknown names are returned without the take number."""
    base = re.sub(r"\s*\d+$", "", action.strip())
    return _ALIASES.get(base, base)


def _load_objects(path: Path, key: str, *optional: str) -> list[Any]:
    """Unpickle entry ``key`` (required) and ``optional`` entries (None when absent) of an
    ``.npz`` file, with one-line errors for bad files."""
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=True) as archive:
            if key not in archive.files:
                raise DataError(
                    f"{path}: no {key!r} entry (found {', '.join(archive.files) or 'none'}); "
                    "expected the VideoPose3D layout"
                )
            values = [archive[k] if k in archive.files else None for k in (key, *optional)]
    except DataError:
        raise
    except Exception as err:  # numpy/zipfile/pickle raise many types for a bad file
        raise DataError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None
    return [
        v.item() if isinstance(v, np.ndarray) and v.dtype == object and v.shape == () else v
        for v in values
    ]


def _nested(path: Path, value: Any, key: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise DataError(f"{path}: {key!r} must be a dict {{subject: {{action: array}}}}")
    return value


def _selected(path: Path, data: dict[str, Any], subjects: Sequence[str] | None) -> list[str]:
    if subjects is None:
        return sorted(data)
    missing = [s for s in subjects if s not in data]
    if missing:
        raise DataError(f"{path}: subjects {missing} not found (have {', '.join(sorted(data))})")
    return list(subjects)


def _array(path: Path, value: Any, where: str, width: int) -> np.ndarray:
    """A (T, J, width) float array with J in (17, 32), or a DataError naming ``where``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{path}: {where} is not a numeric array") from None
    if (
        array.ndim != 3
        or array.shape[1] not in (NUM_JOINTS, len(H36M32_JOINTS))
        or array.shape[2] != width
    ):
        raise DataError(f"{path}: {where} has shape {array.shape}, expected (T, 32 or 17, {width})")
    if not np.isfinite(array).all():
        raise DataError(f"{path}: {where} contains NaN or infinite values")
    return array


def _to17(array: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(array)
    if tensor.shape[1] == len(H36M32_JOINTS):
        tensor = map_joints(tensor, H36M32_JOINTS, mapping=FROM_H36M32)
    return tensor


def load_h36m_3d(
    path: PathLike, *, subjects: Sequence[str] | None = None, step: int = 1
) -> Poses3D:
    """Load ``data_3d_h36m.npz``: ``{subject: {action: (T, 17, 3)}}`` float32, metres, y up,
    every ``step``-th frame (``step=3``: the paper's third of 50 fps)."""
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    path = Path(path)
    (positions,) = _load_objects(path, "positions_3d")
    data = _nested(path, positions, "positions_3d")
    rotation = Z_UP_TO_Y_UP.to(torch.float64)
    out: Poses3D = {}
    for subject in _selected(path, data, subjects):
        out[subject] = {}
        for action, value in data[subject].items():
            array = _array(path, value, f"positions_3d[{subject!r}][{action!r}]", 3)
            poses = _to17(array[::step]) @ rotation.T
            out[subject][action] = poses.float()
    return out


def _check_metadata(path: Path, metadata: Any) -> int | None:
    """Validate VideoPose3D's 2D metadata; returns its ``num_joints`` (None if absent)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or "num_joints" not in metadata:
        raise DataError(f"{path}: 'metadata' must be a dict with 'num_joints'")
    joints = metadata["num_joints"]
    symmetry = metadata.get("keypoints_symmetry")
    if joints == NUM_JOINTS and symmetry is not None:
        try:
            left, right = (sorted(int(j) for j in side) for side in symmetry)
        except (TypeError, ValueError):
            raise DataError(
                f"{path}: 'keypoints_symmetry' must be [left joints, right joints]"
            ) from None
        if (left, right) != (sorted(LEFT_JOINTS), sorted(RIGHT_JOINTS)):
            raise DataError(
                f"{path}: keypoints_symmetry {left} / {right} does not match the 17-joint "
                f"Human3.6M order (left {list(LEFT_JOINTS)}, right {list(RIGHT_JOINTS)})"
            )
    return int(joints)


def load_h36m_2d(
    path: PathLike, *, subjects: Sequence[str] | None = None, step: int = 1
) -> Poses2D:
    """Load ``data_2d_h36m_gt.npz``: ``{subject: {action: [(T, 17, 2) per camera]}}`` float32
    pixels, every ``step``-th frame."""
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    path = Path(path)
    positions, metadata = _load_objects(path, "positions_2d", "metadata")
    data = _nested(path, positions, "positions_2d")
    joints = _check_metadata(path, metadata)
    out: Poses2D = {}
    for subject in _selected(path, data, subjects):
        out[subject] = {}
        for action, cameras in data[subject].items():
            if not isinstance(cameras, (list, tuple)) or not cameras:
                raise DataError(
                    f"{path}: positions_2d[{subject!r}][{action!r}] must be a list of cameras"
                )
            views = []
            for c, value in enumerate(cameras):
                where = f"positions_2d[{subject!r}][{action!r}][{c}]"
                array = _array(path, value, where, 2)
                if joints is not None and array.shape[1] != joints:
                    raise DataError(
                        f"{path}: {where} has {array.shape[1]} joints, metadata says {joints}"
                    )
                views.append(_to17(array[::step]).float())
            out[subject][action] = views
    return out


def load_h36m(
    root: PathLike, *, subjects: Sequence[str] | None = None, step: int = 1
) -> tuple[Poses3D, Poses2D | None]:
    """Both files from the data directory ``root`` (``human36m/``): the 3D poses and, when
    ``data_2d_h36m_gt.npz`` is present, the ground-truth 2D keypoints (else None)."""
    base = require("human36m", Path(root))
    poses_3d = load_h36m_3d(base / FILE_3D, subjects=subjects, step=step)
    file_2d = base / FILE_2D
    poses_2d = load_h36m_2d(file_2d, subjects=subjects, step=step) if file_2d.is_file() else None
    return poses_3d, poses_2d
