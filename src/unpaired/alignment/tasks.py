"""Engine tasks of alignment: ``min_T d(T(A), B)`` and flow LRMF's private densities.

* :class:`AlignTask`: T is the generator player, a learned distance (adversarial critic,
  flow LRMF's shared density) the critic player; closed-form distances make it a plain
  minimization. :class:`ScoredAlignTask` adds a held-out score of T (e.g. a classifier's
  accuracy on T(hold-out)).
* :class:`DensityTask` + :func:`set_private_loglik`: the private densities of flow LRMF
  and its constant ``c(A, B)`` (Theorem 2.3 of the LRMF slides).
* :class:`Replicas`: R independent alignment tasks trained side by side as one;
  :class:`KnownMapReplicas` also logs each replica's error against a known true map.

Example:
    >>> import torch
    >>> from unpaired.distances import MeanDistance
    >>> from unpaired.models.transforms import Shift
    >>> task = AlignTask(Shift(2), MeanDistance())
    >>> batch = {"a": torch.zeros(4, 2), "b": torch.ones(4, 2)}
    >>> {k: round(float(v.detach()), 4) for k, v in task.generator_losses(batch).items()}
    {'meandistance': 1.4142}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import zuko
from torch import nn

from unpaired.distances import (
    AdversarialDistance,
    Distance,
    DualAdversarialDistance,
    FlowLRMF,
    GaussianLRMF,
    SlicedWasserstein,
    sliced_wasserstein,
)
from unpaired.engine.task import Task
from unpaired.models.record import Export
from unpaired.models.transforms import Transform

__all__ = [
    "AlignTask",
    "DensityTask",
    "KnownMapReplicas",
    "Replicas",
    "ScoredAlignTask",
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
    held-out sets for :meth:`evaluate` (``eval/distance``). ``units`` = (center (D,),
    scale): the standardization ``z = (x - center) / scale`` T works in, exported with it
    (default: none).
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
        units: tuple[torch.Tensor, float] | None = None,
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
        self.units = units
        self.register_buffer("eval_a", eval_a)
        self.register_buffer("eval_b", eval_b)

    def critic_parameters(self) -> list[nn.Parameter]:
        return list(self.distance.parameters()) if self.distance.learned else []

    def exports(self) -> dict[str, Export]:
        """T (kind ``"transform"``): samples (B, D) -> (B, D), applied in the original
        units as ``T((x - center) / scale) * scale + center`` (meta ``center``, ``scale``)."""
        meta: dict[str, Any] = {}
        if self.units is not None:
            meta = {"center": self.units[0].detach().cpu(), "scale": float(self.units[1])}
        return {"transform": Export(self.transform, "transform", meta)}

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


class ScoredAlignTask(AlignTask):
    """:class:`AlignTask` + ``eval/<score_name>``: ``score(T(holdout))`` on a held-out set.

    ``holdout`` (N, D): source samples T is applied to; ``score``: a function of the moved
    samples (e.g. a frozen classifier's accuracy). The score is a plain attribute, so
    what it closes over (the classifier) stays out of this task's checkpoint.
    """

    def __init__(
        self,
        transform: Transform,
        distance: Distance,
        *,
        holdout: torch.Tensor,
        score: Callable[[torch.Tensor], float],
        score_name: str = "holdout_accuracy",
        identity_weight: float = 0.0,
        eval_a: torch.Tensor | None = None,
        eval_b: torch.Tensor | None = None,
    ) -> None:
        super().__init__(
            transform, distance, identity_weight=identity_weight, eval_a=eval_a, eval_b=eval_b
        )
        self.register_buffer("holdout", holdout)
        self.score = score
        self.score_name = score_name

    def evaluate(self) -> dict[str, float]:
        return super().evaluate() | {self.score_name: self.score(self.transform(self.holdout))}


class Replicas(Task):
    """R independent alignment tasks trained as one; batches are ``{"r0": {...}, ...}``.

    Training each seed of a method as its own engine fit multiplies the per-model
    overhead (checkpoints, curves); the R replicas' parameters are disjoint and Adam's
    update is per-parameter and scale-invariant, so minimizing the *mean* of their losses
    trains each replica exactly as it would be trained alone (each draws its own
    batches). Losses are averaged key by key (the logged names stay those of one task,
    e.g. ``gen/adversarial``).
    """

    def __init__(self, tasks: Sequence[AlignTask]) -> None:
        super().__init__()
        if not tasks:
            raise ValueError("Replicas needs at least one task")
        self.tasks = nn.ModuleList(tasks)

    def critic_parameters(self) -> list[nn.Parameter]:
        return [p for t in self.tasks for p in t.critic_parameters()]

    @staticmethod
    def _mean(per_task: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {k: torch.stack([d[k] for d in per_task]).mean() for k in per_task[0]}

    def generator_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return self._mean([t.generator_losses(batch[f"r{i}"]) for i, t in enumerate(self.tasks)])

    def critic_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return self._mean([t.critic_losses(batch[f"r{i}"]) for i, t in enumerate(self.tasks)])


def _spread(b: torch.Tensor) -> float:
    """RMS distance of the rows of ``b`` (N, D) to their mean."""
    return float((b - b.mean(0)).pow(2).sum(1).mean().sqrt())


class KnownMapReplicas(Replicas):
    """:class:`Replicas` whose true map ``T*`` is known; evaluates every replica's error.

    ``truth[i] = (a, t, b)``: replica i's held-out source points a (N, D), their images
    ``T*(a)`` (N, D) and held-out target points b (M, D). ``eval/error`` is the mean over
    replicas of ``RMS(T_i(a) - T*(a)) / spread(b)`` (0: the true map is recovered;
    ``eval/error_s<i>`` per replica when R > 1); also logged: replica 0's ``eval/distance``
    and its T's parameters flattened as ``eval/T<j>`` (for trajectory plots).
    """

    def __init__(
        self,
        tasks: Sequence[AlignTask],
        truth: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    ) -> None:
        super().__init__(tasks)
        if len(truth) != len(tasks):
            raise ValueError(f"need one truth per task, got {len(truth)} for {len(tasks)}")
        for i, (a, t, _) in enumerate(truth):
            self.register_buffer(f"held_a{i}", a)
            self.register_buffer(f"held_t{i}", t)
        self.spread = [_spread(b) for _, _, b in truth]

    @torch.no_grad()
    def error(self, i: int) -> float:
        """RMS(T_i(a) - T*(a)) / spread(B) on replica i's held-out points."""
        moved = self.tasks[i].transform(getattr(self, f"held_a{i}"))
        rms = (moved - getattr(self, f"held_t{i}")).pow(2).sum(1).mean().sqrt()
        return float(rms / self.spread[i])

    def evaluate(self) -> dict[str, float]:
        errors = [self.error(i) for i in range(len(self.tasks))]
        out = {"error": sum(errors) / len(errors)}
        if len(errors) > 1:
            out |= {f"error_s{i}": e for i, e in enumerate(errors)}
        out |= self.tasks[0].evaluate()  # eval/distance of replica 0
        params = torch.cat([p.detach().reshape(-1) for p in self.tasks[0].transform.parameters()])
        return out | {f"T{j}": float(v) for j, v in enumerate(params)}
