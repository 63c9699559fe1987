"""Optimal-transport distances: Sinkhorn divergence (geomloss), exact EMD (POT), sliced
Wasserstein.

Thesis talk, slide "Solution: Unsupervised Image Translation / Domain Alignment": EMD is
one of the closed-form, model-free distances (the "Monge-Kantorovich" family). All three
compare uniformly weighted sample sets.
"""

from __future__ import annotations

import math
from typing import Literal

import ot
import torch
from geomloss import SamplesLoss

from unpaired.distances._utils import check_option, check_positive, sample_sets, sq_dists
from unpaired.distances.base import Distance

Backend = Literal["tensorized", "online", "multiscale"]
BACKENDS: tuple[str, ...] = ("tensorized", "online", "multiscale")


def _check_sinkhorn_args(blur: float, p: int, scaling: float, backend: str) -> None:
    check_positive("blur", blur)
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    if not 0 < scaling < 1:
        raise ValueError(f"scaling must be in (0, 1), got {scaling!r}")
    check_option("backend", backend, BACKENDS)


Solver = Literal["log", "geomloss"]
SOLVERS: tuple[str, ...] = ("log", "geomloss")


def sinkhorn(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    blur: float = 0.05,
    p: int = 2,
    scaling: float = 0.9,
    backend: Backend = "tensorized",
    batched: bool = False,
    solver: Solver = "log",
    tol: float = 1e-5,
    max_iter: int = 2000,
) -> torch.Tensor:
    """Debiased Sinkhorn divergence ``S_eps(a, b)``.

    ``S_eps = OT_eps(a, b) - OT_eps(a, a) / 2 - OT_eps(b, b) / 2`` where ``OT_eps`` is
    entropic OT with cost ``C(x, y) = ||x - y||^p / p`` (geomloss' convention, so p = 2
    gives half the squared distance), temperature ``eps = blur^p`` and the entropy
    measured as ``KL(P | a x b)``. It is >= 0, 0 for identical sets, and tends to
    ``W_p^p / p`` as ``blur -> 0``.

    ``solver="log"`` (default, ``backend="tensorized"``): log-domain Sinkhorn in torch
    (:func:`_sinkhorn_log`): epsilon-scaling from the data's diameter (:func:`_diameter`)
    down to ``blur`` by factors ``scaling`` (symmetric, averaged updates as in geomloss),
    then Sinkhorn iterations at the final ``eps`` until every dual potential moves by
    less than ``tol * eps`` in one iteration (at most ``max_iter``). With the defaults
    it agrees with POT's ``sinkhorn2(method="sinkhorn_log")`` to better than 1e-6 relative
    (``benchmarks/distances.py``). ``solver="geomloss"``: geomloss ``SamplesLoss``
    with the same schedule and no final iterations (the library's earlier default, 1e-4
    to 2e-4 from POT at ``scaling=0.9``; "online"/"multiscale" backends need pykeops).

    a: (N, *), b: (M, *) -> scalar; batched: (B, N, *), (B, M, *) -> (B,).
    Gradients (both inputs): envelope theorem on the final potentials (one last
    differentiable Sinkhorn step, as geomloss).
    """
    _check_sinkhorn_args(blur, p, scaling, backend)
    check_option("solver", solver, SOLVERS)
    x, y = sample_sets(a, b, batched=batched)
    if solver == "log" and backend == "tensorized":
        check_positive("tol", tol)
        out = _sinkhorn_log(
            x if batched else x[None],
            y if batched else y[None],
            blur,
            p,
            scaling,
            tol,
            int(max_iter),
        )
        return out if batched else out[0]
    loss = SamplesLoss(
        "sinkhorn",
        p=p,
        blur=blur,
        scaling=scaling,
        debias=True,
        backend=backend,
        diameter=_diameter(x, y),
    )
    return loss(x.contiguous(), y.contiguous())


def _ot_cost(x: torch.Tensor, y: torch.Tensor, p: int) -> torch.Tensor:
    """``||x - y||^p / p`` (B, N, M) of (B, N, D), (B, M, D)."""
    return sq_dists(x, y) / 2 if p == 2 else torch.cdist(x, y)


def _softmin(eps: float, cost: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``-eps log sum_j exp(h_j - C_ij / eps)``: (B, N, M), (B, M) -> (B, N)."""
    return -eps * torch.logsumexp(h[:, None, :] - cost / eps, dim=-1)


def _sinkhorn_log(
    x: torch.Tensor, y: torch.Tensor, blur: float, p: int, scaling: float, tol: float, max_iter: int
) -> torch.Tensor:
    """Batched debiased Sinkhorn divergence (B,) of (B, N, D), (B, M, D); see :func:`sinkhorn`."""
    n, m = x.shape[1], y.shape[1]
    la = x.new_full((x.shape[0], n), -math.log(n))
    lb = y.new_full((y.shape[0], m), -math.log(m))
    eps_final = blur**p
    with torch.no_grad():
        xd, yd = x.detach(), y.detach()
        c_xy, c_xx, c_yy = _ot_cost(xd, yd, p), _ot_cost(xd, xd, p), _ot_cost(yd, yd, p)
        c_yx = c_xy.mT
        diameter = _diameter(xd, yd)
        eps_list = (
            [diameter**p]
            + [
                math.exp(e)
                for e in torch.arange(
                    p * math.log(diameter), p * math.log(blur), p * math.log(scaling)
                ).tolist()
            ]
            + [eps_final]
        )
        eps = eps_list[0]
        f_ba, g_ab = _softmin(eps, c_xy, lb), _softmin(eps, c_yx, la)
        f_aa, g_bb = _softmin(eps, c_xx, la), _softmin(eps, c_yy, lb)
        for eps in eps_list:  # epsilon-scaling, symmetric averaged updates (geomloss)
            ft_ba = _softmin(eps, c_xy, lb + g_ab / eps)
            gt_ab = _softmin(eps, c_yx, la + f_ba / eps)
            ft_aa = _softmin(eps, c_xx, la + f_aa / eps)
            gt_bb = _softmin(eps, c_yy, lb + g_bb / eps)
            f_ba, g_ab = (f_ba + ft_ba) / 2, (g_ab + gt_ab) / 2
            f_aa, g_bb = (f_aa + ft_aa) / 2, (g_bb + gt_bb) / 2
        eps = eps_final
        for _ in range(max_iter):  # converge at the final temperature
            f_new = _softmin(eps, c_xy, lb + g_ab / eps)
            g_new = _softmin(eps, c_yx, la + f_new / eps)
            fa_new = (f_aa + _softmin(eps, c_xx, la + f_aa / eps)) / 2
            gb_new = (g_bb + _softmin(eps, c_yy, lb + g_bb / eps)) / 2
            delta = max(
                float((f_new - f_ba).abs().max()),
                float((g_new - g_ab).abs().max()),
                float((fa_new - f_aa).abs().max()),
                float((gb_new - g_bb).abs().max()),
            )
            f_ba, g_ab, f_aa, g_bb = f_new, g_new, fa_new, gb_new
            if delta < tol * eps:
                break
    # one differentiable step from the detached potentials (envelope theorem); the
    # symmetric terms see one argument detached so that their gradient is that of OT/2
    f_ba = _softmin(eps, _ot_cost(x, yd, p), lb + g_ab / eps)
    g_ab = _softmin(eps, _ot_cost(y, xd, p), la + f_ba.detach() / eps)
    f_aa = _softmin(eps, _ot_cost(x, xd, p), la + f_aa / eps)
    g_bb = _softmin(eps, _ot_cost(y, yd, p), lb + g_bb / eps)
    return (f_ba - f_aa).mean(-1) + (g_ab - g_bb).mean(-1)


def _diameter(x: torch.Tensor, y: torch.Tensor) -> float:
    """An upper bound on every pairwise distance of x (..., N, D) and y (..., M, D).

    ``2 max_i ||z_i - mean||`` over the pooled points (triangle inequality). In high
    dimension it is much tighter than the bounding-box diagonal geomloss uses by default,
    so epsilon-scaling starts lower and needs fewer iterations for the same ``scaling``.
    """
    with torch.no_grad():
        z = torch.cat([x, y], dim=-2)
        radius = torch.linalg.vector_norm(z - z.mean(-2, keepdim=True), dim=-1).max()
        return max(2 * radius.item(), 1e-12)


def _check_p(p: float) -> None:
    if not p >= 1:
        raise ValueError(f"p must be >= 1, got {p!r}")


def _cost(x: torch.Tensor, y: torch.Tensor, p: float) -> torch.Tensor:
    """Ground cost ``||x - y||^p`` (N, M)."""
    return sq_dists(x, y) if p == 2 else torch.cdist(x, y) ** p


def emd(a: torch.Tensor, b: torch.Tensor, *, p: float = 2, max_iter: int = 100_000) -> torch.Tensor:
    """Exact optimal-transport cost ``min_P <P, C>`` with ``C = ||x - y||^p`` (i.e. W_p^p).

    a: (N, *), b: (M, *), uniform weights -> scalar. Solved with POT's network simplex
    ``ot.emd2`` (O(N^3); meant for sets of up to a few thousand points). The gradient
    w.r.t. the cost matrix is the optimal plan (envelope theorem, POT's torch backend);
    autograd carries it on to ``a`` and ``b``. ``max_iter`` bounds the simplex
    iterations (POT warns when it is reached).
    """
    _check_p(p)
    x, y = sample_sets(a, b)
    n, m = x.shape[0], y.shape[0]
    wa = torch.full((n,), 1.0 / n, dtype=x.dtype, device=x.device)
    wb = torch.full((m,), 1.0 / m, dtype=x.dtype, device=x.device)
    return ot.emd2(wa, wb, _cost(x, y, p), numItermax=int(max_iter))


def _quantile_pairs(n: int, m: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Exact coupling of two sorted uniform 1-D samples of sizes n and m.

    The quantile functions are piecewise constant with breaks at i/n and j/m; over each
    interval between consecutive breaks both are constant. Returns (index into the n
    sorted values, index into the m sorted values, interval length), each (n + m,).
    """
    t = (
        torch.cat(
            [
                torch.arange(1, n + 1, dtype=torch.float64, device=device) / n,
                torch.arange(1, m + 1, dtype=torch.float64, device=device) / m,
            ]
        )
        .sort()
        .values
    )
    width = torch.diff(t, prepend=t.new_zeros(1))
    mid = t - width / 2
    ia = (mid * n).floor().long().clamp_(max=n - 1)
    ib = (mid * m).floor().long().clamp_(max=m - 1)
    return ia, ib, width


def sliced_wasserstein(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    projections: int = 128,
    p: float = 2,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sliced Wasserstein ``SW_p^p``: mean over random unit directions of the exact 1-D W_p^p.

    a: (N, *), b: (M, *) -> scalar. ``projections`` directions are drawn from a Gaussian
    (with ``generator``, on the inputs' device) and normalised. For N == M the 1-D cost
    compares sorted projections; otherwise it integrates the difference of the two
    quantile functions exactly. ``SW_p`` itself is this value to the power 1/p (what
    ``ot.sliced_wasserstein_distance`` returns).
    """
    _check_p(p)
    if int(projections) != projections or projections < 1:
        raise ValueError(f"projections must be a positive integer, got {projections!r}")
    x, y = sample_sets(a, b)
    n, m, dim = x.shape[0], y.shape[0], x.shape[1]
    theta = torch.randn(dim, int(projections), generator=generator, dtype=x.dtype, device=x.device)
    theta = theta / torch.linalg.vector_norm(theta, dim=0, keepdim=True)
    px = (x @ theta).sort(dim=0).values
    py = (y @ theta).sort(dim=0).values
    if n == m:
        return (px - py).abs().pow(p).mean()
    ia, ib, width = _quantile_pairs(n, m, x.device)
    cost = (px[ia] - py[ib]).abs().pow(p)
    return (cost * width.to(x.dtype)[:, None]).sum(0).mean()


class Sinkhorn(Distance):
    """Module form of :func:`sinkhorn` (stores the hyperparameters)."""

    def __init__(
        self,
        *,
        blur: float = 0.05,
        p: int = 2,
        scaling: float = 0.9,
        backend: Backend = "tensorized",
        solver: Solver = "log",
        tol: float = 1e-5,
        max_iter: int = 2000,
    ) -> None:
        super().__init__()
        _check_sinkhorn_args(blur, p, scaling, backend)
        check_option("solver", solver, SOLVERS)
        self.blur, self.p, self.scaling, self.backend = blur, p, scaling, backend
        self.solver, self.tol, self.max_iter = solver, check_positive("tol", tol), max_iter

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a: (N, *), b: (M, *) -> scalar Sinkhorn divergence."""
        return sinkhorn(
            a,
            b,
            blur=self.blur,
            p=self.p,
            scaling=self.scaling,
            backend=self.backend,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
        )


class EMD(Distance):
    """Module form of :func:`emd` (exact W_p^p)."""

    def __init__(self, *, p: float = 2, max_iter: int = 100_000) -> None:
        super().__init__()
        _check_p(p)
        self.p, self.max_iter = p, max_iter

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a: (N, *), b: (M, *) -> scalar exact OT cost."""
        return emd(a, b, p=self.p, max_iter=self.max_iter)


class SlicedWasserstein(Distance):
    """Module form of :func:`sliced_wasserstein`; new random directions every call
    (from ``generator``, else the global RNG)."""

    def __init__(
        self, *, projections: int = 128, p: float = 2, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.projections, self.p, self.generator = projections, p, generator

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a: (N, *), b: (M, *) -> scalar SW_p^p."""
        return sliced_wasserstein(
            a, b, projections=self.projections, p=self.p, generator=self.generator
        )
