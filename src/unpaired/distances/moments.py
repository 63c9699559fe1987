"""Moment-matching distances: difference of means and CORAL.

Thesis talk, slide "How to find a good F?": the simplest statistical distance is the
difference of means ``d(A, B) = ||mu(A) - mu(B)||``; slide "Solution: Unsupervised Image
Translation / Domain Alignment" lists CORAL among the closed-form distances. CORAL is the
Deep CORAL loss of Sun & Saenko (2016): ``||C_A - C_B||_F^2 / (4 D^2)`` with unbiased
sample covariances.
"""

from __future__ import annotations

import torch

from unpaired.distances._utils import sample_sets
from unpaired.distances.base import Distance


def mean_distance(a: torch.Tensor, b: torch.Tensor, *, batched: bool = False) -> torch.Tensor:
    """Euclidean distance between the sample means, ``||mean(a) - mean(b)||_2``.

    a: (N, *), b: (M, *) -> scalar; batched: (B, N, *), (B, M, *) -> (B,).
    """
    x, y = sample_sets(a, b, batched=batched)
    return torch.linalg.vector_norm(x.mean(-2) - y.mean(-2), dim=-1)


def coral(a: torch.Tensor, b: torch.Tensor, *, batched: bool = False) -> torch.Tensor:
    """Deep CORAL distance ``||C_a - C_b||_F^2 / (4 D^2)`` between sample covariances.

    a: (N, *), b: (M, *) with N, M >= 2 -> scalar; batched: (B, N, *), (B, M, *) -> (B,).
    ``C`` is the unbiased covariance (divided by N - 1). When D exceeds N + M the squared
    Frobenius norm is computed from the (N, N), (M, M) and (N, M) Gram matrices of the
    centred samples instead of the (D, D) covariances (same value, less memory).
    """
    x, y = sample_sets(a, b, batched=batched, min_samples=2)
    n, m, dim = x.shape[-2], y.shape[-2], x.shape[-1]
    xc = x - x.mean(-2, keepdim=True)
    yc = y - y.mean(-2, keepdim=True)
    if dim <= n + m:
        ca = xc.mT @ xc / (n - 1)
        cb = yc.mT @ yc / (m - 1)
        gap = (ca - cb).square().sum((-2, -1))
    else:
        # ||Xa^T Xa/(n-1) - Xb^T Xb/(m-1)||_F^2 expanded with tr(Xa^T Xa Xb^T Xb) = ||Xa Xb^T||^2.
        gap = (
            (xc @ xc.mT).square().sum((-2, -1)) / (n - 1) ** 2
            + (yc @ yc.mT).square().sum((-2, -1)) / (m - 1) ** 2
            - 2 * (xc @ yc.mT).square().sum((-2, -1)) / ((n - 1) * (m - 1))
        ).clamp(min=0)
    return gap / (4 * dim**2)


class MeanDistance(Distance):
    """Module form of :func:`mean_distance` (no parameters)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a: (N, *), b: (M, *) -> scalar ``||mean(a) - mean(b)||``."""
        return mean_distance(a, b)


class Coral(Distance):
    """Module form of :func:`coral` (no parameters)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a: (N, *), b: (M, *) -> scalar CORAL distance."""
        return coral(a, b)
