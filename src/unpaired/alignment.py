"""Distribution alignment: learn ``T`` so that ``T(A)`` and ``B`` are indistinguishable.

Thesis talk, slide "How to find a good F?": given unpaired sample sets ``A = {a_i}``
(source) and ``B = {b_j}`` (target), find

    min_{T in F}  d(T(A), B) + R(T)

for a statistical distance ``d`` (any :class:`~unpaired.distances.Distance`) and a
family ``F`` of transformations (:data:`TRANSFORMS`, all initialised to the identity;
the family itself is the regularizer ``R``). This is AIGN's prior term without a
renderer, so alignment is trained by the same engine (:class:`AlignTask`).

* Closed-form distances (mean, CORAL, MMD, energy, Sinkhorn, EMD, sliced, the dual
  adversarial distance, Gaussian LRMF) make it a plain minimization.
* Adversarial distances add a critic trained by ``critic_losses`` (min-max).
* Flow LRMF (Theorem 2.3 of the LRMF slides) needs ``T``'s log-determinant: an
  invertible transform (``flow``, ``affine`` or ``shift``), two "private" densities
  fit once to A and B (:class:`DensityTask`) for the constant ``c(A, B)``, and a
  "shared" density trained as the critic. Its final value is the thesis' explicit
  failure signal: about 0 when the alignment succeeded, clearly positive otherwise.

:func:`align` runs the whole thing on two arrays; :func:`align_files` is the
``unpaired align`` command (files in, ``aligned.npy`` + curve + ``metrics.json`` out).
"""

from __future__ import annotations

import csv
import hashlib
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
import zuko
from torch import nn

from unpaired.distances import (
    AdversarialDistance,
    Distance,
    DualAdversarialDistance,
    FlowLRMF,
    GaussianLRMF,
    SlicedWasserstein,
    density_flow,
    sliced_wasserstein,
)
from unpaired.engine.data import TensorSampler, Unpaired
from unpaired.engine.logging import RunLogger
from unpaired.engine.loop import FitResult, TrainConfig, fit, make_fabric
from unpaired.engine.rng import seed_everything
from unpaired.engine.task import Task
from unpaired.errors import ConfigError, DataError
from unpaired.models.transforms import Affine, FlowTransform, MLPTransform, Shift, Transform
from unpaired.recipes._names import ALIGNMENT_DISTANCES as DISTANCES
from unpaired.recipes._names import (
    LRMF_DISTANCES,
    TRANSFORMS,
    TransformName,
    check_pairing,
    make_transform,
)
from unpaired.recipes._names import AlignmentDistanceName as DistanceName
from unpaired.recipes._names import alignment_distance as make_distance
from unpaired.report import write_json

__all__ = [
    "DISTANCES",
    "LRMF_DISTANCES",
    "TRANSFORMS",
    "Affine",
    "AlignResult",
    "AlignTask",
    "DensityTask",
    "DistanceName",
    "FlowTransform",
    "MLPTransform",
    "Shift",
    "Standardizer",
    "Transform",
    "TransformName",
    "align",
    "align_files",
    "check_pairing",
    "load_array",
    "load_samples",
    "make_distance",
    "make_transform",
    "set_private_loglik",
]


def _loss_key(distance: Distance) -> str:
    if isinstance(distance, AdversarialDistance):
        return "adversarial"
    if isinstance(distance, DualAdversarialDistance):
        return "dual"
    if isinstance(distance, (GaussianLRMF, FlowLRMF)):
        return "lrmf"
    return type(distance).__name__.lower()


# --------------------------------------------------------------------------------------
# tasks for the engine
# --------------------------------------------------------------------------------------


def _weight_l2(module: nn.Module) -> torch.Tensor:
    """``sum ||W||^2`` over the weight matrices (parameters with >= 2 dims) of ``module``."""
    terms = [p.square().sum() for p in module.parameters() if p.dim() >= 2]
    return torch.stack(terms).sum() if terms else torch.zeros(())


class AlignTask(Task):
    """``min_T d(T(A), B)`` for the engine; batches are ``{"a": (B, D), "b": (B, D)}``.

    ``transform``: a :class:`Transform`; ``distance``: any distance. Learned distances
    (adversarial critics, the flow-LRMF shared density) are the critic player.
    ``critic_l2`` = lambda adds ``lambda / 2 * ||W||^2`` (weight matrices only, biases
    free) to the critic loss: with a linear logistic critic this is exactly the inner
    problem the dual adversarial distance solves in closed form (dual slides), so the
    two differ only in how the inner max is solved. ``identity_weight`` = rho adds the
    explicit regularizer ``R(T) = rho * mean((T(a) - a)^2)`` (loss ``identity``): T should
    change the samples no more than needed. ``eval_a`` (N, D), ``eval_b`` (M, D):
    held-out sets for :meth:`evaluate` (``eval/distance``).
    """

    def __init__(
        self,
        transform: Transform,
        distance: Distance,
        *,
        critic_l2: float = 0.0,
        identity_weight: float = 0.0,
        eval_a: torch.Tensor | None = None,
        eval_b: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if isinstance(distance, FlowLRMF) and not transform.invertible:
            raise ValueError(
                f"flow LRMF needs an invertible transform with a log-determinant, got "
                f"{type(transform).__name__}"
            )
        if not critic_l2 >= 0 or not identity_weight >= 0:
            raise ValueError(
                f"critic_l2 and identity_weight must be >= 0, got {critic_l2}, {identity_weight}"
            )
        self.transform = transform
        self.distance = distance
        self.critic_l2 = float(critic_l2)
        self.identity_weight = float(identity_weight)
        self.loss_key = _loss_key(distance)
        self.register_buffer("eval_a", eval_a)
        self.register_buffer("eval_b", eval_b)

    def critic_parameters(self) -> list[nn.Parameter]:
        return list(self.distance.parameters()) if self.distance.learned else []

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        if isinstance(self.distance, FlowLRMF):
            ta, logdet = self.transform.forward_and_log_det(a)
            losses = {self.loss_key: self.distance.generator_loss(ta, b, logdet=logdet)}
        else:
            ta = self.transform(a)
            losses = {self.loss_key: self.distance.generator_loss(ta, b)}
        if self.identity_weight > 0:
            losses["identity"] = self.identity_weight * (ta - a).square().mean()
        return losses

    def _l2(self) -> torch.Tensor:
        return self.critic_l2 / 2 * _weight_l2(self.distance)

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            moved = self.transform(batch["a"])
        loss = self.distance.critic_loss(moved, batch["b"])
        assert loss is not None
        if self.critic_l2 > 0:
            loss = loss + self._l2()
        return {"critic": loss}

    def distance_value(self, a: torch.Tensor, b: torch.Tensor) -> float:
        """``d(T(a), b)`` as reported: the distance itself, or for learned ones its estimate.

        Adversarial: the critic's divergence estimate (minus ``critic_l2 / 2 ||W||^2``,
        i.e. the regularized objective the dual computes exactly); flow LRMF: Theorem
        2.3's loss (nats, with ``T``'s log-determinant); sliced: fixed projections.
        """
        d = self.distance
        with torch.no_grad():
            if isinstance(d, FlowLRMF):
                ta, logdet = self.transform.forward_and_log_det(a)
                return float(d(ta, b, logdet=logdet))
            ta = self.transform(a)
            if isinstance(d, AdversarialDistance):
                return float(d.divergence(ta, b) - self._l2())
            if isinstance(d, SlicedWasserstein):
                g = torch.Generator(device=ta.device).manual_seed(0)
                return float(
                    sliced_wasserstein(ta, b, projections=d.projections, p=d.p, generator=g)
                )
            return float(d(ta, b))

    def evaluate(self) -> dict[str, float]:
        if self.eval_a is None or self.eval_b is None:
            return {}
        return {"distance": self.distance_value(self.eval_a, self.eval_b)}


class DensityTask(Task):
    """Maximum-likelihood fit of a density ``flow`` (zuko) to batches (B, D).

    Used for the "private" models of flow LRMF. ``eval_x`` (N, D): held-out samples for
    ``eval/loglik`` (mean log-likelihood).
    """

    def __init__(self, flow: zuko.flows.Flow, *, eval_x: torch.Tensor | None = None) -> None:
        super().__init__()
        self.flow = flow
        self.register_buffer("eval_x", eval_x)

    def generator_losses(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"nll": -self.flow().log_prob(batch).mean()}

    def loglik(self, x: torch.Tensor) -> float:
        with torch.no_grad():
            return float(self.flow().log_prob(x).mean())

    def evaluate(self) -> dict[str, float]:
        return {} if self.eval_x is None else {"loglik": self.loglik(self.eval_x)}


def set_private_loglik(
    distance: FlowLRMF,
    private_a: DensityTask,
    private_b: DensityTask,
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    init_shared: bool = True,
) -> float:
    """Store ``c(A, B) = E_a log p_A(a) + E_b log p_B(b)`` in ``distance`` and return it.

    ``a`` (N, D), ``b`` (M, D): the sets the LRMF value will be computed on (the
    untransformed source). With ``init_shared`` the shared density starts as a copy of
    the private density of B (where it ends at alignment), as in
    :meth:`~unpaired.distances.FlowLRMF.fit_private`.
    """
    c = private_a.loglik(a) + private_b.loglik(b)
    distance.private_loglik.fill_(c)
    if init_shared:
        distance.shared.load_state_dict(private_b.flow.state_dict())
    return c


# --------------------------------------------------------------------------------------
# align two arrays
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standardizer:
    """``z = (x - center) / scale`` with one pooled center (D,) and one scalar scale.

    An isotropic rescaling keeps the geometry of the data (distances, angles), and
    conjugating ``T`` by it keeps its family (shift, affine, MLP, flow) and its
    log-determinant.
    """

    center: torch.Tensor
    scale: float

    @classmethod
    def fit(cls, *sets: torch.Tensor) -> Standardizer:
        """Center = mean of the per-set means; scale = RMS deviation per feature."""
        center = torch.stack([s.mean(0) for s in sets]).mean(0)
        var = torch.stack([(s - center).square().mean() for s in sets]).mean()
        scale = float(var.sqrt())
        return cls(center, scale if scale > 0 else 1.0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.center) / self.scale

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.scale + self.center


@dataclass
class AlignResult:
    """What :func:`align` returns.

    ``aligned``: ``T(source)`` (N, D) in the source's units; ``history``: the logged
    rows of the alignment fit; ``final_distance``: ``d(T(A), B)`` on the evaluation
    sets at the end; ``initial_distance``: the same at the identity (None for learned
    distances, whose value needs a trained critic); ``fits``: every engine fit by name.
    """

    aligned: torch.Tensor
    transform: Transform
    standardizer: Standardizer
    history: list[dict[str, Any]]
    final_distance: float
    initial_distance: float | None
    steps: int
    fits: dict[str, FitResult] = field(default_factory=dict)


def _check_sets(source: torch.Tensor, target: torch.Tensor) -> None:
    for name, x in (("source", source), ("target", target)):
        if x.dim() != 2 or x.shape[0] < 2:
            raise DataError(f"{name}: expected an array (N, D) with N >= 2, got {tuple(x.shape)}")
    if source.shape[1] != target.shape[1]:
        raise DataError(
            f"source has {source.shape[1]} features per sample but target has "
            f"{target.shape[1]}; both must be (N, D) with the same D"
        )


def _subset(x: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    if x.shape[0] <= n:
        return x
    return x[torch.randperm(x.shape[0], generator=generator)[:n]]


def align(
    source: torch.Tensor,
    target: torch.Tensor,
    *,
    distance: DistanceName = "mmd",
    transform: TransformName = "affine",
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 2e-3,
    critic_lr: float | None = None,
    identity_weight: float = 0.0,
    density_steps: int = 1000,
    eval_size: int = 1000,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> AlignResult:
    """Learn ``T`` minimizing ``d(T(source), target)``; return ``T(source)`` and the curve.

    source: (N, D), target: (M, D). Both are standardized together (:class:`Standardizer`)
    and ``T`` is learned in those coordinates (so ``lr`` and the distances' scales do not
    depend on the data's units), then applied in the original units. Training uses the
    engine (:func:`unpaired.engine.fit`): Adam with betas (0.5, 0.9), ``batch_size``
    samples of each set per step (drawn independently: unpaired), the distance on up to
    ``eval_size`` held-in samples of each set logged every ``steps // 20`` steps
    (``eval/distance``). With ``out``, checkpoints and logs go there and ``resume``
    continues an interrupted run exactly. ``identity_weight`` adds the regularizer
    ``R(T) = rho * mean((T(a) - a)^2)`` (standardized units). ``flow-lrmf`` first fits the two private
    densities for ``density_steps`` steps each (engine fits ``density-source`` and
    ``density-target``).
    """
    check_pairing(distance, transform)
    source, target = source.float(), target.float()
    _check_sets(source, target)
    if not identity_weight >= 0:
        raise ConfigError(f"identity_weight must be >= 0, got {identity_weight}")
    if steps < 1 or batch_size < 1 or eval_size < 2:
        raise ConfigError(
            f"need steps >= 1, batch_size >= 1, eval_size >= 2; got {steps}, {batch_size}, {eval_size}"
        )
    dim = source.shape[1]
    std = Standardizer.fit(source, target)
    za, zb = std(source), std(target)
    g = torch.Generator().manual_seed(seed)
    cap = min(eval_size, 512) if distance.startswith("dual") else eval_size
    eval_a, eval_b = _subset(za, cap, g), _subset(zb, cap, g)

    fabric = make_fabric(1)
    fabric.launch()
    logger = RunLogger(Path(out) if out is not None else None)
    fits: dict[str, FitResult] = {}

    def run(name: str, task: Task, data: Any, cfg: TrainConfig) -> FitResult:
        fits[name] = fit(
            task,
            data,
            cfg,
            name=name,
            out=out,
            seed=seed,
            resume=resume,
            fabric=fabric,
            logger=logger,
            progress=progress,
        )
        return fits[name]

    try:
        seed_everything(seed)
        t = make_transform(transform, dim)
        d = make_distance(distance, dim)
        if isinstance(d, FlowLRMF):
            dens_cfg = TrainConfig(
                steps=density_steps,
                lr=1e-3,
                betas=(0.9, 0.999),
                log_every=max(1, density_steps // 50),
                checkpoint_every=max(1, density_steps // 4),
            )
            privates = []
            for name, z in (("density-source", za), ("density-target", zb)):
                task = DensityTask(
                    density_flow(dim, flow=d.flow, transforms=d.transforms, hidden=d.hidden)
                )
                run(name, task, TensorSampler(z, batch_size=batch_size), dens_cfg)
                privates.append(task)
            set_private_loglik(d, privates[0], privates[1], eval_a, eval_b)
        task = AlignTask(t, d, identity_weight=identity_weight, eval_a=eval_a, eval_b=eval_b)
        initial = None if d.learned else task.distance_value(eval_a, eval_b)
        cfg = TrainConfig(
            steps=steps,
            lr=lr,
            critic_lr=critic_lr,
            betas=(0.5, 0.9),
            log_every=max(1, steps // 100),
            eval_every=max(1, steps // 20),
            checkpoint_every=max(1, min(500, steps // 4)),
        )
        data = Unpaired(
            {
                "a": TensorSampler(za, batch_size=batch_size),
                "b": TensorSampler(zb, batch_size=batch_size),
            }
        )
        result = run("align", task, data, cfg)
    finally:
        logger.close()
    with torch.no_grad():
        aligned = torch.cat([std.inverse(t(z)) for z in za.split(4096)])
    return AlignResult(
        aligned=aligned,
        transform=t,
        standardizer=std,
        history=result.history,
        final_distance=float(result.final.get("eval/distance", float("nan"))),
        initial_distance=initial,
        steps=result.steps,
        fits=fits,
    )


# --------------------------------------------------------------------------------------
# files (the ``unpaired align`` command)
# --------------------------------------------------------------------------------------


def _read_csv(path: Path) -> np.ndarray:
    rows: list[list[float]] = []
    width = None
    with path.open(newline="") as f:
        for lineno, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            try:
                values = [float(c) for c in cells]
            except ValueError:
                if not rows and lineno == 1:
                    continue  # a header line
                bad = next(c for c in cells if not _is_float(c))
                raise DataError(f"{path}:{lineno}: cannot read {bad!r} as a number") from None
            if width is None:
                width = len(values)
            elif len(values) != width:
                raise DataError(
                    f"{path}:{lineno}: {len(values)} values, but the first data row has {width}"
                )
            rows.append(values)
    if not rows:
        raise DataError(f"{path}: no numeric rows found")
    return np.asarray(rows, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_array(path: str | Path) -> np.ndarray:
    """Read samples (N, D) from ``.npy``, ``.npz`` (exactly one array) or ``.csv``.

    See :func:`load_samples` (this returns its flattened array only).
    """
    return load_samples(path)[0]


def load_samples(path: str | Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """Read samples from ``.npy``, ``.npz`` (exactly one array) or ``.csv``: (N, D) + shape.

    Arrays with more than two dimensions (N, *) are flattened to (N, D); a 1-D array is
    N samples of one feature. Raises :class:`DataError` with one line naming the file
    for a missing/unreadable file, an unknown extension, a non-numeric or non-finite
    value, or an empty array.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz", ".csv"):
        raise DataError(f"{p}: unsupported file type '{p.suffix}'; expected .npy, .npz or .csv")
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        if suffix == ".csv":
            arr = _read_csv(p)
        elif suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            with np.load(p, allow_pickle=False) as z:
                names = list(z.files)
                if len(names) != 1:
                    raise DataError(
                        f"{p}: expected exactly one array in the .npz, found {len(names)}"
                        + (f" ({', '.join(names)})" if names else "")
                    )
                arr = z[names[0]]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise DataError(f"{p}: not a readable {suffix} array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{p}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[0] == 0 or arr.size == 0:
        raise DataError(f"{p}: empty array (shape {arr.shape}); expected samples (N, D)")
    shape = tuple(int(s) for s in arr.shape)
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim != 1 else arr[:, None]
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise DataError(f"{p}: non-finite value (nan or inf) in sample {row}")
    return arr, shape


def _fingerprint(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()[:16]


def _plot_distance(history: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [(r["step"], r["eval/distance"]) for r in history if "eval/distance" in r]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    if pts:
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel("d(T(A), B)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    distance: DistanceName = "mmd",
    transform: TransformName = "affine",
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
    (src_np, src_shape), (tgt_np, _) = load_samples(source_path), load_samples(target_path)
    if src_np.shape[1] != tgt_np.shape[1]:
        raise DataError(
            f"SOURCE {source_path} has {src_np.shape[1]} features per sample but TARGET "
            f"{target_path} has {tgt_np.shape[1]}; both must be (N, D) with the same D"
        )
    for name, arr, p in (("SOURCE", src_np, source_path), ("TARGET", tgt_np, target_path)):
        if arr.shape[0] < 2:
            raise DataError(f"{name} {p}: needs at least 2 samples, got {arr.shape[0]}")
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

    t0 = time.perf_counter()
    result = align(
        torch.from_numpy(src_np),
        torch.from_numpy(tgt_np),
        distance=distance,
        transform=transform,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        identity_weight=identity_weight,
        seed=seed,
        out=out_path,
        resume=resume,
        progress=progress,
    )
    aligned = result.aligned.numpy().astype(np.float32)
    np.save(out_path / "aligned.npy", aligned.reshape(src_shape))
    _plot_distance(result.history, out_path / "distance.png", f"{distance} ({transform} T)")
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
        value = result.final_distance
        metrics["final_lrmf_nats"] = value
        if not value <= warn_above:
            warning = (
                f"final LRMF value {value:.3g} nats is far from 0 (> {warn_above:g}): the "
                "density family can still tell T(SOURCE) from TARGET, so the alignment "
                "likely failed (try more --steps, another --transform, or check the data)"
            )
    metrics["warning"] = warning
    write_json(out_path / "metrics.json", metrics)
    return AlignFilesOutcome(out_path, metrics, warning)
