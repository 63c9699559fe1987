"""The task contract: models compute named losses, the engine trains them.

A task is an ``nn.Module`` holding every network of one model (generators, critics)
and exposing its losses. The engine alternates ``n_critic`` critic updates with one
generator update, each with its own optimizer (DESIGN.md, convention 4).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Task(nn.Module):
    """Base class of everything the engine trains.

    Subclasses implement :meth:`generator_losses` and, for two-player (adversarial)
    models, :meth:`critic_losses` and :meth:`critic_parameters`. Losses are returned
    as a dict of named scalars *already weighted*; the engine minimizes their sum and
    logs every entry.
    """

    def generator_losses(self, batch: Any) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Named scalar losses of the generator player for one batch."""
        raise NotImplementedError

    def critic_losses(self, batch: Any) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Named scalar losses of the critic player (only if it has parameters)."""
        raise NotImplementedError(
            f"{type(self).__name__} has critic parameters but no critic_losses"
        )

    def critic_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by :meth:`critic_losses`; empty for single-player tasks."""
        return []

    def generator_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by :meth:`generator_losses`: all others, by default."""
        critic = {id(p) for p in self.critic_parameters()}
        return [p for p in self.parameters() if id(p) not in critic and p.requires_grad]

    def evaluate(self) -> dict[str, float]:
        """Held-out metrics, logged as ``eval/<name>``; called under ``no_grad`` in eval mode.

        It must not depend on the training RNG (use its own ``torch.Generator``), so
        that interrupted and resumed runs log the same values.
        """
        return {}
