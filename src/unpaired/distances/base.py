"""The one distance interface.

AIGN's adversarial prior ``d(G_i(X), M_i)`` (Eq. 1 of the AIGN paper) and the thesis'
alignment objective ``min_T d(T(A), B) + R(T)`` have the same shape, so every prior of
every model is a :class:`Distance`:

* ``d(a, b)`` (``forward``) is what the *transformation / generator* minimizes. ``a`` is
  the set being moved (predictions, ``T(A)``), ``b`` the fixed reference (memories,
  ``B``). Both are (N, *) and (M, *) sample sets with the same per-sample shape;
  closed-form distances flatten them to (N, D).
* Distances with parameters of their own (a learned critic, a density model) also
  implement ``critic_loss(a, b)``: the loss those parameters minimize. The training
  engine optimizes them with a separate optimizer (``Task.critic_parameters``).
  Parameter-free distances return ``None``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class Distance(nn.Module):
    """Base class of every statistical distance ``d(a, b)`` between sample sets."""

    #: ``d(a, b) == d(b, a)`` in value (checked by the contract tests).
    symmetric: ClassVar[bool] = True
    #: The distance owns parameters fit by ``critic_loss`` (adversarial, LRMF).
    learned: ClassVar[bool] = False

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        """Scalar distance between ``a`` (N, *) and ``b`` (M, *), differentiable in both."""
        raise NotImplementedError

    def generator_loss(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The loss the generator/transformation minimizes: ``forward`` by default."""
        return self(a, b)

    def critic_loss(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor | None:
        """Loss for the distance's own parameters; ``None`` when it has none."""
        return None


def flatten_samples(x: torch.Tensor) -> torch.Tensor:
    """(N, *) -> (N, D). Closed-form distances compare flattened samples."""
    if x.dim() == 1:
        return x[:, None]
    return x.reshape(x.shape[0], -1)
