"""The toy games: the closed-form Jacobians against the library's gradients, the analytic
contraction rates against measured ones (Dirac-GAN with AdversarialDistance)."""

from __future__ import annotations

import pytest
import torch

from unpaired.distances import AdversarialDistance, DualAdversarialDistance
from unpaired.distances import games as g

Z = torch.zeros(2, dtype=torch.float64)


@pytest.mark.parametrize(
    ("kind", "value", "kw"),
    [
        ("plain", 0.0, {}),
        ("r1", 0.7, {"r1": 0.7}),
        ("roth", 1.3, {"roth_gamma": 1.3}),
        ("wgan", 0.0, {"loss": "wasserstein"}),
    ],
)
def test_closed_form_jacobian_matches_the_library(kind: str, value: float, kw: dict) -> None:
    field = g.dirac_field(AdversarialDistance(g.dirac_critic(), **kw))
    got = g.numerical_jacobian(field, Z)
    torch.testing.assert_close(got, g.dirac_jacobian(kind, value), atol=1e-6, rtol=0)


def test_instance_noise_jacobian_matches_with_many_samples() -> None:
    gen = torch.Generator()
    dist = AdversarialDistance(g.dirac_critic(), instance_noise=0.8, generator=gen)
    field = g.dirac_field(dist, samples=200_000)

    def fixed_noise(z: torch.Tensor, step: int) -> torch.Tensor:
        gen.manual_seed(3)  # common random numbers for the finite differences
        return field(z, step)

    got = g.numerical_jacobian(fixed_noise, Z, eps=1e-3)
    torch.testing.assert_close(got, g.dirac_jacobian("noise", 0.8), atol=1e-2, rtol=0)


@pytest.mark.parametrize(
    ("kind", "value", "kw", "method"),
    [
        ("plain", 0.0, {}, "simultaneous"),
        ("plain", 0.0, {}, "alternating"),
        ("r1", 0.3, {"r1": 0.3}, "simultaneous"),
        ("r1", 2.0, {"r1": 2.0}, "simultaneous"),  # overdamped: real eigenvalues
        ("roth", 1.0, {"roth_gamma": 1.0}, "simultaneous"),
    ],
)
def test_measured_contraction_matches_the_eigenvalues(kind, value, kw, method) -> None:
    lr, players = 0.2, [[1], [0]]
    field = g.dirac_field(AdversarialDistance(g.dirac_critic(), **kw))
    z = g.play(field, [1e-3, 1e-3], steps=300, lr=lr, method=method, players=players)
    measured = g.measured_rate(z.norm(dim=1), start=100, floor=1e-13)
    analytic = g.spectral_radius(g.step_matrix(g.dirac_jacobian(kind, value), lr, method, players))
    assert measured == pytest.approx(analytic, rel=2e-3)
    if kind == "plain" and method == "simultaneous":
        assert measured > 1 + lr**2 / 10  # spirals out
    if kind == "r1":
        lam = torch.linalg.eigvals(g.dirac_jacobian(kind, value))
        want = -value / 2 + (complex(value**2 / 4 - 0.25)) ** 0.5
        assert complex(lam[0]) == pytest.approx(want) or complex(lam[1]) == pytest.approx(want)
        assert measured < 1


def test_dual_min_min_contracts_at_its_curvature() -> None:
    lam, lr = 0.5, 0.2
    field = g.dirac_field(DualAdversarialDistance(lam=lam, tol=1e-14))
    z = g.play(field, [1e-2, 0.0], steps=60, lr=lr)
    assert g.measured_rate(z[:, 0].abs(), start=10) == pytest.approx(1 - lr / (4 * lam), rel=2e-3)


@pytest.mark.parametrize(
    ("method", "bound"),
    [("simultaneous", None), ("alternating", None), ("extragradient", 1), ("optimistic", 1)],
)
def test_bilinear_rates(method: str, bound) -> None:
    lr = 0.2
    z = g.play(g.bilinear_field, [1.0, 1.0], steps=300, lr=lr, method=method)
    jac = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    analytic = g.spectral_radius(g.step_matrix(jac, lr, method))
    assert g.measured_rate(z.norm(dim=1), start=50) == pytest.approx(analytic, rel=2e-3)
    if method == "simultaneous":
        assert analytic == pytest.approx((1 + lr**2) ** 0.5)
    if bound is not None:
        assert analytic < bound


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        g.play(g.bilinear_field, [1.0, 0.0], steps=2, lr=0.1, method="nesterov")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        g.dirac_jacobian("lsgan")
    with pytest.raises(ValueError, match=">= 3"):
        g.measured_rate(torch.ones(2))
