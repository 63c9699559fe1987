"""2D keypoints from users' files, in the library's 17-joint order (pixels).

Formats (one person per frame, frames in file order):

* ``.npy`` / ``.npz`` (one array, or the array named ``keypoints``): (T, 17, 2) pixels,
  or (T, 17, 3) with a confidence per joint;
* ``.csv``: one row per frame, 34 numbers ``x0, y0, ..., x16, y16`` or 51 with a
  confidence after each joint (``x0, y0, c0, ...``); a header line is skipped;
* ``.json``: COCO keypoints, either a results list (``[{"image_id", "keypoints": [51
  numbers], "score"}, ...]``) or a dataset (``{"images": [...], "annotations": [...]}``).
  A frame is an image (in the order of ``images``, else by ``image_id``); of several
  people in one image the one with the highest ``score`` (else the most visible joints)
  is kept. COCO-17 joints are mapped to ours (:data:`COCO_TO_OURS`): hips, knees,
  ankles, shoulders, elbows and wrists one to one; pelvis = mid-hips, thorax =
  mid-shoulders, spine = mid(pelvis, thorax), neck = the nose, head = mid-eyes (COCO has
  no head top). COCO's visibility flag is the confidence (0 = not labelled).

Joints with confidence 0 (or non-finite coordinates) are filled by linear interpolation
in time between the nearest frames where that joint is seen (held constant before the
first and after the last); a joint never seen is an error. The lifters themselves need
every joint.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "kp.npy"
    >>> np.save(path, np.ones((4, 17, 2), np.float32))
    >>> read_keypoints(path).shape
    (4, 17, 2)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from unpaired.data.arrays import load_samples
from unpaired.data.skeleton import H36M17_JOINTS
from unpaired.errors import DataError

__all__ = ["COCO_JOINTS", "COCO_TO_OURS", "NpyChunks", "fill_missing", "read_keypoints"]

J = len(H36M17_JOINTS)

COCO_JOINTS: tuple[str, ...] = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow",
    "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle",
    "r_ankle",
)  # fmt: skip

#: For each of our joints, the COCO joints averaged into it (spine: pelvis and thorax).
COCO_TO_OURS: dict[str, tuple[str, ...]] = {
    "pelvis": ("l_hip", "r_hip"),
    "r_hip": ("r_hip",),
    "r_knee": ("r_knee",),
    "r_ankle": ("r_ankle",),
    "l_hip": ("l_hip",),
    "l_knee": ("l_knee",),
    "l_ankle": ("l_ankle",),
    "spine": ("l_hip", "r_hip", "l_shoulder", "r_shoulder"),
    "thorax": ("l_shoulder", "r_shoulder"),
    "neck": ("nose",),
    "head": ("l_eye", "r_eye"),
    "l_shoulder": ("l_shoulder",),
    "l_elbow": ("l_elbow",),
    "l_wrist": ("l_wrist",),
    "r_shoulder": ("r_shoulder",),
    "r_elbow": ("r_elbow",),
    "r_wrist": ("r_wrist",),
}


def _from_coco(coco: np.ndarray) -> np.ndarray:
    """(T, 17, 3) COCO order (x, y, visibility) -> (T, 17, 3) ours (confidence 0 where a
    source joint is missing)."""
    out = np.zeros((coco.shape[0], J, 3), np.float32)
    for j, name in enumerate(H36M17_JOINTS):
        src = coco[:, [COCO_JOINTS.index(s) for s in COCO_TO_OURS[name]]]
        out[:, j, :2] = src[..., :2].mean(1)
        out[:, j, 2] = src[..., 2].min(1)
    return out


def _person(anns: list[dict[str, Any]]) -> dict[str, Any]:
    def rank(a: dict[str, Any]) -> tuple[float, int]:
        visible = sum(1 for v in a["keypoints"][2::3] if v > 0)
        return (float(a.get("score", 0.0)), visible)

    return max(anns, key=rank)


def _read_coco(path: Path) -> np.ndarray:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read as JSON ({e})") from None
    images = data.get("images") if isinstance(data, dict) else None
    anns = data.get("annotations") if isinstance(data, dict) else data
    if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
        raise DataError(f"{path}: expected COCO keypoints (a list of results or 'annotations')")
    by_image: dict[Any, list[dict[str, Any]]] = {}
    for i, a in enumerate(anns):
        kp = a.get("keypoints")
        if not isinstance(kp, list) or len(kp) != 51 or "image_id" not in a:
            raise DataError(
                f"{path}: annotation {i} needs 'image_id' and 'keypoints' with 51 numbers "
                "(17 COCO joints x (x, y, v))"
            )
        by_image.setdefault(a["image_id"], []).append(a)
    if images:
        order = [im["id"] for im in images]
    else:
        order = sorted(by_image)
    if not order:
        raise DataError(f"{path}: no annotations")
    coco = np.zeros((len(order), 17, 3), np.float32)
    for t, image_id in enumerate(order):
        if image_id in by_image:
            coco[t] = np.asarray(_person(by_image[image_id])["keypoints"], np.float32).reshape(
                17, 3
            )
    return _from_coco(coco)


def _read_array(path: Path) -> np.ndarray:
    try:
        if path.suffix == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if "keypoints" in names:
                return z["keypoints"]
            if len(names) != 1:
                raise DataError(
                    f"{path}: holds {len(names)} arrays {names}; keep one, or name it 'keypoints'"
                )
            return z[names[0]]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: cannot read ({type(e).__name__}: {e})") from None


class NpyChunks:
    """Rows of a ``.npy`` array read from the file on demand (``chunks[a:b]``): no memory
    map, so reading a long sequence in order holds one chunk at a time."""

    def __init__(self, path: Path, mapped: np.memmap) -> None:
        self.path, self.shape, self.dtype = path, mapped.shape, mapped.dtype
        self.offset = int(mapped.offset)
        self.row = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return int(self.shape[0])

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(len(self))
        with self.path.open("rb") as f:
            f.seek(self.offset + start * self.row)
            flat = np.fromfile(
                f, dtype=self.dtype, count=max(stop - start, 0) * self.row // self.dtype.itemsize
            )
        return flat.reshape(-1, *self.shape[1:])


def fill_missing(points: np.ndarray, confidence: np.ndarray, *, path: Path) -> np.ndarray:
    """Interpolate joints with confidence 0 or non-finite coordinates over time
    (points (T, J, 2), confidence (T, J)) -> (T, J, 2) float32."""
    out = np.array(points, dtype=np.float32)
    seen = (confidence > 0) & np.isfinite(out).all(-1)
    if seen.all():
        return out
    t = np.arange(out.shape[0])
    for j in range(out.shape[1]):
        ok = seen[:, j]
        if not ok.any():
            name = H36M17_JOINTS[j] if out.shape[1] == J else str(j)
            raise DataError(f"{path}: joint {j} ({name}) is missing in every frame")
        if ok.all():
            continue
        for c in range(2):
            out[:, j, c] = np.interp(t, t[ok], out[ok, j, c])
    return out


def read_keypoints(path: str | Path, *, joints: int = J) -> np.ndarray:
    """The keypoints (T, joints, 2) of a ``.npy``, ``.npz``, ``.csv`` or COCO ``.json``
    file (see the module docstring); missing joints interpolated. A ``.npy`` without
    confidences comes back as :class:`NpyChunks` (read from the file as it is used)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext == ".json":
        arr = _read_coco(path)
    elif ext in (".npy", ".npz"):
        arr = _read_array(path)
    elif ext == ".csv":
        flat, _ = load_samples(path)
        if flat.shape[1] not in (2 * joints, 3 * joints):
            raise DataError(
                f"{path}: {flat.shape[1]} numbers per row; expected {2 * joints} (x, y per "
                f"joint) or {3 * joints} (x, y, confidence) for {joints} joints"
            )
        arr = flat.reshape(flat.shape[0], joints, -1)
    else:
        raise DataError(f"{path}: unknown keypoint format {ext!r} (.npy, .npz, .csv or .json)")
    if arr.ndim != 3 or arr.shape[1] != joints or arr.shape[2] not in (2, 3):
        raise DataError(
            f"{path}: keypoints of shape {tuple(arr.shape)}; expected (T, {joints}, 2) or "
            f"(T, {joints}, 3) (x, y[, confidence]) in the library's joint order"
        )
    if arr.shape[0] == 0:
        raise DataError(f"{path}: no frames")
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{path}: keypoints must be numbers, got dtype {arr.dtype}")
    if arr.shape[2] == 3:
        return fill_missing(arr[..., :2], np.asarray(arr[..., 2]), path=path)
    if isinstance(arr, np.memmap) and arr.flags.c_contiguous:
        return NpyChunks(path, arr)  # type: ignore[return-value]
    return fill_missing(arr, np.ones(arr.shape[:2]), path=path)
