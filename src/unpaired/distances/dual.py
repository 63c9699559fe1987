r"""Dual adversarial distance: the logistic discriminator, dualized (min-min, no adversary).

Thesis talk, slides "Stable Alignment using Dual Adversarial Distance: Our Solution"
(Usman et al., ICLR-W'18). The adversarial loss of an L2-regularized logistic
discriminator ``f(x) = w^T phi(x) + beta`` is, in this library's normalisation
(per-set means, so the sizes N and M do not matter),

.. math::

    P^* = \max_{w,\beta}\; \tfrac1N \sum_{x\in A} \log\sigma(f(x))
          + \tfrac1M \sum_{x\in B} \log(1-\sigma(f(x))) - \tfrac\lambda2 \|w\|^2 .

The bias ``beta`` is included and not regularized (so the discriminator, and the
distance, are invariant to a common translation of A and B). The reported distance is

.. math::  d(A, B) = P^* + 2\log 2 \;\in [0, 2\log 2],

which is 0 iff ``w = 0, beta = 0`` is optimal, i.e. iff the mean embeddings of A and B
coincide (linear kernel: equal means), and tends to ``2 JSD`` for an unrestricted
discriminator without regularization (the logistic GAN value plus ``log 4``).

Derivation of the dual (the slide's, with our weights ``c_i = 1/N`` on A, ``1/M`` on
B and labels ``y_i = +1`` on A, ``-1`` on B). For ``alpha in [0, 1]``,
``log sigma(u) = min_alpha alpha u + H(alpha)`` with
``H(alpha) = alpha log alpha + (1 - alpha) log(1 - alpha)`` (minimizer
``alpha = sigma(-u)``). Substituting and exchanging min and max (Sion), the max over the
free bias forces ``sum_A alpha_i / N = sum_B alpha_j / M`` (the slide's
``||alpha_A||_1 = ||alpha_B||_1`` for N = M), and the max over ``w`` gives
``w* = (1/lambda) sum_i c_i y_i alpha_i phi(x_i)``:

.. math::

    P^* = \min_{\alpha\in[0,1]^{N+M},\ \sum_A \alpha/N = \sum_B \alpha/M}
      \tfrac{1}{2\lambda} v^T K v + \sum_i c_i H(\alpha_i),
    \qquad v_i = c_i y_i \alpha_i ,

with ``K`` the Gram matrix of ``A u B`` (``Q`` on the slide: linear ``x^T x'``, or an RBF
kernel). The slide's form is the same problem with ``alpha`` rescaled by ``1/lambda``.

The inner problem is strictly convex (the entropy keeps ``alpha`` inside (0, 1)); it is
solved per batch by an equality-constrained Newton method with fraction-to-boundary
steps and Armijo backtracking, in float64, batched over B (no loop over samples), until
the duality gap ``F(alpha) - P(w(alpha), beta)`` (``beta`` maximized for
``w(alpha)``) is below ``tol``. Each Newton step costs O((N + M)^3): this is meant for
minibatches. The value is then recomputed from the inputs with ``alpha`` held fixed
(detached), so its gradient w.r.t. A and B is the envelope-theorem gradient and the
alignment problem ``min_T d(T(A), B)`` is a min-min problem.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F

from unpaired.distances._utils import (
    check_option,
    check_positive,
    median_bandwidth,
    sample_sets,
    sq_dists,
)
from unpaired.distances.base import Distance

DualKernel = Literal["linear", "rbf"]
DUAL_KERNELS: tuple[str, ...] = ("linear", "rbf")
LOG4 = 2 * math.log(2.0)


@dataclass(frozen=True)
class DualSolution:
    """Solution of the inner dual problem (batch shape () or (B,) as the inputs).

    ``alpha_a`` (N,) / (B, N) and ``alpha_b`` (M,) / (B, M) in (0, 1): the optimal dual
    variables (``1 - D(x)`` on A and ``D(x)`` on B for the optimal discriminator ``D``).
    ``bias``: the discriminator's optimal bias. ``gap``: the duality gap reached (nats,
    >= 0; the value is within ``gap`` of the exact optimum). ``bandwidth``: the RBF
    bandwidth used (None for the linear kernel). ``iterations``: Newton steps taken.
    """

    alpha_a: torch.Tensor
    alpha_b: torch.Tensor
    bias: torch.Tensor
    gap: torch.Tensor
    bandwidth: torch.Tensor | None
    iterations: int


def _gram(kernel: str, x: torch.Tensor, y: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
    """(B, N, D), (B, M, D) -> (B, N, M) Gram matrix; ``h`` (B,) RBF bandwidths."""
    if kernel == "linear":
        return x @ y.mT
    assert h is not None
    return torch.exp(-sq_dists(x, y) / (2 * h[:, None, None] ** 2))


def _neg_entropy(alpha: torch.Tensor) -> torch.Tensor:
    """``H(alpha) = alpha log alpha + (1 - alpha) log(1 - alpha)`` elementwise."""
    return torch.special.xlogy(alpha, alpha) + torch.special.xlogy(1 - alpha, 1 - alpha)


class _Problem:
    """The dual objective ``F(alpha) = v^T K v / (2 lam) + sum_i c_i H(alpha_i)`` (batched)."""

    def __init__(self, gram: torch.Tensor, n: int, m: int, lam: float) -> None:
        self.K, self.lam = gram, lam
        dt, dev = gram.dtype, gram.device
        self.c = torch.cat(
            [
                torch.full((n,), 1.0 / n, dtype=dt, device=dev),
                torch.full((m,), 1.0 / m, dtype=dt, device=dev),
            ]
        )
        self.y = torch.cat(
            [torch.ones(n, dtype=dt, device=dev), -torch.ones(m, dtype=dt, device=dev)]
        )
        self.cy = self.c * self.y  # the equality constraint is cy^T alpha = 0
        # Hessian of the quadratic term (constant): K o (cy cy^T) / lam.
        self.quad_hess = gram * (self.cy[:, None] * self.cy[None, :]) / lam

    def scores(self, alpha: torch.Tensor) -> torch.Tensor:
        """``(K v)_i / lam``: the discriminator's logit without bias at every point (B, n)."""
        return (self.K @ (self.cy * alpha)[..., None])[..., 0] / self.lam

    def objective(self, alpha: torch.Tensor) -> torch.Tensor:
        v = self.cy * alpha
        quad = (v * (self.K @ v[..., None])[..., 0]).sum(-1) / (2 * self.lam)
        return quad + (self.c * _neg_entropy(alpha)).sum(-1)

    def newton_direction(self, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Newton step on ``{cy^T d = 0}`` and the directional derivative ``grad^T d``."""
        grad = self.cy * self.scores(alpha) + self.c * (alpha.log() - (1 - alpha).log())
        hess = self.quad_hess + torch.diag_embed(self.c / (alpha * (1 - alpha)))
        chol = torch.linalg.cholesky(hess)
        rhs = torch.stack([grad, self.cy.expand_as(grad)], dim=-1)
        sol = torch.cholesky_solve(rhs, chol)
        p, q = sol[..., 0], sol[..., 1]
        nu = -(self.cy * p).sum(-1) / (self.cy * q).sum(-1)
        step = -(p + nu[:, None] * q)
        return step, (grad * step).sum(-1)

    def primal_gap(
        self, alpha: torch.Tensor, bias: torch.Tensor, iters: int = 30
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Duality gap ``F(alpha) - max_beta P(w(alpha), beta)`` and that best ``beta`` (B,).

        ``w(alpha) = sum_i c_i y_i alpha_i phi(x_i) / lam``; ``beta`` is found by Newton's
        method on the concave 1-D problem, warm-started at ``bias``.
        """
        u = self.scores(alpha)
        for _ in range(iters):
            margin = self.y * (u + bias[:, None])
            d1 = (self.c * self.y * torch.sigmoid(-margin)).sum(-1)
            d2 = (self.c * torch.sigmoid(margin) * torch.sigmoid(-margin)).sum(-1)
            step = (d1 / d2.clamp_min(1e-300)).clamp(-5.0, 5.0)
            bias = bias + step
            if bool((step.abs() <= 1e-13 * (1 + bias.abs())).all()):
                break  # converged (Newton on a smooth concave 1-D problem)
        v = self.cy * alpha
        quad = (v * u).sum(-1) / 2  # v^T K v / (2 lam)
        primal = (self.c * F.logsigmoid(self.y * (u + bias[:, None]))).sum(-1) - quad
        return self.objective(alpha) - primal, bias


def _solve(
    problem: _Problem, batch: int, tol: float, max_iter: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Newton's method from ``alpha = 1/2`` (feasible) until every gap <= tol."""
    n = problem.c.shape[0]
    alpha = problem.K.new_full((batch, n), 0.5)
    bias = problem.K.new_zeros(batch)
    gap, bias = problem.primal_gap(alpha, bias)
    it = 0
    while it < max_iter and bool((gap > tol).any()):
        step, slope = problem.newton_direction(alpha)
        # Largest step keeping alpha in (0, 1), then backtrack (Armijo, c = 1/4).
        room = torch.where(
            step < 0, -alpha / step, torch.where(step > 0, (1 - alpha) / step, torch.inf)
        )
        t = (0.99 * room.amin(-1)).clamp(max=1.0)
        f0 = problem.objective(alpha)
        accepted = torch.zeros(batch, dtype=torch.bool, device=alpha.device)
        for _ in range(60):
            trial = alpha + t[:, None] * step
            ok = problem.objective(trial) <= f0 + 0.25 * t * slope
            accepted |= ok
            if bool(accepted.all()):
                break
            t = torch.where(accepted, t, t / 2)
        alpha = torch.where(accepted[:, None], alpha + t[:, None] * step, alpha)
        gap, bias = problem.primal_gap(alpha, bias)
        it += 1
    return alpha, bias, gap, it


def solve_dual_adversarial(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    kernel: DualKernel = "linear",
    lam: float = 1.0,
    bandwidth: float | None = None,
    tol: float = 1e-6,
    max_iter: int = 50,
    batched: bool = False,
) -> DualSolution:
    """Solve the inner dual problem of the dual adversarial distance (no gradient).

    a: (N, *), b: (M, *) (batched: (B, N, *), (B, M, *)). ``kernel``: ``"linear"`` or
    ``"rbf"`` (``exp(-||x - y||^2 / (2 h^2))``, ``h = bandwidth`` or the median heuristic
    of :func:`unpaired.distances.mmd.median_bandwidth`). ``lam``: the L2 weight lambda.
    Stops when the duality gap is <= ``tol`` (nats) or after ``max_iter`` Newton steps
    (with a warning naming the gap reached). The value is then within ``gap`` of the
    exact optimum, and ``alpha`` (hence the envelope gradient) within O(sqrt(gap)) by
    strong convexity; Newton converges quadratically, so a smaller ``tol`` costs one or
    two more steps.
    """
    check_option("kernel", kernel, DUAL_KERNELS)
    lam = check_positive("lam", lam)
    check_positive("tol", tol)
    x, y = sample_sets(a, b, batched=batched)
    if not batched:
        x, y = x[None], y[None]
    n, m = x.shape[1], y.shape[1]
    with torch.no_grad():
        z = torch.cat([x, y], dim=1).double()
        center = z.mean(1, keepdim=True)
        z = z - center
        h = None
        if kernel == "rbf":
            if bandwidth is None:
                h = median_bandwidth(z[:, :n], z[:, n:])
            else:
                h = z.new_full((z.shape[0],), check_positive("bandwidth", bandwidth))
        problem = _Problem(_gram(kernel, z, z, h), n, m, lam)
        alpha, bias, gap, it = _solve(problem, z.shape[0], tol, int(max_iter))
        if kernel == "linear":  # undo the centring: f(x) = w^T (x - center) + bias
            w = ((problem.cy * alpha)[..., None] * z).sum(1) / lam
            bias = bias - (w * center[:, 0]).sum(-1)
    if bool((gap > tol).any()):
        warnings.warn(
            f"dual adversarial distance: duality gap {gap.max().item():.3g} > tol={tol:g} "
            f"after max_iter={max_iter} Newton steps",
            RuntimeWarning,
            stacklevel=2,
        )
    squeeze = (lambda t: t) if batched else (lambda t: t[0])
    return DualSolution(
        alpha_a=squeeze(alpha[:, :n]).to(x.dtype),
        alpha_b=squeeze(alpha[:, n:]).to(x.dtype),
        bias=squeeze(bias).to(x.dtype),
        gap=squeeze(gap).to(x.dtype),
        bandwidth=None if h is None else squeeze(h).to(x.dtype),
        iterations=it,
    )


def dual_value(
    a: torch.Tensor,
    b: torch.Tensor,
    solution: DualSolution,
    *,
    kernel: DualKernel = "linear",
    lam: float = 1.0,
    batched: bool = False,
) -> torch.Tensor:
    """``d(A, B)`` from a :class:`DualSolution`, differentiable in ``a`` and ``b``.

    ``alpha`` is held fixed (envelope theorem): the gradient is exact at the optimum and
    within O(gap) of it otherwise. Returns a scalar, or (B,) when ``batched``.
    """
    check_option("kernel", kernel, DUAL_KERNELS)
    lam = check_positive("lam", lam)
    x, y = sample_sets(a, b, batched=batched)
    if not batched:
        x, y = x[None], y[None]
    n, m = x.shape[1], y.shape[1]
    alpha_a, alpha_b = solution.alpha_a.detach(), solution.alpha_b.detach()
    if not batched:
        alpha_a, alpha_b = alpha_a[None], alpha_b[None]
    alpha = torch.cat([alpha_a, alpha_b], dim=1).to(x.dtype)
    z = torch.cat([x, y], dim=1)
    z = z - z.mean(1, keepdim=True).detach()
    v = torch.cat([alpha[:, :n] / n, -alpha[:, n:] / m], dim=1)
    if kernel == "linear":
        quad = (v[..., None] * z).sum(1).square().sum(-1)
    else:
        assert solution.bandwidth is not None
        h = solution.bandwidth.detach().to(x.dtype).reshape(-1)
        quad = (v * (_gram("rbf", z, z, h) @ v[..., None])[..., 0]).sum(-1)
    c = torch.cat([x.new_full((n,), 1.0 / n), x.new_full((m,), 1.0 / m)])
    value = quad / (2 * lam) + (c * _neg_entropy(alpha)).sum(-1) + LOG4
    return value if batched else value[0]


def dual_adversarial_distance(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    kernel: DualKernel = "linear",
    lam: float = 1.0,
    bandwidth: float | None = None,
    tol: float = 1e-6,
    max_iter: int = 50,
    batched: bool = False,
) -> torch.Tensor:
    """Dual adversarial distance ``d(A, B) = 2 log 2 + P*`` (see the module docstring).

    a: (N, *), b: (M, *) -> scalar in [0, 2 log 2]; batched: (B, N, *), (B, M, *) -> (B,).
    Solves the inner problem with :func:`solve_dual_adversarial` and differentiates with
    :func:`dual_value` (envelope theorem).
    """
    sol = solve_dual_adversarial(
        a,
        b,
        kernel=kernel,
        lam=lam,
        bandwidth=bandwidth,
        tol=tol,
        max_iter=max_iter,
        batched=batched,
    )
    return dual_value(a, b, sol, kernel=kernel, lam=lam, batched=batched)


class DualAdversarialDistance(Distance):
    """Module form of :func:`dual_adversarial_distance` (no learned parameters).

    ``forward(a, b)``: a (N, *), b (M, *) -> scalar. After each call,
    ``last_solution`` holds the :class:`DualSolution` (duality gap, Newton steps), for
    logging.
    """

    symmetric: ClassVar[bool] = True

    def __init__(
        self,
        *,
        kernel: DualKernel = "linear",
        lam: float = 1.0,
        bandwidth: float | None = None,
        tol: float = 1e-6,
        max_iter: int = 50,
    ) -> None:
        super().__init__()
        self.kernel = check_option("kernel", kernel, DUAL_KERNELS)
        self.lam = check_positive("lam", lam)
        self.bandwidth = None if bandwidth is None else check_positive("bandwidth", bandwidth)
        self.tol = check_positive("tol", tol)
        self.max_iter = int(max_iter)
        self.last_solution: DualSolution | None = None

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        sol = solve_dual_adversarial(
            a,
            b,
            kernel=self.kernel,
            lam=self.lam,
            bandwidth=self.bandwidth,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        self.last_solution = sol
        return dual_value(a, b, sol, kernel=self.kernel, lam=self.lam)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel!r}, lam={self.lam}, tol={self.tol}, max_iter={self.max_iter}"
