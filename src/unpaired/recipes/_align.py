"""What the alignment recipes share: replicas trained side by side, error summaries, plots.

``align-toy`` runs every method on several seeds. Training each seed as its own engine
fit would multiply the per-model overhead (checkpoints, curve figures); instead the R
seeds of one method are R independent :class:`~unpaired.alignment.AlignTask` replicas
inside one :class:`Replicas` task. Their parameters are disjoint and Adam's update is
per-parameter and scale-invariant, so minimizing the *mean* of the replicas' losses
trains each replica exactly as it would be trained alone (each draws its own batches).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from unpaired.alignment import AlignTask
from unpaired.engine import Task


class Replicas(Task):
    """R independent alignment tasks trained as one; batches are ``{"r0": {...}, ...}``.

    Losses are averaged over replicas key by key (so the logged names stay those of one
    task, e.g. ``gen/adversarial``).
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


@dataclass(frozen=True)
class ErrorSummary:
    """Convergence figures of one error curve (eval steps ``steps``, values ``errors``).

    ``reach``: first step with error <= threshold (None: never); ``settle``: first step
    from which the error stays <= threshold to the end (None: it does not end below);
    ``oscillation``: std of the error over the last 20% of evaluations.
    """

    final: float
    best: float
    reach: int | None
    settle: int | None
    oscillation: float


def summarize(steps: Sequence[int], errors: Sequence[float], threshold: float) -> ErrorSummary:
    if not errors:
        raise ValueError("no evaluations to summarize")
    reach = next((s for s, e in zip(steps, errors, strict=True) if e <= threshold), None)
    settle = None
    for s, e in zip(reversed(steps), reversed(errors), strict=True):
        if e > threshold:
            break
        settle = s
    tail = torch.tensor(list(errors[-max(2, len(errors) // 5) :]), dtype=torch.float64)
    osc = float(tail.std()) if tail.numel() > 1 else 0.0
    return ErrorSummary(float(errors[-1]), float(min(errors)), reach, settle, osc)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; (nan, nan) for no values."""
    if not values:
        return math.nan, math.nan
    t = torch.tensor(list(values), dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def pm(values: Sequence[float], digits: int = 3) -> str:
    """``"m ± s"`` (or ``"m"`` for one value, ``"-"`` for none) for a table cell."""
    if not values:
        return "-"
    m, s = mean_std(values)
    if len(values) == 1:
        return f"{m:.{digits}g}"
    return f"{m:.{digits}g} ± {s:.2g}"


def pm_steps(values: Sequence[int | None]) -> str:
    """Step counts over seeds (None: never): ``"m ± s (k/R)"`` over the k that got there."""
    got = [v for v in values if v is not None]
    if not got:
        return f"never (0/{len(values)})"
    m, s = mean_std(got)
    text = f"{m:.0f}" if len(got) == 1 else f"{m:.0f} ± {s:.0f}"
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)})"
