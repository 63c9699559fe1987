"""Adversarial distances: a learned critic tells predictions ``a`` from memories ``b``.

Losses (``b`` is "real", ``a`` is "fake"; ``f`` is the critic's logit):

* ``"logistic"``: the AIGN paper's Eq. 1, ``E_b log D(b) + E_a log(1 - D(a))`` with
  ``D = sigmoid(f)``; the generator minimizes the usual non-saturating ``-E_a log D(a)``.
* ``"hinge"``: critic ``E_b relu(1 - f(b)) + E_a relu(1 + f(a))``, generator ``-E_a f(a)``.
* ``"wasserstein"``: critic ``E_a f(a) - E_b f(b)``, generator ``-E_a f(a)``; pair it with
  ``gradient_penalty`` (WGAN-GP, Gulrajani et al. 2017).
* ``"least-squares"`` (LSGAN, Mao et al. 2017; CycleGAN's default): critic
  ``1/2 (E_b (f(b) - 1)^2 + E_a f(a)^2)``, generator ``E_a (f(a) - 1)^2`` (the 0.5 and the
  MSE targets 1 / 0 of junyanz/pytorch-CycleGAN-and-pix2pix, ``GANLoss('lsgan')``).

Critic regularizers (added to ``critic_loss``):

* ``gradient_penalty`` = lambda: ``lambda * E (||grad f(x_hat)|| - 1)^2`` on random
  interpolates ``x_hat = t b + (1 - t) a`` (the first ``min(N, M)`` rows of each);
* ``r1`` = gamma: ``gamma / 2 * E_b ||grad f(b)||^2`` (R1, Mescheder et al. 2018);
* ``roth_gamma`` = gamma: the regularized Jensen-Shannon GAN of Roth et al. (NeurIPS'17),
  thesis talk backup slide "Instance noise in the discriminator might help. Closed-form
  regularizer exist.": ``gamma / 2 * Omega_JS`` with
  ``Omega_JS = E_P[(1 - D)^2 ||grad f||^2] + E_Q[D^2 ||grad f||^2]``, P = ``b`` (real),
  Q = ``a`` (fake), ``D = sigmoid(f)``; only for ``loss="logistic"``;
* ``instance_noise`` = sigma: Gaussian noise ``N(0, sigma^2)`` added to *both* inputs of
  the critic, in the critic and the generator losses (Huszar's instance noise, same
  slide).

Annealing: ``roth_gamma`` and ``instance_noise`` also take a :class:`Schedule`
(``constant``, ``linear`` or ``exponential``, the last ``gamma_t = gamma_0 * 0.01^(t/T)``
as in Roth et al.'s code). The value at engine step ``t`` is a pure function of ``t``;
the engine's default ``Task.on_step_start`` calls :func:`step_schedules` on the task,
so resumed runs continue the schedule where they stopped. The recommended image setting
(Roth et al.) is ``roth_gamma=Schedule(2.0, "exponential", steps=T)``, T the run's steps.

Augmentation: ``augment`` (a :class:`~unpaired.distances.augment.Augment`) applies the
same random ``T_p`` to both sets before the critic (and before the noise), in the critic
loss, the generator loss and ``divergence``; check it with
:func:`~unpaired.distances.augment.leaks` first.

For patch critics (outputs (N, *)), the losses average over all outputs and the
gradient regularizers use the per-sample mean logit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from unpaired.distances._utils import check_option, check_positive, check_sets
from unpaired.distances.augment import Augment
from unpaired.distances.base import Distance

AdversarialLoss = Literal["logistic", "hinge", "wasserstein", "least-squares"]
LOSSES: tuple[str, ...] = ("logistic", "hinge", "wasserstein", "least-squares")
ScheduleKind = Literal["constant", "linear", "exponential"]
SCHEDULES: tuple[str, ...] = ("constant", "linear", "exponential")


@dataclass(frozen=True)
class Schedule:
    """A step-driven hyperparameter: ``value(t)`` for engine step ``t`` (1, 2, ...).

    * ``constant``: ``start``;
    * ``linear``: from ``start`` at ``t = 0`` to ``start * end`` at ``t = steps``;
    * ``exponential``: ``start * end ** (t / steps)`` (Roth et al.: ``end = 0.01``).

    After ``steps`` the value stays at ``start * end``. ``end`` defaults to 0.01 for
    ``exponential`` and 0 for ``linear``.

    Example:
        >>> s = Schedule(2.0, "exponential", steps=100)
        >>> round(s.value(0), 6), round(s.value(50), 6), round(s.value(100), 6)
        (2.0, 0.2, 0.02)
        >>> Schedule(1.0, "linear", steps=4).value(3)
        0.25
    """

    start: float
    kind: ScheduleKind = "constant"
    steps: int = 0
    end: float | None = None

    def __post_init__(self) -> None:
        check_positive("schedule start", self.start, allow_zero=True)
        check_option("schedule kind", self.kind, SCHEDULES)
        if self.kind != "constant" and self.steps < 1:
            raise ValueError(f"a {self.kind} schedule needs steps >= 1, got {self.steps}")
        if self.end is not None and not 0 <= self.end <= 1:
            raise ValueError(f"schedule end must be in [0, 1], got {self.end}")
        if self.kind == "exponential" and self.end == 0:
            raise ValueError("an exponential schedule needs end > 0")

    def value(self, step: int) -> float:
        """The value at step ``step`` (clamped to ``[0, steps]``)."""
        if self.kind == "constant":
            return float(self.start)
        frac = min(max(step, 0), self.steps) / self.steps
        if self.kind == "linear":
            end = 0.0 if self.end is None else self.end
            return float(self.start * (1 - frac + frac * end))
        end = 0.01 if self.end is None else self.end
        return float(self.start * end**frac)


def _schedule(name: str, value: float | Schedule) -> Schedule:
    if isinstance(value, Schedule):
        return value
    return Schedule(check_positive(name, value, allow_zero=True))


def mlp_critic(dim: int, *, hidden: int = 128, layers: int = 2) -> nn.Sequential:
    """A small critic for vector data: (N, *) with prod(*) == ``dim`` -> (N, 1) logits.

    ``Flatten -> [Linear(hidden) -> LeakyReLU(0.2)] * layers -> Linear(1)``.
    """
    if dim < 1 or hidden < 1 or layers < 0:
        raise ValueError(
            f"mlp_critic: need dim >= 1, hidden >= 1, layers >= 0; got {dim}, {hidden}, {layers}"
        )
    mods: list[nn.Module] = [nn.Flatten()]
    width = dim
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    mods.append(nn.Linear(width, 1))
    return nn.Sequential(*mods)


def _input_grad_norm2(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample ``||d f / d x||^2`` (N,) of per-sample logits (N,), differentiable."""
    (g,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return g.reshape(g.shape[0], -1).square().sum(1)


def _grad_leaf(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself if it already carries gradient, else a detached copy that requires it."""
    return x if x.requires_grad else x.detach().requires_grad_(True)


class AdversarialDistance(Distance):
    """Min-max distance with a learned critic (see the module docstring for the losses).

    ``critic`` maps (N, *) samples to (N,), (N, 1) or (N, *) logits.
    ``forward(a, b)`` / ``generator_loss`` is the generator loss (depends on ``b`` only
    through the critic); ``critic_loss(a, b)`` trains the critic (pass a detached ``a``
    when training the critic alone); ``divergence(a, b)`` is the critic's current
    estimate of the divergence, to report (0 for identical sets at the optimal critic).
    ``generator`` drives the interpolation weights and the instance noise.
    """

    symmetric: ClassVar[bool] = False
    learned: ClassVar[bool] = True

    def __init__(
        self,
        critic: nn.Module,
        *,
        loss: AdversarialLoss = "logistic",
        gradient_penalty: float = 0.0,
        r1: float = 0.0,
        instance_noise: float | Schedule = 0.0,
        roth_gamma: float | Schedule = 0.0,
        augment: Augment | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.critic = critic
        self.loss = check_option("loss", loss, LOSSES)
        self.gradient_penalty = check_positive(
            "gradient_penalty", gradient_penalty, allow_zero=True
        )
        self.r1 = check_positive("r1", r1, allow_zero=True)
        self.schedules = {
            "instance_noise": _schedule("instance_noise", instance_noise),
            "roth_gamma": _schedule("roth_gamma", roth_gamma),
        }
        self.instance_noise = self.schedules["instance_noise"].value(0)
        self.roth_gamma = self.schedules["roth_gamma"].value(0)
        if self.roth_gamma > 0 and loss != "logistic":
            raise ValueError(
                f"roth_gamma needs loss='logistic' (Roth et al.'s JS-GAN), got {loss!r}"
            )
        self.generator = generator
        self.augment = augment

    def set_step(self, step: int) -> None:
        """Move the scheduled hyperparameters to their values at engine step ``step``."""
        self.instance_noise = self.schedules["instance_noise"].value(step)
        self.roth_gamma = self.schedules["roth_gamma"].value(step)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Critic outputs as (N, P) (P = 1 for a scalar critic, number of patches otherwise)."""
        out = self.critic(x)
        return out.reshape(out.shape[0], -1)

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        if self.instance_noise <= 0:
            return x
        noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return x + self.instance_noise * noise

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Generator loss for predictions ``a`` (N, *) against memories ``b`` (M, *)."""
        check_sets(a, b)
        if self.augment is not None:
            a = self.augment(a)
        fake = self.logits(self._noisy(a))
        if self.loss == "logistic":
            return F.softplus(-fake).mean()  # -log sigmoid(f): non-saturating
        if self.loss == "least-squares":
            return (fake - 1).square().mean()
        return -fake.mean()

    @staticmethod
    def _critic_objective(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The unregularized critic loss from logits of real (M, P) and fake (N, P)."""
        if loss == "logistic":
            return F.softplus(-real).mean() + F.softplus(fake).mean()
        if loss == "hinge":
            return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        if loss == "least-squares":
            return 0.5 * ((real - 1).square().mean() + fake.square().mean())
        return fake.mean() - real.mean()

    def critic_loss(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Critic loss (with the configured regularizers) for ``a`` (N, *) fake, ``b`` (M, *) real."""
        check_sets(a, b)
        if self.augment is not None:
            a, b = self.augment.pair(a, b)
        xa, xb = self._noisy(a), self._noisy(b)
        need_grads = self.r1 > 0 or self.roth_gamma > 0
        if need_grads:
            xa, xb = _grad_leaf(xa), _grad_leaf(xb)
        fa, fb = self.logits(xa), self.logits(xb)
        total = self._critic_objective(self.loss, fb, fa)
        if need_grads:
            ga = _input_grad_norm2(fa.mean(1), xa)
            gb = _input_grad_norm2(fb.mean(1), xb)
            if self.r1 > 0:
                total = total + self.r1 / 2 * gb.mean()
            if self.roth_gamma > 0:
                da, db = torch.sigmoid(fa.mean(1)), torch.sigmoid(fb.mean(1))
                omega = ((1 - db).square() * gb).mean() + (da.square() * ga).mean()
                total = total + self.roth_gamma / 2 * omega
        if self.gradient_penalty > 0:
            total = total + self.gradient_penalty * self._interpolate_penalty(xa, xb)
        return total

    def _interpolate_penalty(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        """WGAN-GP term ``E (||grad f(x_hat)|| - 1)^2`` on random interpolates."""
        k = min(xa.shape[0], xb.shape[0])
        t = torch.rand(
            (k,) + (1,) * (xa.dim() - 1), generator=self.generator, dtype=xa.dtype, device=xa.device
        )
        x_hat = (t * xb[:k] + (1 - t) * xa[:k]).detach().requires_grad_(True)
        norm = _input_grad_norm2(self.logits(x_hat).mean(1), x_hat).clamp_min(1e-12).sqrt()
        return (norm - 1).square().mean()

    def divergence(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The critic's current divergence estimate (no noise, no regularizers), a scalar.

        ``logistic``: ``log 4 + E_b log D(b) + E_a log(1 - D(a))`` (a lower bound on
        ``2 JSD``); ``hinge``: ``2 - hinge critic loss``; ``wasserstein``:
        ``E_b f - E_a f``; ``least-squares``: ``1/4 - LSGAN critic loss`` (the optimal
        critic of identical sets outputs 1/2 everywhere; at most 1/4, for separated sets).
        Each is 0 at the optimal critic when ``a`` and ``b`` coincide.
        """
        check_sets(a, b)
        if self.augment is not None:
            a, b = self.augment.pair(a, b)
        objective = self._critic_objective(self.loss, self.logits(b), self.logits(a))
        offset = {
            "logistic": math.log(4.0),
            "hinge": 2.0,
            "wasserstein": 0.0,
            "least-squares": 0.25,
        }[self.loss]
        return offset - objective

    def extra_repr(self) -> str:
        return (
            f"loss={self.loss!r}, gradient_penalty={self.gradient_penalty}, r1={self.r1}, "
            f"instance_noise={self.instance_noise}, roth_gamma={self.roth_gamma}"
        )


def step_schedules(module: nn.Module, step: int) -> None:
    """Call ``set_step(step)`` on every submodule of ``module`` that has one (the scheduled
    regularizers of :class:`AdversarialDistance`); the engine does this before each step."""
    for m in module.modules():
        set_step = getattr(m, "set_step", None)
        if callable(set_step):
            set_step(step)
