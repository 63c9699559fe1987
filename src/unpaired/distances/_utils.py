"""Private helpers shared by the distances: argument checks, pairwise distances, bandwidths."""

from __future__ import annotations

import math
from typing import TypeVar

import torch

from unpaired.distances.base import flatten_samples

L = TypeVar("L", bound=str)


def check_option(name: str, value: L, allowed: tuple[str, ...]) -> L:
    """Validate a ``Literal`` string option; raise ``ValueError`` naming it otherwise."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (>= 0 with ``allow_zero``)."""
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def check_sets(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    batched: bool = False,
    min_samples: int = 1,
) -> None:
    """Validate two sample sets ``a`` (N, *) and ``b`` (M, *) (batched: (B, N, *), (B, M, *)).

    Raises ``ValueError`` naming the offending argument for a wrong rank, a non-float
    dtype, too few samples, a per-sample shape (or batch size) of ``b`` that differs from
    ``a``'s, or a dtype/device mismatch.
    """
    lead = 2 if batched else 1
    layout = "(B, N, *)" if batched else "(N, *)"
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() < lead:
            raise ValueError(f"{name}: expected shape {layout}, got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(f"{name}: expected a floating-point tensor, got {x.dtype}")
        if x.shape[lead - 1] < min_samples:
            raise ValueError(
                f"{name}: needs at least {min_samples} sample(s), got shape {tuple(x.shape)}"
            )
    if b.shape[lead:] != a.shape[lead:] or b.shape[: lead - 1] != a.shape[: lead - 1]:
        want = (*a.shape[: lead - 1], "M", *a.shape[lead:])
        raise ValueError(
            f"b: expected shape ({', '.join(map(str, want))}) to match a {tuple(a.shape)}, "
            f"got {tuple(b.shape)}"
        )
    if b.dtype != a.dtype:
        raise ValueError(f"b: dtype {b.dtype} differs from a's dtype {a.dtype}")
    if b.device != a.device:
        raise ValueError(f"b: device {b.device} differs from a's device {a.device}")


def sample_sets(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    batched: bool = False,
    min_samples: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Check ``a``, ``b`` with :func:`check_sets` and flatten them to (N, D), (M, D).

    Batched sets (B, N, *), (B, M, *) become (B, N, D), (B, M, D).
    """
    check_sets(a, b, batched=batched, min_samples=min_samples)
    if batched:
        return a.reshape(a.shape[0], a.shape[1], -1), b.reshape(b.shape[0], b.shape[1], -1)
    return flatten_samples(a), flatten_samples(b)


def sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (..., N, M) between rows of ``x`` (..., N, D), ``y`` (..., M, D).

    Uses ``|x|^2 + |y|^2 - 2 x.y`` (one matrix product) and clamps rounding negatives to 0.
    Works under autograd and inside ``no_grad`` blocks alike.
    """
    x2 = (x * x).sum(-1)
    y2 = (y * y).sum(-1)
    if x.dim() == 2:
        r = torch.addmm(y2[None, :], x, y.T, alpha=-2)
    else:
        r = torch.baddbmm(y2[..., None, :], x, y.mT, alpha=-2)
    return r.add_(x2[..., :, None]).clamp_(min=0)


def median_bandwidth(x: torch.Tensor, y: torch.Tensor, *, max_points: int = 1000) -> torch.Tensor:
    """Median heuristic: the median pairwise Euclidean distance of the pooled samples.

    ``x`` (..., N, D), ``y`` (..., M, D) -> (...). Computed without gradient on a
    deterministic subsample of at most ``max_points // 2`` evenly spaced rows of each set
    (so the result does not depend on the order of ``x`` and ``y``). A zero median
    (all points identical) falls back to 1.
    """
    half = max(max_points // 2, 1)
    with torch.no_grad():
        parts = []
        for z in (x, y):
            n = z.shape[-2]
            idx = torch.linspace(0, n - 1, min(n, half), device=z.device).round().long()
            parts.append(z.index_select(-2, idx))
        p = torch.cat(parts, dim=-2)
        d = sq_dists(p, p).sqrt()
        k = p.shape[-2]
        iu = torch.triu_indices(k, k, offset=1, device=p.device)
        pairs = d[..., iu[0], iu[1]]
        if pairs.shape[-1] == 0:
            return torch.ones(p.shape[:-2], dtype=p.dtype, device=p.device)
        med = pairs.median(dim=-1).values
        return torch.where(med > 0, med, torch.ones_like(med))
