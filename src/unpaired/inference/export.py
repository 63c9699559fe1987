"""``unpaired export``: one network of a run as a self-contained TorchScript or ONNX file.

The exported module is tensor in, tensor(s) out, with the units of ``unpaired
predict`` baked in (what the file takes and returns is also written into it,
``meta.json`` in TorchScript's extra files, ``metadata_props`` in ONNX):

=============  ===================================  ========================================
kind           input                                output
=============  ===================================  ========================================
``pose``       keypoints (B, J, 2), pixels          root-relative 3D pose (B, J, 3), metres
``image``      images (B, C, H, W) in [0, 1]        images in [0, 1]
``classifier`` images (B, C, H, W) in [0, 1]        logits (B, classes)
``transform``  samples (B, D), original units       T(samples) (B, D), original units
``sfm``        egomotion input (B, 10, H, W)        log depth (B, 1, H, W), motion (B, 6)
               (:func:`~unpaired.data.flow.egomotion_inputs`: needs the flow, so OpenCV)
``guided``     two inputs: images (B, C, H, W) and  images in [0, 1]
               guides (B, C', H', W'), in [0, 1]
``multiview``  keypoints (B, C, J, 2) of C views,   3D pose (B, J, 3), metres, view 0's
               pixels                               orientation (TorchScript; ONNX has no
                                                    SVD, which S1's Procrustes needs)
=============  ===================================  ========================================

A TorchScript file loads with ``torch.jit.load`` alone (no ``unpaired`` import); an ONNX
file with ``onnxruntime``. ONNX needs the ``onnx`` and ``onnxscript`` packages
(``pip install 'unpaired[onnx]'``).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from unpaired.engine.records import LoadedModel
from unpaired.errors import ConfigError, DataError

__all__ = ["ExportFormat", "example_input", "export_model", "exportable"]

ExportFormat = Literal["torchscript", "onnx"]


class _Pose(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, keypoints: torch.Tensor) -> torch.Tensor:
        out = self.net(keypoints)
        return out["pose_rel"] if isinstance(out, dict) else out


class _Image(nn.Module):
    def __init__(self, net: nn.Module, lo: float, hi: float) -> None:
        super().__init__()
        self.net, self.lo, self.hi = net, lo, hi

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.net(images * (self.hi - self.lo) + self.lo)
        return ((out - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)


class _Classifier(_Image):
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images * (self.hi - self.lo) + self.lo)


class _Transform(nn.Module):
    def __init__(self, net: nn.Module, center: torch.Tensor, scale: float) -> None:
        super().__init__()
        self.net, self.scale = net, scale
        self.register_buffer("center", center.float().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.center) / self.scale) * self.scale + self.center


class _Guided(_Image):
    def forward(self, images: torch.Tensor, guides: torch.Tensor) -> torch.Tensor:
        span = self.hi - self.lo
        out = self.net(images * span + self.lo, guides * span + self.lo)
        return ((out - self.lo) / span).clamp(0.0, 1.0)


class _SfM(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(x)
        return out["log_depth"], out["motion"]


def exportable(model: LoadedModel, key: str) -> nn.Module:
    """The network ``key`` of ``model`` wrapped to take and return plain tensors in the
    units of the table above (eval mode)."""
    kind, meta, net = model.kinds[key], model.meta[key], model.networks[key]
    lo, hi = (float(v) for v in meta.get("range", (0.0, 1.0)))
    if kind == "pose":
        wrapped: nn.Module = _Pose(net)
    elif kind == "image":
        wrapped = _Image(net, lo, hi)
    elif kind == "classifier":
        wrapped = _Classifier(net, lo, hi)
    elif kind == "transform":
        dim = _transform_dim(net, meta)
        center = meta.get("center", torch.zeros(dim))
        wrapped = _Transform(net, center, float(meta.get("scale", 1.0)))
    elif kind == "sfm":
        wrapped = _SfM(net)
    elif kind == "guided":
        wrapped = _Guided(net, lo, hi)
    elif kind == "multiview":
        wrapped = _Pose(net)
    else:
        raise DataError(
            f"network '{key}' of model '{model.name}' has kind '{kind}', not exportable"
        )
    return wrapped.eval()


def _transform_dim(net: nn.Module, meta: dict[str, Any]) -> int:
    if "center" in meta:
        return int(meta["center"].shape[0])
    dim = getattr(net, "dim", None)
    if isinstance(dim, int):
        return dim
    first = next((p for p in net.parameters() if p.dim() >= 1), None)
    if first is None:
        raise DataError("cannot tell the transform's number of features")
    return int(first.shape[-1])


def example_input(
    model: LoadedModel, key: str, batch: int = 2
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """A batch the exported network accepts (the shape is what the export records); a
    guided translator takes a pair (images, guides)."""
    kind, meta, net = model.kinds[key], model.meta[key], model.networks[key]
    g = torch.Generator().manual_seed(0)
    if kind == "pose":
        joints = meta.get("joints", 17)
        j = len(joints) if isinstance(joints, list) else int(joints)
        return 500.0 + 80.0 * torch.randn(batch, j, 2, generator=g)
    if kind in ("image", "classifier"):
        shape = meta.get("input_shape")
        if shape is None:
            size = meta.get("size") or (16, 16)
            shape = (int(meta.get("channels") or 1), *size)
        return torch.rand(batch, *shape, generator=g)
    if kind == "transform":
        return torch.randn(batch, _transform_dim(net, meta), generator=g)
    if kind == "sfm":
        return torch.rand(batch, 10, int(meta["height"]), int(meta["width"]), generator=g)
    if kind == "multiview":
        j, c = int(meta.get("joints") or 17), int(meta.get("views") or 2)
        return 500.0 + 80.0 * torch.randn(batch, c, j, 2, generator=g)
    if kind == "guided":
        h, w = (int(v) for v in meta.get("size") or (16, 16))
        c, cg = int(meta.get("channels") or 3), int(meta.get("guide_channels") or 3)
        return torch.rand(batch, c, h, w, generator=g), torch.rand(batch, cg, h, w, generator=g)
    raise DataError(f"network '{key}' has kind '{kind}', not exportable")


def _shapes(example: torch.Tensor | tuple[torch.Tensor, ...]) -> list:
    if isinstance(example, tuple):
        return [list(x.shape) for x in example]
    return list(example.shape)


def _describe(model: LoadedModel, key: str, example: Any) -> dict[str, Any]:
    meta = {
        k: (v.tolist() if isinstance(v, torch.Tensor) else v) for k, v in model.meta[key].items()
    }
    return {
        "model": model.name,
        "network": key,
        "kind": model.kinds[key],
        "example_input_shape": _shapes(example),
        "meta": meta,
    }


def export_model(
    model: LoadedModel,
    out: str | os.PathLike[str],
    *,
    format: ExportFormat = "torchscript",
    network: str | None = None,
) -> Path:
    """Write network ``network`` (default: the first) of ``model`` to ``out`` as
    TorchScript (traced) or ONNX (dynamic batch size); returns the path. The file is
    written atomically (temporary name, then rename)."""
    if format not in ("torchscript", "onnx"):
        raise ConfigError(f"--format must be torchscript or onnx, got {format!r}")
    key = model.select(network)
    module = exportable(model, key)
    example = example_input(model, key)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    description = json.dumps(_describe(model, key, example))
    try:
        if format == "torchscript":
            traced = _trace(module, example, model, key)
            torch.jit.save(traced, str(tmp), _extra_files={"meta.json": description})
        else:
            _onnx(module, example, tmp, description, model, key)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _trace(module: nn.Module, example: Any, model: LoadedModel, key: str) -> Any:
    """``torch.jit.trace`` of ``module``, or one error saying why the network cannot be."""
    inputs = "two inputs (images, guides)" if isinstance(example, tuple) else "its input"
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and jit deprecation warnings
            return torch.jit.trace(module, example, check_trace=False)
    except Exception as e:  # the tracer raises many types
        first = (str(e).strip().splitlines() or [""])[0]
        raise DataError(
            f"network '{key}' of model '{model.name}' ({type(model.networks[key]).__name__}) "
            f"cannot be traced with {inputs}: {type(e).__name__}: {first}"
        ) from None


def _onnx(
    module: nn.Module, example: Any, path: Path, description: str, model: LoadedModel, key: str
) -> None:
    if model.kinds[key] == "multiview":
        raise DataError(
            f"network '{key}' of model '{model.name}' (multiview) cannot be exported to ONNX: "
            "MetaPose's S1 aligns the views by Procrustes, an SVD (aten::linalg_svd), which "
            "ONNX has no operator for; use --format torchscript"
        )
    try:
        import onnx
    except ImportError:
        raise ConfigError(
            "--format onnx needs the onnx and onnxscript packages: pip install 'unpaired[onnx]'"
        ) from None
    outputs = ["log_depth", "motion"] if isinstance(module, _SfM) else ["output"]
    args = example if isinstance(example, tuple) else (example,)
    inputs = ["input", "guide"] if isinstance(example, tuple) else ["input"]
    traced = _trace(module, example, model, key)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                traced,
                args,
                str(path),
                input_names=inputs,
                output_names=outputs,
                dynamic_axes={name: {0: "batch"} for name in [*inputs, *outputs]},
                dynamo=False,
            )
    except Exception as e:  # unsupported operators raise several types
        first = (str(e).strip().splitlines() or [""])[0]
        raise DataError(
            f"network '{key}' of model '{model.name}' ({model.kinds[key]}) cannot be "
            f"exported to ONNX: {type(e).__name__}: {first} (--format torchscript can)"
        ) from None
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "unpaired", description
    onnx.save(proto, str(path))
