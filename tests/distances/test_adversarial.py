"""AdversarialDistance: losses, WGAN-GP / R1 / Roth et al. regularizers, instance noise."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.distances import AdversarialDistance, mlp_critic


def _linear_critic(w: list[float], bias: float = 0.0) -> nn.Linear:
    lin = nn.Linear(len(w), 1).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([w]))
        lin.bias.fill_(bias)
    return lin


def _sets() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(16, 2, dtype=torch.float64), torch.randn(12, 2, dtype=torch.float64) + 1


def test_logistic_losses_match_aign_eq1() -> None:
    a, b = _sets()
    critic = _linear_critic([0.7, -0.2], 0.1)
    d = AdversarialDistance(critic)
    fa, fb = critic(a)[:, 0], critic(b)[:, 0]
    # critic maximizes E_b log D(b) + E_a log(1 - D(a)); generator: -E_a log D(a)
    want_critic = -(F.logsigmoid(fb).mean() + torch.log1p(-torch.sigmoid(fa)).mean())
    torch.testing.assert_close(d.critic_loss(a, b), want_critic)
    torch.testing.assert_close(d(a, b), -F.logsigmoid(fa).mean())
    torch.testing.assert_close(d.divergence(a, b), math.log(4) - want_critic)


def test_hinge_and_wasserstein_losses() -> None:
    a, b = _sets()
    critic = _linear_critic([0.7, -0.2], 0.1)
    fa, fb = critic(a)[:, 0], critic(b)[:, 0]
    hinge = AdversarialDistance(critic, loss="hinge")
    torch.testing.assert_close(
        hinge.critic_loss(a, b),
        torch.clamp(1 - fb, min=0).mean() + torch.clamp(1 + fa, min=0).mean(),
    )
    torch.testing.assert_close(hinge(a, b), -fa.mean())
    wgan = AdversarialDistance(critic, loss="wasserstein")
    torch.testing.assert_close(wgan.critic_loss(a, b), fa.mean() - fb.mean())
    torch.testing.assert_close(wgan.divergence(a, b), fb.mean() - fa.mean())


def test_least_squares_losses_match_lsgan() -> None:
    # CycleGAN's GANLoss('lsgan'): D 0.5 (MSE(D(real), 1) + MSE(D(fake), 0)), G MSE(D(fake), 1)
    a, b = _sets()
    critic = _linear_critic([0.7, -0.2], 0.1)
    d = AdversarialDistance(critic, loss="least-squares")
    fa, fb = critic(a)[:, 0], critic(b)[:, 0]
    want = 0.5 * (F.mse_loss(fb, torch.ones_like(fb)) + F.mse_loss(fa, torch.zeros_like(fa)))
    torch.testing.assert_close(d.critic_loss(a, b), want)
    torch.testing.assert_close(d(a, b), F.mse_loss(fa, torch.ones_like(fa)))
    torch.testing.assert_close(d.divergence(a, b), 0.25 - want)


@pytest.mark.parametrize(("w", "want"), [([0.6, 0.8], 0.0), ([1.2, 1.6], 1.0)])
def test_gradient_penalty_of_a_linear_critic(w: list[float], want: float) -> None:
    # ||grad f|| = ||w|| everywhere, so the penalty is (||w|| - 1)^2 exactly
    a, b = _sets()
    critic = _linear_critic(w)
    d = AdversarialDistance(critic, loss="wasserstein", gradient_penalty=10.0)
    base = AdversarialDistance(critic, loss="wasserstein")
    torch.testing.assert_close(
        d.critic_loss(a, b) - base.critic_loss(a, b), torch.tensor(10 * want, dtype=torch.float64)
    )


def test_r1_and_roth_regularizers_of_a_linear_critic() -> None:
    a, b = _sets()
    critic = _linear_critic([1.0, -2.0], 0.3)
    g2 = 5.0  # ||w||^2
    base = AdversarialDistance(critic).critic_loss(a, b)
    r1 = AdversarialDistance(critic, r1=0.4).critic_loss(a, b)
    torch.testing.assert_close(r1 - base, torch.tensor(0.4 / 2 * g2, dtype=torch.float64))
    da, db = torch.sigmoid(critic(a)[:, 0]), torch.sigmoid(critic(b)[:, 0])
    omega = ((1 - db) ** 2 * g2).mean() + (da**2 * g2).mean()  # P = b (real), Q = a (fake)
    roth = AdversarialDistance(critic, roth_gamma=0.2).critic_loss(a, b)
    torch.testing.assert_close(roth - base, 0.2 / 2 * omega)


def test_regularizers_train_the_critic() -> None:
    a, b = _sets()
    critic = _linear_critic([1.0, -2.0])
    loss = AdversarialDistance(critic, roth_gamma=1.0, gradient_penalty=1.0).critic_loss(a, b)
    loss.backward()
    plain = _linear_critic([1.0, -2.0])
    AdversarialDistance(plain).critic_loss(a, b).backward()
    assert critic.weight.grad is not None and plain.weight.grad is not None
    assert not torch.allclose(critic.weight.grad, plain.weight.grad)


def test_instance_noise_is_added_to_both_inputs_and_can_be_annealed() -> None:
    a, b = _sets()
    critic = _linear_critic([0.5, 0.5])
    d = AdversarialDistance(
        critic, loss="wasserstein", instance_noise=0.3, generator=torch.Generator().manual_seed(7)
    )
    g = torch.Generator().manual_seed(7)
    na = a + 0.3 * torch.randn(a.shape, generator=g, dtype=a.dtype)
    nb = b + 0.3 * torch.randn(b.shape, generator=g, dtype=b.dtype)
    torch.testing.assert_close(d.critic_loss(a, b), critic(na).mean() - critic(nb).mean())
    d.instance_noise = 0.0  # annealed to zero: deterministic again
    torch.testing.assert_close(d.critic_loss(a, b), critic(a).mean() - critic(b).mean())


def test_patch_critic_outputs_are_averaged() -> None:
    conv = nn.Conv2d(1, 1, 3).double()
    d = AdversarialDistance(conv, r1=1.0)
    a, b = (
        torch.randn(4, 1, 6, 6, dtype=torch.float64),
        torch.randn(5, 1, 6, 6, dtype=torch.float64),
    )
    fa = conv(a).flatten(1)
    torch.testing.assert_close(d(a, b), F.softplus(-fa).mean())
    assert torch.isfinite(d.critic_loss(a, b))


def test_mlp_critic_shapes() -> None:
    critic = mlp_critic(6, hidden=8, layers=2)
    assert critic(torch.randn(5, 2, 3)).shape == (5, 1)
    assert sum(isinstance(m, nn.Linear) for m in critic) == 3


def test_logistic_gan_aligns_a_shifted_gaussian() -> None:
    torch.manual_seed(0)
    b = torch.randn(256, 2) + torch.tensor([2.0, -1.0])
    shift = torch.zeros(2, requires_grad=True)
    d = AdversarialDistance(mlp_critic(2, hidden=32, layers=1), loss="logistic", r1=1.0)
    opt_g = torch.optim.Adam([shift], lr=0.05)
    opt_d = torch.optim.Adam(d.parameters(), lr=0.01)
    for _ in range(200):
        a = torch.randn(256, 2) + shift
        loss_d = d.critic_loss(a.detach(), b)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = d(torch.randn(256, 2) + shift, b)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    assert torch.linalg.vector_norm(shift.detach() - torch.tensor([2.0, -1.0])) < 0.4


def test_options_are_validated() -> None:
    critic = mlp_critic(2)
    with pytest.raises(ValueError, match="loss"):
        AdversarialDistance(critic, loss="ls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="roth_gamma"):
        AdversarialDistance(critic, loss="hinge", roth_gamma=1.0)
    with pytest.raises(ValueError, match="r1"):
        AdversarialDistance(critic, r1=-1.0)
