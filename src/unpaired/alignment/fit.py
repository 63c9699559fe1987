"""``align()``: learn ``T`` minimizing ``d(T(A), B)`` on two sample sets, with the engine.

Both sets are standardized together (:class:`Standardizer`: one center, one isotropic
scale), T is learned in those units and applied in the original ones. Every training
goes through a :class:`~unpaired.engine.session.Session` (the recipes' entry point too):
pass one to write checkpoints and logs into a run folder and resume, or let
:func:`align` open an in-memory one.

Example:
    >>> import torch
    >>> from unpaired.distances import MeanDistance
    >>> from unpaired.models.transforms import Shift
    >>> g = torch.Generator().manual_seed(0)
    >>> a = torch.randn(200, 2, generator=g)
    >>> b = torch.randn(200, 2, generator=g) + torch.tensor([3.0, -1.0])
    >>> res = align(a, b, distance=MeanDistance(), transform=Shift(2), steps=100, lr=0.05,
    ...             progress=False)
    >>> res.final_distance < 0.1 * res.initial_distance  # d(T(A), B) before and after
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from unpaired.alignment.tasks import AlignTask, DensityTask, set_private_loglik
from unpaired.distances import Distance, DualAdversarialDistance, FlowLRMF, density_flow
from unpaired.engine.data import TensorSampler, Unpaired
from unpaired.engine.loop import FitResult, TrainConfig
from unpaired.engine.session import Session
from unpaired.errors import ConfigError, DataError
from unpaired.models.transforms import Transform

__all__ = ["AlignResult", "Standardizer", "align", "fit_private_densities"]


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


def fit_private_densities(
    distance: FlowLRMF,
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    session: Session,
    config: TrainConfig,
    batch_size: int,
    eval_a: torch.Tensor,
    eval_b: torch.Tensor,
    prefix: str = "",
    monitor: bool = False,
    seed: int | None = None,
) -> float:
    """Fit flow LRMF's private densities to ``a`` (N, D) and ``b`` (M, D); store ``c(A, B)``.

    Each is a :class:`DensityTask` (a density of ``distance``'s family) trained by
    ``session`` as ``{prefix}density-source`` / ``{prefix}density-target`` for
    ``config``; ``c(A, B)`` is evaluated on ``eval_a`` (N', D), ``eval_b`` (M', D), the
    untransformed sets the LRMF value will be reported on (:func:`set_private_loglik`,
    which also starts the shared density at the target's). ``monitor`` logs
    ``eval/loglik`` of each on its evaluation set; ``seed``: the fits' seed (default:
    the session's per-name seed). Returns ``c(A, B)``.
    """
    privates = []
    for side, z, held in (("source", a, eval_a), ("target", b, eval_b)):
        flow = density_flow(
            z.shape[1], flow=distance.flow, transforms=distance.transforms, hidden=distance.hidden
        )
        task = DensityTask(flow, eval_x=held if monitor else None)
        data = TensorSampler(z, batch_size=batch_size)
        session.fit(f"{prefix}density-{side}", task, data, config, seed=seed)
        privates.append(task)
    return set_private_loglik(distance, privates[0], privates[1], eval_a, eval_b)


def _density_config(steps: int) -> TrainConfig:
    """The private densities' optimization (Adam, lr 1e-3)."""
    return TrainConfig(
        steps=steps,
        lr=1e-3,
        betas=(0.9, 0.999),
        log_every=max(1, steps // 50),
        checkpoint_every=max(1, steps // 4),
    )


def _align_config(steps: int, lr: float, critic_lr: float | None) -> TrainConfig:
    """T's optimization (Adam, betas (0.5, 0.9) as for GANs); the distance every steps/20."""
    return TrainConfig(
        steps=steps,
        lr=lr,
        critic_lr=critic_lr,
        betas=(0.5, 0.9),
        log_every=max(1, steps // 100),
        eval_every=max(1, steps // 20),
        checkpoint_every=max(1, min(500, steps // 4)),
    )


def align(
    source: torch.Tensor,
    target: torch.Tensor,
    *,
    distance: Distance,
    transform: Transform,
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 2e-3,
    critic_lr: float | None = None,
    identity_weight: float = 0.0,
    density_steps: int = 1000,
    eval_size: int = 1000,
    seed: int = 0,
    session: Session | None = None,
    progress: bool | None = None,
) -> AlignResult:
    """Learn ``transform`` minimizing ``distance(T(source), target)``; return ``T(source)``.

    source: (N, D), target: (M, D). ``transform`` (a :mod:`unpaired.models.transforms`
    family at the identity) and ``distance`` (any :class:`~unpaired.distances.Distance`
    for D features) are trained in place, in standardized coordinates (so ``lr`` and
    the distances' scales do not depend on the data's units). Adam with betas (0.5,
    0.9), ``batch_size`` samples of each set per step (drawn independently: unpaired);
    the distance on up to ``eval_size`` held-in samples of each set (512 for the dual
    adversarial distance) is logged every ``steps // 20`` steps (``eval/distance``).
    ``identity_weight`` adds ``R(T) = rho * mean((T(a) - a)^2)`` (standardized units).
    A :class:`~unpaired.distances.FlowLRMF` first gets its two private densities
    (:func:`fit_private_densities`, ``density_steps`` each), initialised from torch's
    global RNG (seed it before building ``transform`` and ``distance`` for a
    reproducible run, as ``unpaired align`` does).

    ``seed`` fixes the evaluation subsets and every fit's per-step randomness.
    ``session``: trains there (checkpoints, logs, ``resume``: see
    :class:`~unpaired.engine.session.Session`); None: an in-memory session whose
    progress bars follow ``progress``.
    """
    if session is None:
        with Session.open(seed=seed, progress=progress) as own:
            return align(
                source,
                target,
                distance=distance,
                transform=transform,
                steps=steps,
                batch_size=batch_size,
                lr=lr,
                critic_lr=critic_lr,
                identity_weight=identity_weight,
                density_steps=density_steps,
                eval_size=eval_size,
                seed=seed,
                session=own,
            )
    source, target = source.float(), target.float()
    _check_sets(source, target)
    if isinstance(distance, FlowLRMF) and distance.features != source.shape[1]:
        raise ValueError(
            f"distance is a FlowLRMF for {distance.features} features, the sets have "
            f"{source.shape[1]}"
        )
    if not identity_weight >= 0:
        raise ConfigError(f"identity_weight must be >= 0, got {identity_weight}")
    if steps < 1 or batch_size < 1 or eval_size < 2:
        raise ConfigError(
            f"need steps >= 1, batch_size >= 1, eval_size >= 2; got {steps}, {batch_size}, {eval_size}"
        )
    std = Standardizer.fit(source, target)
    za, zb = std(source), std(target)
    g = torch.Generator().manual_seed(seed)
    cap = min(eval_size, 512) if isinstance(distance, DualAdversarialDistance) else eval_size
    eval_a, eval_b = _subset(za, cap, g), _subset(zb, cap, g)
    first = set(session.fits)
    if isinstance(distance, FlowLRMF):
        fit_private_densities(
            distance,
            za,
            zb,
            session=session,
            config=_density_config(density_steps),
            batch_size=batch_size,
            eval_a=eval_a,
            eval_b=eval_b,
            seed=seed,
        )
    task = AlignTask(
        transform,
        distance,
        identity_weight=identity_weight,
        eval_a=eval_a,
        eval_b=eval_b,
        units=(std.center, std.scale),
    )
    initial = None if distance.learned else task.distance_value(eval_a, eval_b)
    data = Unpaired(
        {
            "a": TensorSampler(za, batch_size=batch_size),
            "b": TensorSampler(zb, batch_size=batch_size),
        }
    )
    result = session.fit("align", task, data, _align_config(steps, lr, critic_lr), seed=seed)
    with torch.no_grad():
        aligned = torch.cat([std.inverse(transform(z)) for z in za.split(4096)])
    return AlignResult(
        aligned=aligned,
        transform=transform,
        standardizer=std,
        history=result.history,
        final_distance=float(result.final.get("eval/distance", float("nan"))),
        initial_distance=initial,
        steps=result.steps,
        fits={n: f for n, f in session.fits.items() if n not in first},
    )
