"""Contract of the ``Distance`` interface (base.py), checked on every distance.

For every distance: d(x, x) ~ 0, d grows with a shift of one set (a scaling for CORAL,
which ignores means), d(a, b) == d(b, a) where ``symmetric``, gradients reach the
inputs, float32 and float64 work, and bad shapes raise ``ValueError`` naming the
argument.

What "d" means for the learned distances (documented choice):

* ``AdversarialDistance``: ``divergence(a, b)``, the critic's divergence estimate, after
  fitting the critic on (a, b) with ``critic_loss`` (it is 0 only at the optimal critic).
* ``FlowLRMF``: the loss ``forward(a, b, logdet=0)`` (T = identity) after
  ``fit_private(a, b)`` and fitting the shared model with ``critic_loss``.
* ``DualAdversarialDistance`` solves its inner problem itself: no fitting.

The generator loss of ``AdversarialDistance`` depends on ``b`` only through the critic,
so only ``a`` is required to receive a gradient there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from unpaired.distances import (
    EMD,
    MMD,
    AdversarialDistance,
    Coral,
    Distance,
    DualAdversarialDistance,
    Energy,
    FlowLRMF,
    GaussianLRMF,
    MeanDistance,
    Sinkhorn,
    SlicedWasserstein,
    mlp_critic,
)

DIM = 2


@dataclass
class Case:
    name: str
    make: Callable[[], Distance]
    perturb: str = "shift"  # how "b moves away from a": shift or scale
    grad_b: bool = True
    zero_atol: float = 1e-4
    fit_steps: int = 0


def _adv(loss: str, **kw: float) -> Callable[[], Distance]:
    def make() -> Distance:
        return AdversarialDistance(mlp_critic(DIM, hidden=16, layers=1), loss=loss, **kw)  # type: ignore[arg-type]

    return make


def _flow() -> Distance:
    return FlowLRMF(DIM, flow="maf", transforms=1, hidden=(16,))


CASES = [
    Case("mean", MeanDistance),
    Case("coral", Coral, perturb="scale"),
    Case("mmd-rbf", MMD),
    Case("mmd-laplacian", lambda: MMD(kernel="laplacian")),
    Case("mmd-imq", lambda: MMD(kernel="imq")),
    Case("mmd-multiscale", lambda: MMD(kernel="multiscale")),
    Case("mmd-linear", lambda: MMD(estimator="linear")),
    Case("energy", Energy),
    Case("sinkhorn", lambda: Sinkhorn(blur=0.1), zero_atol=1e-3),
    Case("emd", EMD),
    Case("sliced", SlicedWasserstein),
    Case("dual-linear", DualAdversarialDistance),
    Case("dual-rbf", lambda: DualAdversarialDistance(kernel="rbf", lam=0.1)),
    Case("gaussian-lrmf", GaussianLRMF),
    Case("adv-logistic", _adv("logistic"), grad_b=False, zero_atol=0.02, fit_steps=150),
    Case("adv-hinge", _adv("hinge", r1=1.0), grad_b=False, zero_atol=0.05, fit_steps=150),
    Case(
        "adv-wasserstein",
        _adv("wasserstein", gradient_penalty=1.0),
        grad_b=False,
        zero_atol=0.02,
        fit_steps=150,
    ),
    Case("adv-least-squares", _adv("least-squares"), grad_b=False, zero_atol=0.02, fit_steps=150),
    Case("flow-lrmf", _flow, zero_atol=0.1, fit_steps=100),
]
IDS = [c.name for c in CASES]
SYMMETRIC = [c for c in CASES if c.make().symmetric]


def _call(d: Distance, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The generator loss (what a transformation minimizes)."""
    torch.manual_seed(1)  # same random projections / noise for every call
    if isinstance(d, FlowLRMF):
        return d(a, b, logdet=torch.zeros(a.shape[:1], dtype=a.dtype))
    return d(a, b)


def _fitted(case: Case, a: torch.Tensor, b: torch.Tensor) -> Distance:
    d = case.make().to(a.dtype)
    if case.fit_steps:
        if isinstance(d, FlowLRMF):
            d.fit_private(a, b, steps=2 * case.fit_steps, lr=1e-2)
        opt = torch.optim.Adam(d.parameters(), lr=1e-2)
        for _ in range(case.fit_steps):
            loss = d.critic_loss(a, b)
            assert loss is not None
            opt.zero_grad()
            loss.backward()
            opt.step()
    return d


def _value(case: Case, a: torch.Tensor, b: torch.Tensor) -> float:
    d = _fitted(case, a, b)
    with torch.no_grad():
        if isinstance(d, AdversarialDistance):
            return d.divergence(a, b).item()
        return _call(d, a, b).item()


def _moved(x: torch.Tensor, amount: float, perturb: str) -> torch.Tensor:
    if perturb == "scale":
        return x * (1 + amount)
    return x + amount * torch.tensor([1.0, -0.5], dtype=x.dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_identical_sets_give_zero(case: Case, dtype: torch.dtype) -> None:
    x = torch.randn(64, DIM, dtype=dtype)
    assert abs(_value(case, x, x)) <= case.zero_atol


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grows_with_shift(case: Case) -> None:
    x = torch.randn(64, DIM, dtype=torch.float64)
    values = [_value(case, x, _moved(x, s, case.perturb)) for s in (0.0, 0.7, 2.0)]
    assert values[0] < values[1] < values[2], values


@pytest.mark.parametrize("case", SYMMETRIC, ids=[c.name for c in SYMMETRIC])
def test_symmetric(case: Case) -> None:
    a = torch.randn(40, DIM, dtype=torch.float64)
    b = 1.5 * torch.randn(50, DIM, dtype=torch.float64) + 0.5
    d = case.make()
    assert _call(d, a, b).item() == pytest.approx(_call(d, b, a).item(), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_reach_inputs(case: Case, dtype: torch.dtype) -> None:
    a = torch.randn(32, DIM, dtype=dtype, requires_grad=True)
    b = (torch.randn(40, DIM, dtype=dtype) + 1.0).requires_grad_(True)
    d = case.make().to(dtype)
    if isinstance(d, FlowLRMF):
        d.fit_private(a.detach(), b.detach(), steps=5)
    value = _call(d, a, b)
    assert value.dtype == dtype and value.shape == ()
    value.backward()
    assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    if case.grad_b:
        assert b.grad is not None and torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_shapes_raise_naming_the_argument(case: Case) -> None:
    d = case.make()
    with pytest.raises(ValueError, match=r"^b: "):
        _call(d, torch.randn(8, DIM), torch.randn(8, DIM + 1))
    with pytest.raises(ValueError, match=r"^a: "):
        _call(d, torch.tensor(1.0), torch.randn(8, DIM))
    with pytest.raises(ValueError, match=r"^b: "):
        _call(d, torch.randn(8, DIM), torch.ones(8, DIM, dtype=torch.int64))
