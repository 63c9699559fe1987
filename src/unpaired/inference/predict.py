"""``unpaired predict``: one code path per kind of network, files in, files out.

Every predictor reads its input in chunks of ``batch_size`` (keypoints: blocks of
about :data:`POSE_BLOCK` frames, split into batches; fewer reads and writes), writes into a temporary
folder that becomes ``out`` only when everything succeeded (:func:`atomic_dir`), and
turns bad input into one :class:`~unpaired.errors.DataError` line naming the file.

=============  =====================================  ======================================
kind           input                                  output (in ``out``)
=============  =====================================  ======================================
``pose``       keypoints (T, 17, 2): .npy/.npz/.csv/  ``poses.npy`` (T, 17, 3) metres,
               COCO .json (:mod:`.keypoints`)         root-relative, camera orientation
                                                      (x right, y down, z forward);
                                                      ``skeletons/frame_*.png``
``image``      an image folder or one PNG/JPEG        PNGs of the same names (folders kept)
``classifier`` an image folder or one image           ``predictions.csv`` (file, class)
``transform``  samples (N, D): .npy/.npz/.csv         ``aligned.npy``
``sfm``        frames (folder, TUM or KITTI           ``depth/*.npy``, ``depth/*.png``,
               sequence; :mod:`.sfm`)                 ``trajectory.txt`` (TUM format)
``guided``     an image folder or one image, and      PNGs of the same names
               ``guide``: one image or a folder
               (paired by name or sorted order;
               :mod:`.guided`)
``multiview``  keypoints (T, C, 17, 2) of C views:    ``poses.npy`` (T, 17, 3) metres,
               .npy/.npz (+ confidences;              root-relative, view 0's camera
               :mod:`.multiview`)                     orientation
=============  =====================================  ======================================
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from unpaired.data.arrays import load_samples
from unpaired.data.images import IMAGE_EXTENSIONS, list_images
from unpaired.engine.records import LoadedModel
from unpaired.errors import DataError
from unpaired.inference._imagefiles import (
    PngWriter,
    item_size,
    out_paths,
    read_unit,
    stack_unit,
)
from unpaired.inference._output import Bar, atomic_dir
from unpaired.inference.keypoints import read_keypoints

__all__ = ["PREDICTORS", "predict_files", "predict_poses", "read_images"]

Predictor = Callable[..., dict[str, Any]]
POSE_BLOCK = 4096  # keypoint frames read, checked and written at once (17 joints: 0.6 MB)


def _tensor_output(out: Any, key: str) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict) and key in out:
        return out[key]
    raise DataError(f"the network returned {type(out).__name__}, not a tensor or '{key}'")


# ---------------------------------------------------------------------------- pose


def _pose_figures(poses: dict[int, np.ndarray], folder: Path) -> list[Path]:
    """Skeleton PNGs of the frames ``{t: (J, 3)}`` (camera frame -> y up for the plot)."""
    if not poses:
        return []
    from unpaired.viz.skeleton import plot_pose_3d

    flip = torch.tensor([1.0, -1.0, -1.0])  # x right, y down, z forward -> y up, facing +z
    return [
        plot_pose_3d(folder / f"frame_{t:06d}.png", torch.from_numpy(p) * flip, title=f"frame {t}")
        for t, p in sorted(poses.items())
    ]


class _NpyWriter:
    """A ``.npy`` file written chunk by chunk (nothing held, nothing mapped)."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: type = np.float32) -> None:
        self.dtype = np.dtype(dtype)
        self.file = path.open("wb")
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": shape,
        }
        np.lib.format.write_array_header_1_0(self.file, header)

    def write(self, chunk: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(chunk, dtype=self.dtype).data)

    def close(self) -> None:
        self.file.close()


def predict_poses(
    net: nn.Module,
    keypoints: np.ndarray,
    out: Path,
    *,
    batch_size: int,
    device: torch.device,
    progress: bool = False,
    figures: int = 4,
) -> dict[str, Any]:
    """Lift keypoints (T, J, 2) in chunks into ``out/poses.npy`` (T, J, 3), written as
    it goes, plus skeleton PNGs of ``figures`` evenly spaced frames."""
    t, j = keypoints.shape[:2]
    shown = {round(i) for i in np.linspace(0, t - 1, min(figures, t))} if figures > 0 else set()
    kept: dict[int, np.ndarray] = {}
    block = batch_size * max(1, POSE_BLOCK // batch_size)
    writer = _NpyWriter(out / "poses.npy", (t, j, 3))
    try:
        with Bar("poses", t, enabled=progress) as bar, torch.inference_mode():
            for start in range(0, t, block):  # read, check and write a block of batches
                chunk = np.array(keypoints[start : start + block], dtype=np.float32)
                if not np.isfinite(chunk).all():
                    bad = start + int(np.argwhere(~np.isfinite(chunk))[0][0])
                    raise DataError(f"keypoints of frame {bad} are not finite (NaN or inf)")
                x = torch.from_numpy(chunk).to(device)
                pose = np.concatenate(
                    [
                        _tensor_output(net(b), "pose_rel").float().cpu().numpy()
                        for b in x.split(batch_size)
                    ]
                )
                writer.write(pose)
                kept |= {f: pose[f - start] for f in shown if start <= f < start + len(chunk)}
                bar.advance(len(chunk))
    finally:
        writer.close()
    pngs = _pose_figures(kept, out / "skeletons")
    return {"frames": t, "outputs": ["poses.npy"], "figures": len(pngs)}


def _predict_pose(model: LoadedModel, key: str, source: Path, out: Path, **kw: Any) -> dict:
    joints = model.meta[key].get("joints")
    count = len(joints) if isinstance(joints, list) else int(joints or 17)
    keypoints = read_keypoints(source, joints=count)
    return predict_poses(model.networks[key], keypoints, out, **kw)


# ---------------------------------------------------------------------------- images


def _image_files(source: Path) -> tuple[Path, list[Path]]:
    """(root, files): a folder's images (recursively, sorted) or one image file."""
    if source.is_file():
        if source.suffix.lower() not in IMAGE_EXTENSIONS:
            raise DataError(
                f"{source}: not an image ({', '.join(IMAGE_EXTENSIONS)}) or a folder of images"
            )
        return source.parent, [source]
    return source, list(list_images(source))


def read_images(
    files: list[Path], *, channels: int, batch_size: int, size: tuple[int, int] | None = None
) -> Iterator[tuple[list[Path], torch.Tensor]]:
    """Batches of (paths, images (B, C, H, W) in [0, 1]); consecutive images of one size
    are batched together. ``size``: the (H, W) every image must have."""
    batch: list[Any] = []
    names: list[Path] = []
    for path in files:
        image = read_unit(path, channels)
        hw = item_size(image)
        if size is not None and hw != tuple(size):
            raise DataError(
                f"{path}: image of {hw[1]}x{hw[0]} pixels; this model needs "
                f"{size[1]}x{size[0]} (width x height)"
            )
        if batch and (hw != item_size(batch[0]) or len(batch) == batch_size):
            yield names, stack_unit(batch)
            batch, names = [], []
        batch.append(image)
        names.append(path)
    if batch:
        yield names, stack_unit(batch)


def _image_setup(model: LoadedModel, key: str) -> tuple[int, tuple[int, int] | None, tuple]:
    meta = model.meta[key]
    channels = int(meta.get("channels") or meta.get("input_shape", (1,))[0])
    size = meta.get("size")
    if size is None and "input_shape" in meta:
        size = tuple(meta["input_shape"][1:])
    lo, hi = meta.get("range", (0.0, 1.0))
    return channels, (tuple(size) if size is not None else None), (float(lo), float(hi))


def _predict_images(
    model: LoadedModel, key: str, source: Path, out: Path, *, batch_size: int,
    device: torch.device, progress: bool = False, **_: Any,
) -> dict[str, Any]:  # fmt: skip
    net = model.networks[key]
    channels, size, (lo, hi) = _image_setup(model, key)
    root, files = _image_files(source)
    writer = PngWriter()
    with Bar("images", len(files), enabled=progress) as bar, torch.inference_mode():
        for paths, x in read_images(files, channels=channels, batch_size=batch_size, size=size):
            if (lo, hi) != (0.0, 1.0):
                x = x.mul_(hi - lo).add_(lo)
            y = _tensor_output(net(x.to(device)), "output").float().cpu()
            if (lo, hi) != (0.0, 1.0):
                y = y.sub_(lo).div_(hi - lo)
            writer.write(y, out_paths(paths, root, out))
            bar.advance(len(paths))
    return {
        "images": len(files),
        "outputs": [p.relative_to(root).with_suffix(".png").as_posix() for p in files[:3]],
    }


def _predict_classes(
    model: LoadedModel, key: str, source: Path, out: Path, *, batch_size: int,
    device: torch.device, progress: bool = False, **_: Any,
) -> dict[str, Any]:  # fmt: skip
    net = model.networks[key]
    channels, size, (lo, hi) = _image_setup(model, key)
    root, files = _image_files(source)
    with (out / "predictions.csv").open("w", newline="") as f, torch.inference_mode():
        writer = csv.writer(f)
        writer.writerow(["file", "class", "probability"])
        with Bar("images", len(files), enabled=progress) as bar:
            for paths, x in read_images(files, channels=channels, batch_size=batch_size, size=size):
                probs = net((x * (hi - lo) + lo).to(device)).float().softmax(-1).cpu()
                p, c = probs.max(-1)
                for path, ci, pi in zip(paths, c.tolist(), p.tolist(), strict=True):
                    writer.writerow([path.relative_to(root).as_posix(), ci, f"{pi:.6f}"])
                bar.advance(len(paths))
    return {"images": len(files), "outputs": ["predictions.csv"]}


# ---------------------------------------------------------------------------- transform


def _predict_transform(
    model: LoadedModel, key: str, source: Path, out: Path, *, batch_size: int,
    device: torch.device, progress: bool = False, **_: Any,
) -> dict[str, Any]:  # fmt: skip
    net, meta = model.networks[key], model.meta[key]
    samples, shape = load_samples(source)
    x = torch.from_numpy(samples).float()
    dim = x.shape[1]
    center = meta.get("center", torch.zeros(dim))
    scale = float(meta.get("scale", 1.0))
    if center.shape != (dim,):
        raise DataError(
            f"{source}: {dim} features per sample; this transform was learned on {center.shape[0]}"
        )
    parts = []
    with Bar("samples", len(x), enabled=progress) as bar, torch.inference_mode():
        for chunk in x.split(batch_size):
            z = (chunk - center) / scale
            parts.append(net(z.to(device)).float().cpu() * scale + center)
            bar.advance(len(chunk))
    np.save(out / "aligned.npy", torch.cat(parts).numpy().reshape(shape))
    return {"samples": len(x), "outputs": ["aligned.npy"]}


def _predict_sfm(model: LoadedModel, key: str, source: Path, out: Path, **kw: Any) -> dict:
    from unpaired.inference.sfm import predict_sequence

    return predict_sequence(model, key, source, out, **kw)


def _predict_guided(model: LoadedModel, key: str, source: Path, out: Path, **kw: Any) -> dict:
    from unpaired.inference.guided import predict_guided

    return predict_guided(model, key, source, out, **kw)


def _predict_multiview(model: LoadedModel, key: str, source: Path, out: Path, **kw: Any) -> dict:
    from unpaired.inference.multiview import predict_multiview

    return predict_multiview(model, key, source, out, **kw)


#: kind -> predictor ``(model, network key, input, out, **options) -> summary``.
PREDICTORS: dict[str, Predictor] = {
    "pose": _predict_pose,
    "image": _predict_images,
    "classifier": _predict_classes,
    "transform": _predict_transform,
    "sfm": _predict_sfm,
    "guided": _predict_guided,
    "multiview": _predict_multiview,
}


def predict_files(
    model: LoadedModel,
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    network: str | None = None,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    progress: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Apply network ``network`` (default: the first) of ``model`` to the file or folder
    ``source``, writing ``out`` whole or not at all; returns a summary (counts, files).
    ``options`` go to the kind's predictor (``figures`` for poses; ``sequence_format``,
    ``intrinsics`` for SfM; ``guide``, an image or folder, for guided translators)."""
    key = model.select(network)
    kind = model.kinds[key]
    if kind not in PREDICTORS:
        raise DataError(
            f"model '{model.name}' network '{key}' is of kind '{kind}', which predict does "
            f"not apply yet (kinds: {', '.join(PREDICTORS)})"
        )
    if batch_size < 1:
        raise DataError(f"--batch-size must be >= 1, got {batch_size}")
    source_path = Path(source)
    if not source_path.exists():
        raise DataError(f"{source_path}: no such file or folder")
    dev = torch.device(device)
    model.networks[key].to(dev)
    with atomic_dir(out) as tmp:
        summary = PREDICTORS[kind](
            model, key, source_path, tmp, batch_size=batch_size, device=dev, progress=progress,
            **options,
        )  # fmt: skip
    return {"model": model.name, "network": key, "kind": kind, "out": str(out), **summary}
