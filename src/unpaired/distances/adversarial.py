"""Adversarial distances: a learned critic tells predictions from memories.

The logistic loss is the AIGN paper's Eq. 1 (``log D(M) + log(1 - D(G(x)))``); the
generator uses the usual non-saturating form ``-log D(G(x))``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_same_features
from unpaired.distances.base import Distance


class AdversarialDistance(Distance):
    """Min-max distance with a learned critic ``D``.

    ``critic`` maps (N, *) samples to (N,) or (N, 1) logits (or (N, *) patch logits,
    averaged). ``b`` (memories) are "real", ``a`` (predictions) are "fake".

    ``forward(a, b)`` is the generator loss (non-saturating logistic).
    ``critic_loss(a, b)`` is the critic's loss; pass detached ``a`` when training the
    critic alone.
    """

    symmetric: ClassVar[bool] = False
    learned: ClassVar[bool] = True

    def __init__(self, critic: nn.Module, *, loss: Literal["logistic"] = "logistic") -> None:
        super().__init__()
        if loss != "logistic":
            raise ValueError(f"loss must be 'logistic', got {loss!r}")
        self.critic = critic
        self.loss = loss

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out = self.critic(x)
        return out.reshape(out.shape[0], -1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        check_same_features(a, b)
        fake = self._logits(a)
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))

    def critic_loss(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        check_same_features(a, b)
        real = self._logits(b)
        fake = self._logits(a)
        return F.binary_cross_entropy_with_logits(
            real, torch.ones_like(real)
        ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
