"""Dual adversarial distance: strong duality against an independent primal solver (scipy),
envelope-theorem gradients against finite differences, batching, and the failure modes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import torch

from unpaired.distances import (
    DualAdversarialDistance,
    dual_adversarial_distance,
    solve_dual_adversarial,
)


def _primal(a: np.ndarray, b: np.ndarray, lam: float, gram=None):  # type: ignore[no-untyped-def]
    """max_{w, beta} mean_A log s(f) + mean_B log(1 - s(f)) - lam/2 |w|^2 with L-BFGS.

    Linear: f(x) = w.x + beta. Kernel (``gram`` = K of A u B): representer form
    f = K c + beta with |w|^2 = c^T K c. Returns (optimum + 2 log 2, f on A, f on B, beta).
    """
    n = len(a)
    feats = np.concatenate([a, b]) if gram is None else gram
    y = np.concatenate([np.ones(n), -np.ones(len(b))])
    wgt = np.concatenate([np.full(n, 1 / n), np.full(len(b), 1 / len(b))])

    def neg(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, beta = p[:-1], p[-1]
        f = feats @ w + beta
        reg = w @ w if gram is None else w @ gram @ w
        val = -(wgt * np.logaddexp(0, -y * f)).sum() - lam / 2 * reg
        s = wgt * y / (1 + np.exp(y * f))  # d/df of the log-likelihood part
        dreg = w if gram is None else gram @ w
        return -val, -np.append(feats.T @ s - lam * dreg, s.sum())

    res = scipy.optimize.minimize(
        neg,
        np.zeros(feats.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20000},
    )
    f = feats @ res.x[:-1] + res.x[-1]
    return -res.fun + 2 * math.log(2), f[:n], f[n:], res.x[-1]


def _sets(n: int = 40, m: int = 30, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, 3, generator=g, dtype=torch.float64)
    b = torch.randn(m, 3, generator=g, dtype=torch.float64) * 0.8 + torch.tensor(
        [1.0, 0.0, 0.5], dtype=torch.float64
    )
    return a, b


@pytest.mark.parametrize("lam", [0.05, 1.0])
def test_strong_duality_linear(lam: float) -> None:
    a, b = _sets()
    want, fa, fb, beta = _primal(a.numpy(), b.numpy(), lam)
    assert dual_adversarial_distance(a, b, lam=lam).item() == pytest.approx(want, abs=1e-4)
    sol = solve_dual_adversarial(a, b, lam=lam, tol=1e-12)
    assert sol.gap.item() <= 1e-12
    assert dual_adversarial_distance(a, b, lam=lam, tol=1e-12).item() == pytest.approx(
        want, abs=1e-9
    )
    # the dual variables are the discriminator's errors: alpha_A = 1 - D(a), alpha_B = D(b)
    np.testing.assert_allclose(sol.alpha_a.numpy(), 1 / (1 + np.exp(fa)), atol=1e-6)
    np.testing.assert_allclose(sol.alpha_b.numpy(), 1 / (1 + np.exp(-fb)), atol=1e-6)
    assert sol.bias.item() == pytest.approx(beta, abs=1e-5)


def test_strong_duality_rbf_kernel() -> None:
    a, b = _sets(25, 20)
    h, lam = 1.3, 0.1
    z = np.concatenate([a.numpy(), b.numpy()])
    gram = np.exp(-((z[:, None] - z[None]) ** 2).sum(-1) / (2 * h * h))
    want, *_ = _primal(a.numpy(), b.numpy(), lam, gram=gram)
    got = dual_adversarial_distance(a, b, kernel="rbf", lam=lam, bandwidth=h, tol=1e-12)
    assert got.item() == pytest.approx(want, abs=1e-6)


def test_gradient_matches_finite_differences_of_the_primal() -> None:
    a, b = _sets(12, 10)
    lam = 0.3
    at, bt = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    dual_adversarial_distance(at, bt, lam=lam, tol=1e-13).backward()
    assert at.grad is not None and bt.grad is not None
    eps = 1e-5
    for x, grad, which in ((a, at.grad, 0), (b, bt.grad, 1)):
        for i, j in ((0, 0), (3, 2), (7, 1)):
            plus, minus = x.numpy().copy(), x.numpy().copy()
            plus[i, j] += eps
            minus[i, j] -= eps
            args = (
                [(plus, b.numpy()), (minus, b.numpy())]
                if which == 0
                else [(a.numpy(), plus), (a.numpy(), minus)]
            )
            fd = (_primal(*args[0], lam)[0] - _primal(*args[1], lam)[0]) / (2 * eps)
            assert grad[i, j].item() == pytest.approx(fd, abs=1e-7)


def test_linear_kernel_sees_only_means() -> None:
    a = torch.randn(50, 2, dtype=torch.float64)
    b = 3 * torch.randn(60, 2, dtype=torch.float64)
    b = b - b.mean(0) + a.mean(0)  # same mean, different covariance
    assert dual_adversarial_distance(a, b).item() == pytest.approx(0.0, abs=1e-10)
    assert dual_adversarial_distance(a, b, kernel="rbf", lam=0.1).item() > 0.01


def test_value_is_bounded_by_log4() -> None:
    a, b = _sets()
    far = dual_adversarial_distance(a, b + 100.0, lam=1e-3).item()
    assert 1.0 < far <= 2 * math.log(2)


def test_batched_matches_loop() -> None:
    a = torch.randn(3, 20, 2, dtype=torch.float64)
    b = torch.randn(3, 15, 2, dtype=torch.float64) + torch.tensor([[[0.0, 0]], [[1, 0]], [[0, 2]]])
    for kernel in ("linear", "rbf"):
        got = dual_adversarial_distance(a, b, kernel=kernel, batched=True, tol=1e-10)  # type: ignore[arg-type]
        want = torch.stack(
            [dual_adversarial_distance(a[i], b[i], kernel=kernel, tol=1e-10) for i in range(3)]  # type: ignore[arg-type]
        )
        torch.testing.assert_close(got, want)


def test_module_reports_the_gap_and_warns_when_not_converged() -> None:
    a, b = _sets()
    d = DualAdversarialDistance(lam=0.05)
    d(a, b)
    assert d.last_solution is not None and d.last_solution.gap.item() <= d.tol
    with pytest.warns(RuntimeWarning, match="duality gap"):
        sol = solve_dual_adversarial(a, b, lam=0.05, max_iter=1)
    assert sol.gap.item() > 1e-6 and sol.iterations == 1


def test_min_min_alignment_of_a_translation() -> None:
    a, b = _sets(64, 64, seed=3)
    shift = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([shift], lr=2.0)
    for _ in range(60):
        loss = dual_adversarial_distance(a + shift, b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.testing.assert_close(shift.detach(), b.mean(0) - a.mean(0), atol=1e-3, rtol=0)


def test_options_are_validated() -> None:
    a, b = _sets()
    with pytest.raises(ValueError, match="kernel"):
        dual_adversarial_distance(a, b, kernel="poly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lam"):
        dual_adversarial_distance(a, b, lam=0.0)
