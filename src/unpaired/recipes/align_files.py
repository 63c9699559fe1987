"""The body of ``unpaired align``: files in, ``aligned.npy`` + curve + ``metrics.json`` out.

The command's logic, at the edge: it reads the files (:mod:`unpaired.data.arrays`),
turns ``--distance`` / ``--transform`` into objects (:mod:`unpaired.recipes._names`),
trains them with :func:`unpaired.alignment.align` in a session on the output folder and
writes the outputs. ``cli.py`` parses the options and prints the outcome.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from unpaired.alignment import align
from unpaired.data.arrays import load_samples
from unpaired.engine.rng import seed_everything
from unpaired.engine.session import Session
from unpaired.errors import ConfigError, DataError
from unpaired.recipes._names import (
    LRMF_DISTANCES,
    alignment_distance,
    check_pairing,
    make_transform,
)
from unpaired.report import write_json
from unpaired.viz.alignment import plot_distance_curve

__all__ = ["AlignFilesOutcome", "align_files"]


def _fingerprint(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()[:16]


def _read_pair(
    source_path: str | Path, target_path: str | Path
) -> tuple[tuple[np.ndarray, tuple[int, ...]], np.ndarray]:
    """SOURCE (N, D) with its file shape, and TARGET (M, D): the same D, two samples each."""
    (src_np, src_shape), (tgt_np, _) = load_samples(source_path), load_samples(target_path)
    if src_np.shape[1] != tgt_np.shape[1]:
        raise DataError(
            f"SOURCE {source_path} has {src_np.shape[1]} features per sample but TARGET "
            f"{target_path} has {tgt_np.shape[1]}; both must be (N, D) with the same D"
        )
    for name, arr, p in (("SOURCE", src_np, source_path), ("TARGET", tgt_np, target_path)):
        if arr.shape[0] < 2:
            raise DataError(f"{name} {p}: needs at least 2 samples, got {arr.shape[0]}")
    return (src_np, src_shape), tgt_np


def _write_config(out_path: Path, config: dict[str, Any], *, resume: bool) -> None:
    """Write ``config.yaml``; a folder that holds a run needs ``resume`` and the same
    options and inputs (paths aside)."""
    config_path = out_path / "config.yaml"
    if config_path.exists():
        if not resume:
            raise ConfigError(
                f"{out_path} already holds an alignment; pass --resume to continue it or choose another --out"
            )
        old = yaml.safe_load(config_path.read_text()) or {}
        changed = [
            f"{k}: {old.get(k)!r} -> {v!r}"
            for k, v in config.items()
            if k not in ("source", "target") and old.get(k) != v
        ]
        if changed:
            raise ConfigError(
                f"cannot resume {out_path} with different options or inputs ({'; '.join(changed[:3])})"
            )
    out_path.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def _lrmf_warning(value: float, warn_above: float) -> str | None:
    """The thesis' explicit failure signal: a final LRMF value (nats) far from 0."""
    if value <= warn_above:
        return None
    return (
        f"final LRMF value {value:.3g} nats is far from 0 (> {warn_above:g}): the "
        "density family can still tell T(SOURCE) from TARGET, so the alignment "
        "likely failed (try more --steps, another --transform, or check the data)"
    )


@dataclass
class AlignFilesOutcome:
    """What :func:`align_files` wrote: the output folder, the metrics, an optional warning."""

    out: Path
    metrics: dict[str, Any]
    warning: str | None


def align_files(
    source_path: str | Path,
    target_path: str | Path,
    *,
    out: str | Path = "runs/align",
    distance: str = "mmd",
    transform: str = "affine",
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 2e-3,
    identity_weight: float = 0.0,
    seed: int = 0,
    warn_above: float = 0.1,
    resume: bool = False,
    progress: bool | None = None,
) -> AlignFilesOutcome:
    """``unpaired align``: read SOURCE and TARGET, run :func:`align`, write ``out``.

    Writes ``config.yaml`` (the options and the inputs' fingerprints), ``log.jsonl``,
    ``checkpoints/``, ``aligned.npy`` (T(SOURCE), in SOURCE's shape and units),
    ``distance.png`` (``d(T(A), B)`` over the steps) and ``metrics.json``. For the LRMF
    distances the final value is a log-likelihood ratio (nats, ~0 when aligned); above
    ``warn_above`` the outcome carries a warning (the thesis' explicit failure signal).
    A folder that already holds a run needs ``resume`` (same options and inputs).
    """
    check_pairing(distance, transform)
    if not warn_above >= 0:
        raise ConfigError(f"--warn-above must be >= 0, got {warn_above}")
    if not identity_weight >= 0:
        raise ConfigError(f"--identity-weight must be >= 0, got {identity_weight}")
    (src_np, src_shape), tgt_np = _read_pair(source_path, target_path)
    out_path = Path(out)
    config = {
        "source": str(source_path),
        "target": str(target_path),
        "source_sha256": _fingerprint(src_np),
        "target_sha256": _fingerprint(tgt_np),
        "distance": distance,
        "transform": transform,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "identity_weight": identity_weight,
        "seed": seed,
    }
    _write_config(out_path, config, resume=resume)

    t0 = time.perf_counter()
    dim = src_np.shape[1]
    with Session.open(out_path, seed=seed, resume=resume, progress=progress) as session:
        seed_everything(seed)  # T, then d, then flow LRMF's private densities draw from it
        t = make_transform(transform, dim)
        d = alignment_distance(distance, dim)
        result = align(
            torch.from_numpy(src_np),
            torch.from_numpy(tgt_np),
            distance=d,
            transform=t,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            identity_weight=identity_weight,
            seed=seed,
            session=session,
        )
    aligned = result.aligned.numpy().astype(np.float32)
    np.save(out_path / "aligned.npy", aligned.reshape(src_shape))
    plot_distance_curve(result.history, out_path / "distance.png", f"{distance} ({transform} T)")
    warning = None
    metrics: dict[str, Any] = {
        "status": "completed",
        "distance": distance,
        "transform": transform,
        "n_source": int(src_np.shape[0]),
        "n_target": int(tgt_np.shape[0]),
        "features": int(src_np.shape[1]),
        "steps": result.steps,
        "initial_distance": result.initial_distance,
        "final_distance": result.final_distance,
        "seconds": time.perf_counter() - t0,
        "distance_curve": [
            [r["step"], r["eval/distance"]] for r in result.history if "eval/distance" in r
        ],
    }
    if distance in LRMF_DISTANCES:
        metrics["final_lrmf_nats"] = result.final_distance
        warning = _lrmf_warning(result.final_distance, warn_above)
    metrics["warning"] = warning
    write_json(out_path / "metrics.json", metrics)
    return AlignFilesOutcome(out_path, metrics, warning)
