"""``unpaired predict`` for multi-view lifters (kind ``"multiview"``, MetaPose).

Input: a ``.npy`` of keypoints (T, C, 17, 2) in pixels of each view's image (C >= 2
views of the same person per frame, our joint order), or (T, C, 17, 3) with a confidence
last, or a ``.npz`` holding ``keypoints`` (T, C, 17, 2 or 3) and optionally
``confidences`` (T, C, 17) (or one array). Joints with confidence 0 or non-finite
coordinates are interpolated over time in their view
(:func:`~unpaired.inference.keypoints.fill_missing`); a joint never seen in a view is an
error. The S2 stages are camera-equivariant and take any number of views; the model
records how many it was trained with (``meta["views"]``).

Output: ``poses.npy`` (T, 17, 3), written chunk by chunk: the pose in view 0's camera
orientation (x right, y down, z forward), root-relative (pelvis at 0), in metres at the
monocular lifter's scale (:class:`~unpaired.multiview.metapose.MultiViewLifter`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from unpaired.engine.records import LoadedModel
from unpaired.errors import DataError
from unpaired.inference._output import Bar
from unpaired.inference.keypoints import fill_missing

__all__ = ["predict_multiview", "read_views"]


def _arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False), None
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if "keypoints" in names:
                conf = z["confidences"] if "confidences" in names else None
                return z["keypoints"], conf
            if len(names) != 1:
                raise DataError(
                    f"{path}: holds arrays {names}; name them 'keypoints' (T, C, J, 2) "
                    "and optionally 'confidences' (T, C, J)"
                )
            return z[names[0]], None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: cannot read ({type(e).__name__}: {e})") from None


def read_views(path: str | Path, *, joints: int = 17) -> np.ndarray:
    """Multi-view keypoints (T, C, joints, 2) float32 of a ``.npy`` / ``.npz`` file, missing
    joints interpolated (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() not in (".npy", ".npz"):
        raise DataError(f"{path}: multi-view keypoints are a .npy or .npz file (T, C, J, 2)")
    arr, conf = _arrays(path)
    if arr.ndim != 4 or arr.shape[2] != joints or arr.shape[3] not in (2, 3):
        raise DataError(
            f"{path}: keypoints of shape {tuple(arr.shape)}; expected (T, C, {joints}, 2) or "
            f"(T, C, {joints}, 3) (x, y[, confidence]) with C views, our joint order"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{path}: keypoints must be numbers, got dtype {arr.dtype}")
    t, c = arr.shape[:2]
    if t == 0 or c < 2:
        raise DataError(f"{path}: {t} frames of {c} views; need at least 1 frame of 2 views")
    if arr.shape[3] == 3:
        arr, conf = arr[..., :2], arr[..., 2] if conf is None else conf
    if conf is None:
        conf = np.ones(arr.shape[:3], np.float32)
    if tuple(conf.shape) != tuple(arr.shape[:3]):
        raise DataError(
            f"{path}: confidences of shape {tuple(conf.shape)}; expected {tuple(arr.shape[:3])}"
        )
    views = [fill_missing(arr[:, v], np.asarray(conf[:, v]), path=path) for v in range(c)]
    return np.stack(views, axis=1)


def predict_multiview(
    model: LoadedModel, key: str, source: Path, out: Path, *, batch_size: int,
    device: torch.device, progress: bool = False, **_: Any,
) -> dict[str, Any]:  # fmt: skip
    """Lift multi-view keypoints into ``out/poses.npy`` (T, J, 3) in chunks."""
    from unpaired.inference.predict import _NpyWriter, _tensor_output

    net = model.networks[key]
    joints = int(model.meta[key].get("joints") or 17)
    views = read_views(source, joints=joints)
    t, c = views.shape[:2]
    writer = _NpyWriter(out / "poses.npy", (t, joints, 3))
    try:
        with Bar("frames", t, enabled=progress) as bar, torch.inference_mode():
            for start in range(0, t, batch_size):
                x = torch.from_numpy(views[start : start + batch_size]).to(device)
                writer.write(_tensor_output(net(x), "pose").float().cpu().numpy())
                bar.advance(len(x))
    finally:
        writer.close()
    return {"frames": t, "views": c, "outputs": ["poses.npy"]}
