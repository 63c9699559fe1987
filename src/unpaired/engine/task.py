"""The task contract: models compute named losses, the engine trains them.

A task is an ``nn.Module`` holding every network of one model (generators, critics)
and exposing its losses. The engine alternates ``n_critic`` critic updates with one
generator update, each with its own optimizer (DESIGN.md, convention 4). Every method
the engine calls is declared here with its default; a subclass overrides only what it
needs (``generator_losses`` always, the critic's three for two-player models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from unpaired.distances import step_schedules
from unpaired.models.record import Export

if TYPE_CHECKING:
    from unpaired.engine.loop import TrainConfig


class Task(nn.Module):
    """Base class of everything the engine trains.

    Subclasses implement :meth:`generator_losses` and, for two-player (adversarial)
    models, :meth:`critic_losses` and :meth:`critic_parameters`. Losses are returned
    as a dict of named scalars *already weighted*; the engine minimizes their sum and
    logs every entry.

    The engine calls, per step ``k`` (1, 2, ...): :meth:`on_step_start` ``(k)``; then
    ``n_critic`` times :meth:`critic_losses` (two-player tasks only) and once
    :meth:`generator_losses`, each on a fresh batch; every ``eval_every`` steps and at
    the end :meth:`evaluate`. Once per fit, before the first step, it calls
    :meth:`configure_optimizers`. With a run directory, whenever it checkpoints it also
    writes ``models/<name>.pt``: the record of every network :meth:`exports` names.
    """

    def generator_losses(self, batch: Any) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Named scalar losses of the generator player for one batch."""
        raise NotImplementedError

    def critic_losses(self, batch: Any) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Named scalar losses of the critic player (only if it has parameters)."""
        raise NotImplementedError(
            f"{type(self).__name__} has critic parameters but no critic_losses"
        )

    def on_step_start(self, step: int) -> None:
        """Called by the engine before every training step ``step`` (1, 2, ...), resumed
        runs included. By default it moves every step-driven hyperparameter of the task
        (``unpaired.distances.step_schedules(self, step)``: annealed regularizers of
        adversarial distances); an override should call ``super().on_step_start(step)``."""
        step_schedules(self, step)

    def critic_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by :meth:`critic_losses`; empty for single-player tasks."""
        return []

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by :meth:`generator_losses`: all others, by default."""
        critic = {id(p) for p in self.critic_parameters()}
        return [p for p in self.parameters() if id(p) not in critic and p.requires_grad]

    def configure_optimizers(self, config: TrainConfig) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per player with parameters, keyed ``"generator"`` / ``"critic"``.

        The default is Adam for each player: ``lr`` for the generator, ``critic_lr`` (or
        ``lr``) for the critic, both with ``betas`` and ``weight_decay`` from ``config``.
        Override it for other optimizers or parameter groups (e.g. a smaller learning
        rate for a pretrained part); the engine checks that every player with parameters
        got one. Optimizer states are checkpointed and restored on resume.
        """
        lrs = {"generator": config.lr, "critic": config.critic_lr or config.lr}
        params = {"generator": self.generator_parameters(), "critic": self.critic_parameters()}
        return {
            k: torch.optim.Adam(p, lr=lrs[k], betas=config.betas, weight_decay=config.weight_decay)
            for k, p in params.items()
            if p
        }

    def evaluate(self) -> dict[str, float]:
        """Held-out metrics, logged as ``eval/<name>``; called under ``no_grad`` in eval mode.

        It must not depend on the training RNG (use its own ``torch.Generator``), so
        that interrupted and resumed runs log the same values.
        """
        return {}

    def exports(self) -> dict[str, Export]:
        """The trained networks a run keeps for use, by name: ``{"generator":
        Export(self.generator, "image")}``. The engine writes their records (class,
        constructor arguments, weights, ``meta``) to ``models/<fit name>.pt`` with each
        checkpoint; ``unpaired.load`` and ``unpaired predict`` read them. Networks must be
        ``@recordable`` (:mod:`unpaired.models.record`); the default exports nothing."""
        return {}
