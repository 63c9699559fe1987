"""Sinkhorn divergence, exact EMD and sliced Wasserstein against POT / scipy."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import scipy.stats
import torch

from unpaired.distances import emd, sinkhorn, sliced_wasserstein


def _pot_entropic(x: np.ndarray, y: np.ndarray, eps: float) -> float:
    """Entropic OT ``<P, C> + eps KL(P | a b^T)`` with C = |x - y|^2 / 2, solved by POT."""
    cost = ot.dist(x, y) / 2
    a, b = ot.unif(len(x)), ot.unif(len(y))
    plan = ot.sinkhorn(a, b, cost, eps, method="sinkhorn_log", numItermax=5000, stopThr=1e-10)
    ref = np.outer(a, b)
    mask = plan > 0
    kl = (plan[mask] * np.log(plan[mask] / ref[mask])).sum() - plan.sum() + 1
    return float((plan * cost).sum() + eps * kl)


def test_sinkhorn_matches_pot_debiased_combination() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 2)), rng.normal(size=(50, 2)) + np.array([1.0, 0.5])
    blur = 0.5
    eps = blur**2
    want = _pot_entropic(x, y, eps) - (_pot_entropic(x, x, eps) + _pot_entropic(y, y, eps)) / 2
    got = sinkhorn(torch.tensor(x), torch.tensor(y), blur=blur, scaling=0.99).item()
    assert got == pytest.approx(want, rel=2e-4)


@pytest.mark.parametrize(
    ("blur", "shift"), [(0.5, 1.0), pytest.param(0.25, 0.3, marks=pytest.mark.slow), (2.0, 3.0)]
)
def test_sinkhorn_defaults_match_pot_to_1e_5(blur: float, shift: float) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(80, 3)), rng.normal(size=(70, 3)) * 0.8 + shift
    eps = blur**2
    want = _pot_entropic(x, y, eps) - (_pot_entropic(x, x, eps) + _pot_entropic(y, y, eps)) / 2
    got = sinkhorn(torch.tensor(x), torch.tensor(y), blur=blur).item()
    assert got == pytest.approx(want, rel=1e-5)
    old = sinkhorn(torch.tensor(x), torch.tensor(y), blur=blur, solver="geomloss").item()
    assert abs(got - want) <= abs(old - want)  # closer than the earlier geomloss default


@pytest.mark.parametrize("p", [1, 2])
def test_sinkhorn_log_gradients_match_finite_differences_and_geomloss(p: int) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    y = (torch.randn(25, 2, generator=g, dtype=torch.float64) + 0.7).requires_grad_(True)
    value = sinkhorn(x, y, blur=0.3, p=p, tol=1e-10)
    gx, gy = torch.autograd.grad(value, (x, y))
    ref = sinkhorn(x, y, blur=0.3, p=p, solver="geomloss", scaling=0.999)
    rx, ry = torch.autograd.grad(ref, (x, y))
    torch.testing.assert_close(gx, rx, atol=1e-3, rtol=0)  # geomloss: not fully converged
    torch.testing.assert_close(gy, ry, atol=1e-3, rtol=0)
    e = torch.zeros_like(x)
    e[6, 1] = 1e-5
    with torch.no_grad():
        fd = (
            sinkhorn(x + e, y, blur=0.3, p=p, tol=1e-12)
            - sinkhorn(x - e, y, blur=0.3, p=p, tol=1e-12)
        ) / 2e-5
    assert float(gx[6, 1]) == pytest.approx(float(fd), rel=1e-4, abs=1e-9)


def test_sinkhorn_tends_to_half_w2_for_small_blur() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + 2.0
    w2 = ot.emd2(ot.unif(40), ot.unif(40), ot.dist(x, y))
    got = sinkhorn(torch.tensor(x), torch.tensor(y), blur=0.01, scaling=0.9).item()
    assert got == pytest.approx(w2 / 2, rel=1e-2)


def test_sinkhorn_batched_matches_loop() -> None:
    a, b = (
        torch.randn(2, 20, 3, dtype=torch.float64),
        torch.randn(2, 15, 3, dtype=torch.float64) + 1,
    )
    want = torch.stack([sinkhorn(a[i], b[i], blur=0.2) for i in range(2)])
    # one diameter for the whole batch: another annealing path, the same converged value
    torch.testing.assert_close(sinkhorn(a, b, blur=0.2, batched=True), want, rtol=1e-5, atol=0)


@pytest.mark.parametrize("p", [1, 2])
def test_emd_matches_pot_and_gradient_is_the_plan(p: int) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 3)), rng.normal(size=(25, 3)) + 0.5
    cost = ot.dist(x, y, metric="sqeuclidean" if p == 2 else "euclidean")
    want = ot.emd2(ot.unif(30), ot.unif(25), cost)
    xt = torch.tensor(x, requires_grad=True)
    got = emd(xt, torch.tensor(y), p=p)
    assert got.item() == pytest.approx(want, rel=1e-10)
    got.backward()
    plan = ot.emd(ot.unif(30), ot.unif(25), cost)
    diff = x[:, None, :] - y[None, :, :]
    dcost = 2 * diff if p == 2 else diff / np.linalg.norm(diff, axis=-1, keepdims=True)
    np.testing.assert_allclose(xt.grad.numpy(), (plan[..., None] * dcost).sum(1), atol=1e-10)


def test_emd_float32() -> None:
    x, y = torch.randn(20, 2), torch.randn(20, 2) + 1
    got = emd(x, y)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(emd(x.double(), y.double()).item(), rel=1e-5)


@pytest.mark.parametrize("sizes", [(40, 40), (40, 27)])
def test_sliced_matches_pot_with_the_same_projections(sizes: tuple[int, int]) -> None:
    x = torch.randn(sizes[0], 4, dtype=torch.float64)
    y = torch.randn(sizes[1], 4, dtype=torch.float64) * 1.3 + 0.2
    got = sliced_wasserstein(x, y, projections=16, generator=torch.Generator().manual_seed(3))
    theta = torch.randn(4, 16, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    theta = (theta / theta.norm(dim=0)).numpy()
    want = ot.sliced_wasserstein_distance(x.numpy(), y.numpy(), projections=theta, p=2)
    assert got.item() ** 0.5 == pytest.approx(want, rel=1e-8)


def test_sliced_in_1d_is_exact_w1() -> None:
    rng = np.random.default_rng(4)
    u, v = rng.normal(size=37), rng.exponential(size=23)
    got = sliced_wasserstein(torch.tensor(u), torch.tensor(v), projections=3, p=1)
    assert got.item() == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-10)


def test_options_are_validated() -> None:
    x = torch.randn(8, 2)
    with pytest.raises(ValueError, match="blur"):
        sinkhorn(x, x, blur=0.0)
    with pytest.raises(ValueError, match="scaling"):
        sinkhorn(x, x, scaling=1.0)
    with pytest.raises(ValueError, match="p must"):
        sinkhorn(x, x, p=3)
    with pytest.raises(ValueError, match="p must"):
        emd(x, x, p=0.5)
    with pytest.raises(ValueError, match="projections"):
        sliced_wasserstein(x, x, projections=0)
