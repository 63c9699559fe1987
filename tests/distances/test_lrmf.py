"""LRMF: Gaussian closed form vs scipy likelihoods, Theorem 2.3 / Lemma 2.2 for affine maps,
the flow version's API (log-determinants, private fits) and its failure signal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import zuko
from scipy.stats import multivariate_normal

from unpaired.distances import FlowLRMF, GaussianLRMF, gaussian_lrmf, push_forward


def _fit(x: np.ndarray):  # type: ignore[no-untyped-def]
    return multivariate_normal(x.mean(0), np.cov(x, rowvar=False, bias=True))


def _loglik(model, x: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    return float(model.logpdf(x).mean())


def _gaussians(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.4, 0.0], [0.0, 0.8, 0.2], [0.0, 0.0, 1.3]])
    b = rng.normal(size=(n, 3)) * [0.5, 1.0, 2.0] + [1.0, -1.0, 0.5]
    return a, b


def test_gaussian_lrmf_is_the_likelihood_ratio_of_mle_fits() -> None:
    a, b = _gaussians()
    shared = _fit(np.concatenate([a, b]))  # N == M: the pooled MLE is the equal-weight one
    want = _loglik(_fit(a), a) + _loglik(_fit(b), b) - _loglik(shared, a) - _loglik(shared, b)
    got = gaussian_lrmf(torch.tensor(a), torch.tensor(b), eps=0.0).item()
    assert got == pytest.approx(want, rel=1e-9)
    assert GaussianLRMF(eps=0.0)(torch.tensor(b), torch.tensor(a)).item() == pytest.approx(
        want, rel=1e-9
    )


def test_theorem_2_3_is_exact_for_gaussians_and_affine_maps() -> None:
    # L = -log|det W| - E log p_S(T(A)) - E log p_S(B) + c(A, B), with private models fit
    # to the untransformed A and to B, equals d_LR(T(A), B) (Lemma 2.2 with E_bias = 0).
    a, b = _gaussians(seed=1)
    w = np.array([[0.5, 0.1, 0.0], [-0.2, 1.5, 0.3], [0.0, 0.4, 0.9]])
    ta = a @ w.T + [0.3, -0.7, 1.0]
    shared = _fit(np.concatenate([ta, b]))
    c = _loglik(_fit(a), a) + _loglik(_fit(b), b)
    loss = -np.log(abs(np.linalg.det(w))) - _loglik(shared, ta) - _loglik(shared, b) + c
    assert gaussian_lrmf(torch.tensor(ta), torch.tensor(b), eps=0.0).item() == pytest.approx(
        loss, rel=1e-9
    )


def test_minimizing_gaussian_lrmf_matches_mean_and_covariance() -> None:
    a, b = (torch.tensor(x) for x in _gaussians(seed=2))
    w = torch.eye(3, dtype=torch.float64, requires_grad=True)
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, t],
        max_iter=200,
        tolerance_grad=1e-12,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = gaussian_lrmf(a @ w.T + t, b, eps=0.0)
        loss.backward()
        return loss

    opt.step(closure)
    ta = (a @ w.T + t).detach()
    assert gaussian_lrmf(ta, b, eps=0.0).item() < 1e-8
    torch.testing.assert_close(ta.mean(0), b.mean(0), atol=1e-4, rtol=0)
    torch.testing.assert_close(torch.cov(ta.T), torch.cov(b.T), atol=1e-4, rtol=0)


def test_batched_gaussian_lrmf() -> None:
    a, b = torch.randn(2, 30, 3, dtype=torch.float64), torch.randn(2, 25, 3, dtype=torch.float64)
    want = torch.stack([gaussian_lrmf(a[i], b[i]) for i in range(2)])
    torch.testing.assert_close(gaussian_lrmf(a, b, batched=True), want)


def _autograd_logdet(fn, x: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    return torch.stack(
        [torch.linalg.slogdet(torch.autograd.functional.jacobian(fn, xi))[1] for xi in x]
    )


def test_push_forward_log_determinants() -> None:
    x = torch.randn(5, 3)
    lazy = zuko.flows.MAF(3, transforms=2, hidden_features=(8,))
    ta, ladj = push_forward(lazy.transform, x)
    t = lazy.transform()
    torch.testing.assert_close(ta, t(x))
    torch.testing.assert_close(ladj, _autograd_logdet(t, x), atol=1e-4, rtol=1e-4)
    affine = torch.distributions.AffineTransform(
        loc=torch.tensor([1.0, 0.0, 2.0]), scale=torch.tensor([2.0, 0.5, 3.0])
    )
    ta, ladj = push_forward(affine, x)
    torch.testing.assert_close(ladj, torch.full((5,), float(np.log(3.0))))


def test_flow_lrmf_api_contract() -> None:
    a, b = torch.randn(64, 2), torch.randn(64, 2) + 1
    d = FlowLRMF(2, flow="realnvp", transforms=1, hidden=(8,))
    with pytest.raises(RuntimeError, match="fit_private"):
        d(a, b, logdet=torch.zeros(64))
    c = d.fit_private(a, b, steps=10)
    assert torch.isfinite(c) and d.private_loglik.item() == c.item()
    with pytest.raises(ValueError, match=r"^logdet"):
        d(a, b, logdet=torch.zeros(63))
    with pytest.raises(ValueError, match=r"^ta: expected samples with 2 features"):
        d(torch.randn(64, 3), torch.randn(64, 3), logdet=torch.zeros(64))
    # the critic loss trains only the shared model: no gradient flows into T(A)
    ta = a.clone().requires_grad_(True)
    d.critic_loss(ta, b).backward()
    assert ta.grad is None
    # the generator loss carries T's log-determinant: d L / d logdet = -1 / N
    logdet = torch.zeros(64, requires_grad=True)
    d.generator_loss(ta, b, logdet=logdet).backward()
    torch.testing.assert_close(logdet.grad, torch.full((64,), -1 / 64))
    assert ta.grad is not None and ta.grad.abs().sum() > 0


def _fitted_flow_lrmf(a: torch.Tensor, b: torch.Tensor, steps: int) -> FlowLRMF:
    d = FlowLRMF(2, flow="maf", transforms=2, hidden=(16,))
    d.fit_private(a, b, steps=2 * steps, lr=1e-2)
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = d.critic_loss(a, b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return d


def test_flow_lrmf_gives_an_explicit_failure_signal() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(256, 2, generator=g)
    same = torch.randn(256, 2, generator=g)
    other = torch.randn(256, 2, generator=g) * torch.tensor([0.5, 1.5]) + torch.tensor([1.5, 0.0])
    zero = torch.zeros(256)
    aligned = _fitted_flow_lrmf(a, same, 150)(a, same, logdet=zero).item()
    failed = _fitted_flow_lrmf(a, other, 150)(a, other, logdet=zero).item()
    gauss = gaussian_lrmf(a, other).item()
    # Two samples of one distribution: only the private models' overfitting (~0.1 nats
    # here); a clear mismatch: about the Gaussian likelihood ratio (0.83 nats).
    assert abs(aligned) < 0.3
    assert failed > 0.6 and failed == pytest.approx(gauss, abs=0.2)


def test_flow_lrmf_min_min_aligns_an_affine_map() -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(256, 2, generator=g)
    b = torch.randn(256, 2, generator=g) * torch.tensor([0.5, 1.5]) + torch.tensor([1.0, -1.0])
    loc = torch.zeros(2, requires_grad=True)
    log_scale = torch.zeros(2, requires_grad=True)
    d = FlowLRMF(2, flow="maf", transforms=1, hidden=(16,))
    d.fit_private(a, b, steps=200, lr=1e-2)
    opt_t = torch.optim.Adam([loc, log_scale], lr=3e-2)
    opt_s = torch.optim.Adam(d.parameters(), lr=1e-2)
    for _ in range(300):
        t = torch.distributions.AffineTransform(loc, log_scale.exp())
        ta, logdet = push_forward(t, a)
        loss = d.generator_loss(ta, b, logdet=logdet)
        opt_t.zero_grad()
        opt_s.zero_grad()
        (loss + d.critic_loss(ta, b)).backward()  # min-min: both minimize
        opt_t.step()
        opt_s.step()
    torch.testing.assert_close(loc.detach(), torch.tensor([1.0, -1.0]), atol=0.25, rtol=0)
    torch.testing.assert_close(
        log_scale.exp().detach(), torch.tensor([0.5, 1.5]), atol=0.25, rtol=0
    )
    assert abs(loss.item()) < 0.15
