"""Transformation families ``T``: (N, D) -> (N, D) for alignment, all exactly the identity
at initialisation.

Thesis talk, slide "How to find a good F?": alignment searches ``min_{T in F} d(T(A), B)
+ R(T)``; the family ``F`` is itself the regularizer ``R``. Invertible families (shift,
affine, flow) also give ``log|det dT/dx|``, which flow LRMF needs (Theorem 2.3 of the
LRMF slides).

Example:
    >>> import torch
    >>> t = Affine(3)
    >>> x = torch.randn(5, 3)
    >>> y, logdet = t.forward_and_log_det(x)
    >>> bool(torch.equal(y, x)), logdet.shape
    (True, torch.Size([5]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import zuko
from torch import nn

from unpaired.distances import push_forward
from unpaired.models.record import recordable

__all__ = ["Affine", "FlowTransform", "MLPTransform", "Shift", "Transform"]


class Transform(nn.Module):
    """A map ``T``: (N, D) -> (N, D). Invertible ones also give ``log|det dT/dx|``."""

    invertible: ClassVar[bool] = True

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``T(x)`` (N, D) and ``log|det dT/dx|`` at every row (N,)."""
        raise ValueError(
            f"{type(self).__name__} is not invertible: it has no log-determinant"
        )  # pragma: no cover - overridden by every invertible transform


@recordable
class Shift(Transform):
    """``T(x) = x + b`` (translation only), ``b`` (D,) starts at 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(x), x.new_zeros(x.shape[0])


@recordable
class Affine(Transform):
    """``T(x) = W x + b`` with ``W`` (D, D) = I and ``b`` (D,) = 0 at the start."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.eye(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T + self.bias

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.linalg.slogdet(self.weight).logabsdet
        return self(x), logdet.expand(x.shape[0])


@recordable
class MLPTransform(Transform):
    """Residual MLP ``T(x) = x + f(x)``; ``f``'s last layer starts at 0 (so T = identity).

    Not invertible in general: no log-determinant (cannot be used with flow LRMF).
    """

    invertible: ClassVar[bool] = False

    def __init__(self, dim: int, *, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        width = dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        last = nn.Linear(width, dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*mods, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise ValueError("MLPTransform is not invertible: it has no log-determinant")


@recordable
class FlowTransform(Transform):
    """A normalizing flow ``T`` (zuko masked autoregressive flow, MAF), identity at start.

    The last layer of every autoregressive conditioner is zero-initialised, so each
    affine step starts with shift 0 and scale 1. ``T`` is the flow's data-to-noise
    direction (one parallel pass); its log-determinant is exact.
    """

    def __init__(self, dim: int, *, transforms: int = 3, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.flow = zuko.flows.MAF(
            dim, transforms=transforms, hidden_features=tuple(hidden)
        ).transform
        for step in self.flow.transforms:
            last = [m for m in step.hyper.modules() if isinstance(m, nn.Linear)][-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow()(x)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return push_forward(self.flow, x)
