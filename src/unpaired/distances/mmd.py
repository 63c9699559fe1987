"""Kernel distances: maximum mean discrepancy (MMD) and the energy distance.

Thesis talk, slide "Solution: Unsupervised Image Translation / Domain Alignment": MMD is
one of the closed-form, model-free distances that are "easy to optimize". Definitions
follow Gretton et al., "A Kernel Two-Sample Test" (JMLR 2012): the biased (V-statistic),
unbiased (U-statistic) and linear-time estimators of MMD^2.
The energy distance (Szekely & Rizzo) is the biased MMD^2 with the distance-induced
kernel ``k(x, y) = -||x - y||`` (Sejdinovic et al. 2013).

Memory: kernel sums are accumulated block by block (``block_size`` rows by
``block_size`` columns at a time) inside a custom ``torch.autograd.Function``. The
forward pass keeps no kernel matrix; the backward pass recomputes each block and applies
the closed-form kernel derivative ``dk/dx_i = 2 k'(r_ij) (x_i - y_j)`` (``r = ||x - y||^2``)
with two matrix products per block, so forward and backward both need
O(block_size^2 + (N + M) D) memory for any N, M (N = M = 50,000 at D = 64: see
``benchmarks/results/distances.json``). The within-set sums use symmetry (only blocks on
or above the diagonal). Per-block sums (torch's cascade summation) are accumulated across
blocks in float64. The backward pass is not itself differentiable (no double backward).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import torch
from torch.autograd.function import once_differentiable

from unpaired.distances._utils import (
    check_option,
    check_positive,
    median_bandwidth,
    sample_sets,
    sq_dists,
)
from unpaired.distances.base import Distance

KernelName = Literal["rbf", "laplacian", "imq", "multiscale"]
Estimator = Literal["biased", "unbiased", "linear"]
KERNELS: tuple[str, ...] = ("rbf", "laplacian", "imq", "multiscale")
ESTIMATORS: tuple[str, ...] = ("biased", "unbiased", "linear")
#: Bandwidths of the "multiscale" kernel, as multiples of the base bandwidth.
MULTISCALE_FACTORS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Default number of rows/columns per block of the kernel matrix.
DEFAULT_BLOCK = 2048


def _safe_sqrt(r: torch.Tensor) -> torch.Tensor:
    """sqrt(r) for r >= 0 whose autograd gradient at r = 0 is 0 instead of inf."""
    return r.clamp_min(torch.finfo(r.dtype).tiny).sqrt()


def _kernel_values_(kernel: str, r: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Kernel values computed in place in ``r`` (no autograd, single scale): saves memory
    traffic in the blockwise forward pass. Same conventions as :func:`_kernel_terms`."""
    if kernel == "distance":
        return r.sqrt_().neg_()
    hs = h[..., 0].reshape(h.shape[:-1] + (1,) * (r.dim() - h.dim() + 1))
    if kernel == "laplacian":
        return r.sqrt_().div_(-hs).exp_()
    if kernel == "imq":
        return r.div_(hs**2).add_(1).rsqrt_()
    return r.mul_(-0.5 / hs**2).exp_()


def _kernel_terms(
    kernel: str, r: torch.Tensor, h: torch.Tensor, *, slope: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Kernel values ``k(r)`` and, with ``slope``, derivatives ``dk/dr`` at squared distances r.

    r: (*batch, ...) squared distances; h: (*batch, S) bandwidths (S scales, summed).
    ``kernel`` is one of :data:`KERNELS` or ``"distance"`` (``k = -sqrt(r)``, energy).
    The derivative is set to 0 where r == 0 for the kernels that are not smooth there.
    """
    if kernel == "distance":
        d = _safe_sqrt(r)
        dk = torch.where(r > 0, -0.5 / d, 0.0) if slope else None
        return -d, dk
    shape = h.shape[:-1] + (1,) * (r.dim() - h.dim() + 1)
    d = _safe_sqrt(r) if kernel == "laplacian" else None
    k = dk = None
    for s in range(h.shape[-1]):
        hs = h[..., s].reshape(shape)
        if kernel in ("rbf", "multiscale"):
            coef = -0.5 / hs**2
            e = (r * coef).exp_()
            de = e * coef if slope else None
        elif kernel == "laplacian":
            assert d is not None
            e = (d / -hs).exp_()
            de = torch.where(r > 0, -e / (2 * hs * d), 0.0) if slope else None
        else:  # imq: (1 + r / h^2)^(-1/2)
            q = 1 + r / hs**2
            e = q.rsqrt()
            de = -0.5 / hs**2 * e / q if slope else None
        k = e if k is None else k + e
        if slope:
            dk = de if dk is None else dk + de
    assert k is not None
    return k, dk


def _blocks(n: int, m: int, size: int, same: bool) -> Iterator[tuple[slice, slice, float]]:
    """(rows, cols, weight) of the blocks to visit; with ``same`` only the upper triangle."""
    for i in range(0, n, size):
        for j in range(i if same else 0, m, size):
            yield (
                slice(i, min(i + size, n)),
                slice(j, min(j + size, m)),
                (2.0 if same and j != i else 1.0),
            )


class _KernelSum(torch.autograd.Function):
    """``sum_{i,j} k(||x_i - y_j||^2)`` in blocks; ``y=None`` means ``y = x`` (symmetric)."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx,
        x: torch.Tensor,
        y: torch.Tensor | None,
        h: torch.Tensor,
        kernel: str,
        block: int,
    ) -> torch.Tensor:
        same = y is None
        yy = x if y is None else y
        ctx.save_for_backward(x, yy, h)
        ctx.kernel, ctx.block, ctx.same = kernel, block, same
        total = x.new_zeros(x.shape[:-2], dtype=torch.float64)
        for rows, cols, w in _blocks(x.shape[-2], yy.shape[-2], block, same):
            r = sq_dists(x[..., rows, :], yy[..., cols, :])
            if same and rows == cols:
                r.diagonal(dim1=-2, dim2=-1).zero_()
            if h.shape[-1] == 1:
                k = _kernel_values_(kernel, r, h)
            else:
                k, _ = _kernel_terms(kernel, r, h, slope=False)
            total += w * k.sum((-2, -1)).double()  # torch's cascade sum; totals in float64
        return total

    @staticmethod
    @once_differentiable
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        x, yy, h = ctx.saved_tensors
        same = ctx.same
        want_x = ctx.needs_input_grad[0]
        want_y = (not same) and ctx.needs_input_grad[1]
        gx = torch.zeros_like(x) if want_x else None
        gy = gx if same else (torch.zeros_like(yy) if want_y else None)
        g = g.to(x.dtype)
        for rows, cols, w in _blocks(x.shape[-2], yy.shape[-2], ctx.block, same):
            xi, yj = x[..., rows, :], yy[..., cols, :]
            r = sq_dists(xi, yj)
            if same and rows == cols:
                r.diagonal(dim1=-2, dim2=-1).zero_()
            _, dk = _kernel_terms(ctx.kernel, r, h, slope=True)
            assert dk is not None
            wmat = dk * (2 * w * g)[..., None, None]
            if gx is not None:
                gx[..., rows, :] += wmat.sum(-1, keepdim=True) * xi - wmat @ yj
            if gy is not None:
                gy[..., cols, :] += wmat.sum(-2)[..., None] * yj - wmat.mT @ xi
        return (gx if want_x else None), (None if same else gy), None, None, None


def kernel_sum(
    x: torch.Tensor,
    y: torch.Tensor | None,
    h: torch.Tensor,
    *,
    kernel: str,
    block_size: int = DEFAULT_BLOCK,
) -> torch.Tensor:
    """Blockwise ``sum_{i,j} k(x_i, y_j)`` (float64), differentiable in ``x`` and ``y``.

    x: (*batch, N, D); y: (*batch, M, D) or None for ``y = x``; h: (*batch, S) bandwidths.
    Returns (*batch,). The diagonal of the symmetric sum uses r = 0 exactly.
    """
    return _KernelSum.apply(x, y, h, kernel, int(block_size))


def _bandwidths(
    kernel: str,
    bandwidth: float | Sequence[float] | None,
    x: torch.Tensor,
    y: torch.Tensor,
) -> torch.Tensor:
    """Bandwidth tensor (*batch, S) for ``kernel``; median heuristic when ``bandwidth`` is None."""
    batch = x.shape[:-2]
    factors = torch.tensor(
        MULTISCALE_FACTORS if kernel == "multiscale" else (1.0,), dtype=x.dtype, device=x.device
    )
    if bandwidth is None:
        return median_bandwidth(x, y)[..., None] * factors
    if isinstance(bandwidth, (int, float)):
        base = check_positive("bandwidth", bandwidth)
        return (base * factors).expand(*batch, -1)
    if kernel != "multiscale":
        raise ValueError(
            f"bandwidth: a sequence of bandwidths needs kernel='multiscale', got {kernel!r}"
        )
    values = [check_positive("bandwidth", v) for v in bandwidth]
    if not values:
        raise ValueError("bandwidth: expected at least one bandwidth")
    return torch.tensor(values, dtype=x.dtype, device=x.device).expand(*batch, -1)


def _center(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Subtract the (detached) midpoint of the two means: translation-invariant kernels are
    unchanged and ``|x|^2 + |y|^2 - 2 x.y`` loses less precision."""
    c = ((x.mean(-2, keepdim=True) + y.mean(-2, keepdim=True)) / 2).detach()
    return x - c, y - c


def _kernel_discrepancy(
    x: torch.Tensor,
    y: torch.Tensor,
    h: torch.Tensor,
    *,
    kernel: str,
    estimator: str,
    block_size: int,
) -> torch.Tensor:
    """MMD^2 estimate from centred sets x (*batch, N, D), y (*batch, M, D) -> (*batch,)."""
    n, m = x.shape[-2], y.shape[-2]
    if estimator == "linear":
        k2 = min(n, m) // 2
        x1, x2 = x[..., 0 : 2 * k2 : 2, :], x[..., 1 : 2 * k2 : 2, :]
        y1, y2 = y[..., 0 : 2 * k2 : 2, :], y[..., 1 : 2 * k2 : 2, :]

        def pair(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            return _kernel_terms(kernel, (u - v).square().sum(-1), h, slope=False)[0]

        return (pair(x1, x2) + pair(y1, y2) - pair(x1, y2) - pair(x2, y1)).mean(-1)
    sxx = kernel_sum(x, None, h, kernel=kernel, block_size=block_size)
    syy = kernel_sum(y, None, h, kernel=kernel, block_size=block_size)
    sxy = kernel_sum(x, y, h, kernel=kernel, block_size=block_size)
    if estimator == "biased":
        value = sxx / n**2 + syy / m**2 - 2 * sxy / (n * m)
    else:
        k0 = 0.0 if kernel == "distance" else float(h.shape[-1])  # k(x, x) per scale = 1
        value = (sxx - n * k0) / (n * (n - 1)) + (syy - m * k0) / (m * (m - 1)) - 2 * sxy / (n * m)
    return value.to(x.dtype)


def _check_block(block_size: int) -> int:
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    return int(block_size)


def mmd(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    kernel: KernelName = "rbf",
    bandwidth: float | Sequence[float] | None = None,
    estimator: Estimator = "biased",
    block_size: int = DEFAULT_BLOCK,
    batched: bool = False,
) -> torch.Tensor:
    """Squared maximum mean discrepancy MMD^2 between ``a`` (N, *) and ``b`` (M, *).

    Kernels, with bandwidth ``h`` and ``r = ||x - y||^2``:

    * ``"rbf"``: ``exp(-r / (2 h^2))`` (same convention as geomloss' ``"gaussian"``);
    * ``"laplacian"``: ``exp(-sqrt(r) / h)``;
    * ``"imq"``: inverse multiquadric ``(1 + r / h^2)^(-1/2)``;
    * ``"multiscale"``: sum of RBFs with bandwidths ``h * MULTISCALE_FACTORS``
      (0.25h .. 4h), or exactly the bandwidths given when ``bandwidth`` is a sequence.

    ``bandwidth=None`` uses the median heuristic: ``h`` = median pairwise Euclidean
    distance of the pooled samples, computed without gradient on a deterministic
    subsample of at most 500 rows of each set (:func:`median_bandwidth`).

    Estimators (Gretton et al. 2012): ``"biased"`` V-statistic (>= 0, exactly 0 for
    identical sets), ``"unbiased"`` U-statistic (can be negative; needs N, M >= 2),
    ``"linear"`` the O(N) linear-time statistic over ``min(N, M) // 2`` disjoint pairs
    (needs N, M >= 2). ``biased``/``unbiased`` are computed in blocks of
    ``block_size`` x ``block_size`` kernel entries (see the module docstring), so memory
    does not grow with N * M.

    Returns a scalar, or (B,) when ``batched`` (inputs (B, N, *), (B, M, *); the median
    bandwidth is then computed per batch element). Differentiable in ``a`` and ``b``; the
    bandwidth is treated as a constant.
    """
    check_option("kernel", kernel, KERNELS)
    check_option("estimator", estimator, ESTIMATORS)
    block = _check_block(block_size)
    x, y = sample_sets(a, b, batched=batched, min_samples=1 if estimator == "biased" else 2)
    x, y = _center(x, y)
    h = _bandwidths(kernel, bandwidth, x, y)
    return _kernel_discrepancy(x, y, h, kernel=kernel, estimator=estimator, block_size=block)


def energy(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    block_size: int = DEFAULT_BLOCK,
    batched: bool = False,
) -> torch.Tensor:
    """Energy distance ``2 E||x - y|| - E||x - x'|| - E||y - y'||`` (V-statistic, >= 0).

    a: (N, *), b: (M, *) -> scalar; batched: (B, N, *), (B, M, *) -> (B,). Equal to the
    biased MMD^2 with kernel ``-||x - y||`` and computed with the same blockwise code.
    Note geomloss' ``SamplesLoss("energy")`` returns half of this value.
    """
    block = _check_block(block_size)
    x, y = sample_sets(a, b, batched=batched)
    x, y = _center(x, y)
    h = x.new_ones((*x.shape[:-2], 1))  # unused by the distance kernel
    return _kernel_discrepancy(x, y, h, kernel="distance", estimator="biased", block_size=block)


class MMD(Distance):
    """Module form of :func:`mmd`; stores the hyperparameters only.

    ``forward(a, b)``: a (N, *), b (M, *) -> scalar MMD^2.
    """

    def __init__(
        self,
        *,
        kernel: KernelName = "rbf",
        bandwidth: float | Sequence[float] | None = None,
        estimator: Estimator = "biased",
        block_size: int = DEFAULT_BLOCK,
    ) -> None:
        super().__init__()
        self.kernel = check_option("kernel", kernel, KERNELS)
        self.estimator = check_option("estimator", estimator, ESTIMATORS)
        self.bandwidth = bandwidth
        self.block_size = _check_block(block_size)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return mmd(
            a,
            b,
            kernel=self.kernel,
            bandwidth=self.bandwidth,
            estimator=self.estimator,
            block_size=self.block_size,
        )

    def extra_repr(self) -> str:
        return f"kernel={self.kernel!r}, estimator={self.estimator!r}, bandwidth={self.bandwidth}"


class Energy(Distance):
    """Module form of :func:`energy`. ``forward(a, b)``: (N, *), (M, *) -> scalar."""

    def __init__(self, *, block_size: int = DEFAULT_BLOCK) -> None:
        super().__init__()
        self.block_size = _check_block(block_size)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return energy(a, b, block_size=self.block_size)
