"""The models of a run on disk: ``models/<name>.pt``, and loading them back.

With every checkpoint of a fit (and at its end) the engine writes, atomically, one file
per fit whose task exports networks (:meth:`unpaired.engine.Task.exports`)::

    {"format": 1, "library": "0.1.0", "model": name, "step": k, "finished": bool,
     "networks": {key: {"kind": ..., "meta": {...}, "blueprint": {...}, "state_dict": {...}}}}

Plain data only, so it loads with ``torch.load(weights_only=True)``. :func:`load` (also
``unpaired.load``) rebuilds the networks of one model of a run, in eval mode, with the
run's resolved ``config.yaml``. A file of a newer ``format`` is refused with the
version it needs; older formats stay readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from unpaired import __version__
from unpaired.engine.checkpoint import save_atomic
from unpaired.errors import DataError
from unpaired.models.record import Export, RecordError, rebuild, record

__all__ = ["FORMAT", "LoadedModel", "list_models", "load", "model_path", "write_models"]

#: Version of the ``models/<name>.pt`` layout this library writes (and the newest it reads).
FORMAT = 1
MODELS_DIR = "models"


def model_path(run_dir: str | os.PathLike[str], name: str) -> Path:
    """``run_dir/models/<name>.pt`` (a name with ``/`` makes sub-folders, like checkpoints)."""
    return Path(run_dir) / MODELS_DIR / f"{name}.pt"


def _slice(state: Mapping[str, torch.Tensor], task: nn.Module, net: nn.Module) -> dict | None:
    """The entries of the task's full state dict that belong to ``net`` (None: not a
    submodule of the task)."""
    for prefix, module in task.named_modules():
        if module is net:
            if not prefix:
                return dict(state)
            head = prefix + "."
            return {k[len(head) :]: v for k, v in state.items() if k.startswith(head)}
    return None


def write_models(
    out: Path,
    name: str,
    task: nn.Module,
    exports: Mapping[str, Export],
    *,
    step: int,
    finished: bool,
    state: Mapping[str, torch.Tensor] | None = None,
) -> Path | None:
    """Write ``out/models/<name>.pt`` for ``exports`` (nothing when empty); ``state``:
    the task's full state dict (default: ``task.state_dict()``)."""
    if not exports:
        return None
    full = task.state_dict() if state is None else state
    networks = {}
    for key, ex in exports.items():
        if not isinstance(ex, Export):
            raise TypeError(f"{type(task).__name__}.exports()[{key!r}] must be an Export")
        rec = record(ex.network, _slice(full, task, ex.network))
        networks[key] = {"kind": ex.kind, "meta": dict(ex.meta), **rec}
    path = model_path(out, name)
    payload = {
        "format": FORMAT,
        "library": __version__,
        "model": name,
        "step": step,
        "finished": finished,
        "networks": networks,
    }
    save_atomic(payload, path)
    return path


def list_models(run_dir: str | os.PathLike[str]) -> list[str]:
    """The model names of a run (``models/**/*.pt``), sorted."""
    root = Path(run_dir) / MODELS_DIR
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.pt"))


@dataclass
class LoadedModel:
    """One model of a run: its networks (eval mode), their kinds and meta, the run's
    resolved config. Calling it calls the first network."""

    name: str
    networks: dict[str, nn.Module]
    kinds: dict[str, str]
    meta: dict[str, dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    finished: bool = True
    path: Path | None = None

    @property
    def network(self) -> nn.Module:
        """The first (main) network."""
        return next(iter(self.networks.values()))

    @property
    def kind(self) -> str:
        return next(iter(self.kinds.values()))

    def __getitem__(self, key: str) -> nn.Module:
        return self.networks[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.networks)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.network(*args, **kwargs)

    def select(self, key: str | None) -> str:
        """The key of network ``key`` (None: the first), with an error listing them."""
        if key is None:
            return next(iter(self.networks))
        if key not in self.networks:
            raise DataError(
                f"model '{self.name}' has no network '{key}'; it has: {', '.join(self.networks)}"
            )
        return key


def _read(path: Path) -> dict[str, Any]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise DataError(f"cannot read model file {path}: {type(e).__name__}: {e}") from None
    if not isinstance(payload, dict) or "networks" not in payload:
        raise DataError(f"{path} is not a model record of unpaired (no 'networks')")
    fmt = payload.get("format")
    if not isinstance(fmt, int) or fmt > FORMAT:
        raise DataError(
            f"{path} has record format {fmt!r} (written by unpaired "
            f"{payload.get('library', '?')}); this version ({__version__}) reads formats up "
            f"to {FORMAT}: upgrade unpaired"
        )
    return payload


def _resolve_file(path: Path, model: str | None) -> tuple[Path, Path | None]:
    """(model file, run directory or None) for a run directory or a ``.pt`` file."""
    if path.is_file():
        run = path.parent.parent if path.parent.name == MODELS_DIR else None
        return path, run
    if not path.is_dir():
        raise DataError(f"{path}: no such run directory or model file")
    names = list_models(path)
    if model is None:
        if len(names) == 1:
            model = names[0]
        elif not names:
            raise DataError(
                f"{path} holds no models (no {MODELS_DIR}/*.pt: not a run directory, or its "
                "tasks export nothing; runs made before model records existed can be "
                "resumed with --resume to write them)"
            )
        else:
            raise DataError(
                f"{path} has several models; choose one (--model, or model= in Python): {', '.join(names)}"
            )
    if model not in names:
        listed = ", ".join(names) if names else "none"
        raise DataError(f"{path} has no model '{model}'; its models: {listed}")
    return model_path(path, model), path


def load(
    run_dir: str | os.PathLike[str],
    model: str | None = None,
    *,
    device: str | torch.device = "cpu",
) -> LoadedModel:
    """The trained networks of ``model`` in a run directory (or a ``models/*.pt`` file).

    Networks are rebuilt from their records, in eval mode, on ``device``; ``config`` is
    the run's resolved ``config.yaml`` (empty when the file stands alone). ``model`` may
    be omitted when the run has one model. A clear error lists the run's models.
    """
    file, run = _resolve_file(Path(run_dir), model)
    payload = _read(file)
    networks, kinds, meta = {}, {}, {}
    for key, rec in payload["networks"].items():
        try:
            networks[key] = rebuild(rec).to(device)
        except RecordError as e:
            raise DataError(f"{file}: network '{key}': {e}") from None
        kinds[key], meta[key] = rec["kind"], dict(rec.get("meta", {}))
    config: dict[str, Any] = {}
    if run is not None and (run / "config.yaml").is_file():
        config = yaml.safe_load((run / "config.yaml").read_text()) or {}
    return LoadedModel(
        name=payload["model"],
        networks=networks,
        kinds=kinds,
        meta=meta,
        config=config,
        step=int(payload.get("step", 0)),
        finished=bool(payload.get("finished", True)),
        path=file,
    )
