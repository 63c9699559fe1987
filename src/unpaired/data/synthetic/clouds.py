"""Point clouds with a known answer, for alignment (``align-toy``).

An asymmetric mixture of three anisotropic 2-D Gaussians: no rotation, reflection or
non-trivial affine map carries it onto itself, so the true affine map between it and
its image is the only affine map that matches the two distributions.

Example:
    >>> import torch
    >>> three_clusters(5, torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
"""

from __future__ import annotations

import torch

__all__ = ["CLUSTER_MEANS", "CLUSTER_SCALES", "CLUSTER_WEIGHTS", "three_clusters"]

CLUSTER_MEANS = ((0.0, 0.0), (2.5, 0.4), (0.6, 2.0))
CLUSTER_WEIGHTS = (0.5, 0.3, 0.2)
CLUSTER_SCALES = ((0.45, 0.15), (0.2, 0.35), (0.3, 0.1))  # per-axis standard deviations


def three_clusters(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) points of the three-cluster mixture (component, then Gaussian noise)."""
    comp = torch.multinomial(
        torch.tensor(CLUSTER_WEIGHTS), n, replacement=True, generator=generator
    )
    noise = torch.randn(n, 2, generator=generator)
    return torch.tensor(CLUSTER_MEANS)[comp] + noise * torch.tensor(CLUSTER_SCALES)[comp]
