"""Non-leaking augmentation: the leak thresholds against the operator's numerical
spectrum on small state spaces, Augment against the operator it claims to be, and the
same T_p on both sets of an adversarial distance."""

from __future__ import annotations

import itertools
import math
import warnings

import pytest
import torch

from unpaired.distances import AdversarialDistance, Augment, leak_threshold, leaks, mlp_critic

GRID = [round(0.05 * i, 2) for i in range(21)]


def _binary_images(h: int, w: int) -> torch.Tensor:
    """Every binary h x w image, (2^(hw), 1, h, w)."""
    bits = torch.tensor(list(itertools.product([0.0, 1.0], repeat=h * w)))
    return bits.reshape(-1, 1, h, w)


def _dots(h: int, w: int) -> torch.Tensor:
    """One-hot images of a single dot, (hw, 1, h, w)."""
    return torch.eye(h * w).reshape(-1, 1, h, w)


def _index(states: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Index of each image of ``x`` among ``states`` (exact match)."""
    eq = (x.reshape(x.shape[0], 1, -1) == states.reshape(1, states.shape[0], -1)).all(-1)
    assert bool(eq.any(1).all()), "a transform left the state space"
    return eq.float().argmax(1)


def _operator(states: torch.Tensor, transforms: list, weights: list[float], p: float):
    """The matrix of T_p = (1-p) I + p sum_g mu(g) g on distributions over ``states``."""
    n = states.shape[0]
    m = (1 - p) * torch.eye(n, dtype=torch.float64)
    for f, mu in zip(transforms, weights, strict=True):
        perm = _index(states, f(states))
        m[perm, torch.arange(n)] += p * mu
    return m


def _rolls(s: int):
    return [
        (lambda x, dy=dy, dx=dx: torch.roll(x, (dy, dx), (-2, -1)))
        for dy in range(-s, s + 1)
        for dx in range(-s, s + 1)
    ]


rot = [lambda x, k=k: torch.rot90(x, k, (-2, -1)) for k in range(4)]
CASES = {
    "rot90": (_binary_images(2, 2), rot[1:], [1 / 3] * 3, {}),
    "rot90-uniform": (_binary_images(2, 2), rot, [1 / 4] * 4, {}),
    "flip": (_binary_images(2, 2), [lambda x: x.flip(-1)], [1.0], {}),
    "translate": (_dots(5, 5), _rolls(1), [1 / 9] * 9, {"shape": (5, 5), "shift": 1}),
}


@pytest.mark.parametrize("op", list(CASES))
def test_leak_threshold_is_where_the_operator_becomes_singular(op: str) -> None:
    states, transforms, weights, kw = CASES[op]

    def smallest(p: float) -> float:
        return float(torch.linalg.svdvals(_operator(states, transforms, weights, p)).min())

    singular = [smallest(p) < 1e-9 for p in GRID]
    assert singular == [leaks(op, p, **kw) for p in GRID]  # type: ignore[arg-type]
    threshold = leak_threshold(op, **kw)  # type: ignore[arg-type]
    assert threshold is not None and smallest(threshold) < 1e-9
    assert not any(s for p, s in zip(GRID, singular, strict=True) if p < threshold - 1e-9)


def test_published_thresholds() -> None:
    assert leak_threshold("rot90") == 0.75
    assert leak_threshold("rot90-uniform") == 1.0
    assert leak_threshold("flip") == 0.5
    # 5 x 5 torus, shift 1: mu_hat = (1 + 2 cos(4 pi / 5)) / 3 = (1 - sqrt 5) / 6 on one axis
    want = 6 / (5 + math.sqrt(5))
    assert leak_threshold("translate", shape=(5, 5), shift=1) == pytest.approx(want)
    assert leak_threshold("brightness") is None


def test_gaussian_brightness_never_leaks_on_a_discretised_intensity_circle() -> None:
    n, sigma_bins = 32, 1.0
    d = torch.arange(n, dtype=torch.float64)
    d = torch.minimum(d, n - d)
    kernel = sum(torch.exp(-((d + k * n) ** 2) / (2 * sigma_bins**2)) for k in (-1, 0, 1))
    kernel = kernel / kernel.sum()
    circulant = torch.stack([torch.roll(kernel, i) for i in range(n)])
    for p in GRID:
        m = (1 - p) * torch.eye(n, dtype=torch.float64) + p * circulant
        assert float(torch.linalg.svdvals(m).min()) >= max(1 - p, 1e-4)
        assert not leaks("brightness", p, sigma=0.2)


@pytest.mark.parametrize("op", list(CASES))
def test_augment_implements_the_analysed_operator(op: str) -> None:
    states, transforms, weights, kw = CASES[op]
    p, draws = 0.6, 3000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aug = Augment(op, p, generator=torch.Generator().manual_seed(0), **kw)  # type: ignore[arg-type]
    n = states.shape[0]
    x = states.repeat(draws, 1, 1, 1)
    src = torch.arange(n).repeat(draws)
    dst = _index(states, aug(x))
    empirical = torch.zeros(n, n, dtype=torch.float64)
    empirical.index_put_((dst, src), torch.ones_like(dst, dtype=torch.float64), accumulate=True)
    exact = _operator(states, transforms, weights, p)
    torch.testing.assert_close(empirical / draws, exact, atol=0.04, rtol=0)


def test_warns_near_the_threshold_only() -> None:
    with pytest.warns(UserWarning, match="leak threshold p=0.75"):
        Augment("rot90", 0.75)
    with pytest.warns(UserWarning, match="leak threshold p=0.5"):
        Augment("flip", 0.45)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Augment("rot90", 0.3)
        Augment("rot90-uniform", 0.8)
        Augment("brightness", 1.0)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="op"):
        Augment("cutout", 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        Augment("flip", 1.5)
    with pytest.raises(ValueError, match="square"):
        Augment("rot90", 0.3)(torch.zeros(2, 1, 4, 5))


class _Recorder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp_critic(16, hidden=8, layers=1)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return self.net(x)


def _rotation_of(x: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """Which multiple of 90 degrees maps ``base`` (1, 1, 4, 4) to each image of ``x``."""
    rots = torch.stack([torch.rot90(base[0], k, (-2, -1)) for k in range(4)])  # (4, 1, 4, 4)
    eq = (x[:, None] == rots[None]).flatten(2).all(-1)
    assert bool(eq.any(1).all())
    return eq.float().argmax(1)


def test_adversarial_distance_augments_both_sets_alike() -> None:
    base = torch.arange(16.0).reshape(1, 1, 4, 4)  # no rotational symmetry
    a, b = base.repeat(600, 1, 1, 1), base.repeat(1800, 1, 1, 1)
    critic = _Recorder()
    aug = Augment("rot90", 0.5, generator=torch.Generator().manual_seed(1))
    dist = AdversarialDistance(critic, augment=aug)
    dist.critic_loss(a, b)
    fa, fb = critic.seen  # fake first, then real
    ka, kb = _rotation_of(fa, base), _rotation_of(fb, base)
    freq_a = torch.bincount(ka, minlength=4).double() / len(ka)
    freq_b = torch.bincount(kb, minlength=4).double() / len(kb)
    want = torch.tensor([0.5, 1 / 6, 1 / 6, 1 / 6], dtype=torch.float64)
    torch.testing.assert_close(freq_a, want, atol=0.05, rtol=0)
    torch.testing.assert_close(freq_b, want, atol=0.05, rtol=0)
    # the generator loss sees augmented fakes and its gradient reaches them
    x = a[:8].clone().requires_grad_(True)
    critic.seen.clear()
    dist(x, b[:8]).backward()
    assert x.grad is not None and bool(x.grad.abs().sum() > 0)
    assert bool((_rotation_of(critic.seen[0], base) > 0).any())
    assert math.isfinite(float(dist.divergence(a[:8], b[:8]).detach()))
