"""MMD and energy distance: closed forms, references, blockwise == dense, estimators."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from scipy.spatial.distance import cdist as np_cdist
from scipy.spatial.distance import pdist

from unpaired.distances import energy, median_bandwidth, mmd

KERNELS = ["rbf", "laplacian", "imq", "multiscale"]
FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


def _expected_rbf(mean: np.ndarray, cov: np.ndarray, h: float) -> float:
    """E exp(-||z||^2 / (2 h^2)) for z ~ N(mean, cov)."""
    d = len(mean)
    s = cov + h * h * np.eye(d)
    return float(
        np.linalg.det(np.eye(d) + cov / h**2) ** -0.5
        * np.exp(-0.5 * mean @ np.linalg.solve(s, mean))
    )


def test_rbf_mmd_matches_gaussian_closed_form() -> None:
    mu1, mu2 = np.array([0.0, 0.0]), np.array([0.8, -0.3])
    c1, c2 = np.array([[1.0, 0.3], [0.3, 0.6]]), np.array([[0.5, 0.0], [0.0, 1.5]])
    h = 1.2
    zero = np.zeros(2)
    want = (
        _expected_rbf(zero, 2 * c1, h)
        + _expected_rbf(zero, 2 * c2, h)
        - 2 * _expected_rbf(mu1 - mu2, c1 + c2, h)
    )
    # The U-statistic is unbiased for any set size: average many small independent draws.
    g = torch.Generator().manual_seed(0)
    draws, n = 20000, 16
    a = (
        torch.randn(draws, n, 2, generator=g, dtype=torch.float64)
        @ torch.linalg.cholesky(torch.tensor(c1)).T
    )
    b = (
        torch.randn(draws, n, 2, generator=g, dtype=torch.float64)
        @ torch.linalg.cholesky(torch.tensor(c2)).T
    )
    b = b + torch.tensor(mu2)
    est = mmd(a, b, bandwidth=h, estimator="unbiased", batched=True)
    stderr = (est.std() / draws**0.5).item()
    assert want > 0.05 and stderr < 2e-3
    assert abs(est.mean().item() - want) < 4 * stderr


def _dense_kernel(kernel: str, d: torch.Tensor, h: float) -> torch.Tensor:
    if kernel == "rbf":
        return torch.exp(-(d**2) / (2 * h * h))
    if kernel == "laplacian":
        return torch.exp(-d / h)
    if kernel == "imq":
        return (1 + d**2 / h**2) ** -0.5
    return sum(torch.exp(-(d**2) / (2 * (f * h) ** 2)) for f in FACTORS)  # type: ignore[return-value]


def _dense_mmd(
    x: torch.Tensor, y: torch.Tensor, kernel: str, h: float, estimator: str
) -> torch.Tensor:
    kxx = _dense_kernel(kernel, torch.cdist(x, x), h)
    kyy = _dense_kernel(kernel, torch.cdist(y, y), h)
    kxy = _dense_kernel(kernel, torch.cdist(x, y), h)
    n, m = len(x), len(y)
    if estimator == "biased":
        return kxx.mean() + kyy.mean() - 2 * kxy.mean()
    off = lambda k: k.sum() - k.diagonal().sum()  # noqa: E731
    return off(kxx) / (n * (n - 1)) + off(kyy) / (m * (m - 1)) - 2 * kxy.mean()


@pytest.mark.parametrize("estimator", ["biased", "unbiased"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_blockwise_equals_dense(kernel: str, estimator: str) -> None:
    x = torch.randn(23, 3, dtype=torch.float64, requires_grad=True)
    y = (torch.randn(31, 3, dtype=torch.float64) + 0.4).requires_grad_(True)
    ours = mmd(x, y, kernel=kernel, bandwidth=0.9, estimator=estimator, block_size=7)  # type: ignore[arg-type]
    ref = _dense_mmd(x, y, kernel, 0.9, estimator)
    torch.testing.assert_close(ours, ref, rtol=1e-8, atol=1e-12)
    g_ours = torch.autograd.grad(ours, (x, y))
    g_ref = torch.autograd.grad(ref, (x, y))
    for go, gr in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(go, gr, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kernel", KERNELS)
def test_blockwise_backward_gradcheck(kernel: str) -> None:
    x = torch.randn(9, 2, dtype=torch.float64, requires_grad=True)
    y = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda u, v: mmd(u, v, kernel=kernel, bandwidth=1.1, block_size=4),
        (x, y),  # type: ignore[arg-type]
    )


def test_energy_backward_gradcheck() -> None:
    x = torch.randn(9, 2, dtype=torch.float64, requires_grad=True)
    y = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda u, v: energy(u, v, block_size=4), (x, y))


def test_unbiased_estimator_has_zero_mean_under_the_null() -> None:
    g = torch.Generator().manual_seed(1)
    a = torch.randn(400, 16, 2, generator=g, dtype=torch.float64)
    b = torch.randn(400, 16, 2, generator=g, dtype=torch.float64)
    unbiased = mmd(a, b, bandwidth=1.0, estimator="unbiased", batched=True)
    biased = mmd(a, b, bandwidth=1.0, estimator="biased", batched=True)
    stderr = unbiased.std() / 400**0.5
    assert abs(unbiased.mean()) < 4 * stderr
    assert biased.mean() > 10 * stderr  # the V-statistic is biased upwards


def test_linear_estimator_formula() -> None:
    x = torch.randn(5, 2, dtype=torch.float64)  # pairs (0, 1), (2, 3); row 4 unused
    y = torch.randn(4, 2, dtype=torch.float64)
    k = lambda u, v: torch.exp(-((u - v) ** 2).sum() / 2)  # noqa: E731
    want = (
        sum(
            k(x[i], x[i + 1]) + k(y[i], y[i + 1]) - k(x[i], y[i + 1]) - k(x[i + 1], y[i])
            for i in (0, 2)
        )
        / 2
    )
    got = mmd(x, y, bandwidth=1.0, estimator="linear")
    torch.testing.assert_close(got, want)


def test_median_bandwidth_matches_scipy() -> None:
    x, y = torch.randn(40, 3, dtype=torch.float64), torch.randn(30, 3, dtype=torch.float64)
    want = np.median(pdist(np.concatenate([x.numpy(), y.numpy()])))
    # numpy averages the two middle values; torch takes the lower one
    pooled = np.sort(pdist(np.concatenate([x.numpy(), y.numpy()])))
    assert median_bandwidth(x, y).item() == pytest.approx(pooled[(len(pooled) - 1) // 2])
    assert median_bandwidth(x, y).item() == pytest.approx(want, rel=1e-2)
    assert median_bandwidth(x, y).item() == median_bandwidth(y, x).item()


def test_default_bandwidth_is_median() -> None:
    x, y = torch.randn(40, 3, dtype=torch.float64), torch.randn(30, 3, dtype=torch.float64) + 1
    h = median_bandwidth(x, y).item()
    assert mmd(x, y).item() == pytest.approx(mmd(x, y, bandwidth=h).item(), rel=1e-12)


def test_multiscale_is_a_sum_of_rbf() -> None:
    x, y = torch.randn(20, 3, dtype=torch.float64), torch.randn(25, 3, dtype=torch.float64) + 0.5
    both = mmd(x, y, kernel="multiscale", bandwidth=[0.5, 2.0])
    parts = mmd(x, y, bandwidth=0.5) + mmd(x, y, bandwidth=2.0)
    torch.testing.assert_close(both, parts)
    scaled = sum(mmd(x, y, bandwidth=f * 1.5) for f in FACTORS)
    torch.testing.assert_close(mmd(x, y, kernel="multiscale", bandwidth=1.5), scaled)


def test_energy_matches_scipy() -> None:
    x, y = (
        np.random.default_rng(0).normal(size=(30, 4)),
        np.random.default_rng(1).normal(size=(20, 4)),
    )
    want = 2 * np_cdist(x, y).mean() - np_cdist(x, x).mean() - np_cdist(y, y).mean()
    assert energy(torch.tensor(x), torch.tensor(y), block_size=8).item() == pytest.approx(
        want, rel=1e-10
    )
    u, v = x[:, 0], y[:, 0]  # scipy's 1-D energy distance is the square root of ours
    assert energy(torch.tensor(u), torch.tensor(v)).item() == pytest.approx(
        scipy.stats.energy_distance(u, v) ** 2, rel=1e-10
    )


@pytest.mark.parametrize("estimator", ["biased", "unbiased", "linear"])
def test_batched_matches_loop(estimator: str) -> None:
    a, b = (
        torch.randn(3, 12, 2, dtype=torch.float64),
        torch.randn(3, 10, 2, dtype=torch.float64) + 1,
    )
    got = mmd(a, b, estimator=estimator, batched=True)  # type: ignore[arg-type]
    want = torch.stack([mmd(a[i], b[i], estimator=estimator) for i in range(3)])  # type: ignore[arg-type]
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(
        energy(a, b, batched=True), torch.stack([energy(a[i], b[i]) for i in range(3)])
    )


def test_float32_blockwise_is_accurate() -> None:
    x, y = torch.randn(3000, 8), torch.randn(2500, 8) + 0.05
    ref = mmd(x.double(), y.double(), bandwidth=2.0)
    got = mmd(x, y, bandwidth=2.0, block_size=512)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(ref.item(), rel=1e-4)


def test_options_are_validated() -> None:
    x = torch.randn(8, 2)
    with pytest.raises(ValueError, match="kernel"):
        mmd(x, x, kernel="gauss")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="estimator"):
        mmd(x, x, estimator="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bandwidth"):
        mmd(x, x, bandwidth=[1.0, 2.0])
    with pytest.raises(ValueError, match="bandwidth"):
        mmd(x, x, bandwidth=0.0)
    with pytest.raises(ValueError, match="block_size"):
        mmd(x, x, block_size=0)
    with pytest.raises(ValueError, match=r"^a: needs at least 2"):
        mmd(x[:1], x, estimator="unbiased")
