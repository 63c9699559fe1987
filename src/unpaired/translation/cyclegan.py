"""CycleGAN (Zhu et al., ICCV'17) with adversarial self-defense (Bashkirova, Usman,
Saenko, NeurIPS'19; thesis talk "Improving Semantic Consistency with Translation Honesty").

Two generators ``g_ab``: A -> B and ``g_ba``: B -> A, and one prior per domain, each a
:class:`~unpaired.distances.Distance` between translations and real images of that
domain (default: an LSGAN :class:`~unpaired.distances.AdversarialDistance` with a
PatchGAN critic, :func:`default_prior`). With ``a`` ~ A, ``b`` ~ B and
``fake_b = g_ab(a)``, ``fake_a = g_ba(b)``, the generator player minimizes::

    L_G = d_B(fake_b, B) + d_A(fake_a, A)                               (adversarial)
        + lambda_a |g_ba(fake_b + eps) - a|_1 + lambda_b |g_ab(fake_a + eps) - b|_1  (cycle)
        + identity (lambda_b |g_ab(b) - b|_1 + lambda_a |g_ba(a) - a|_1)   (identity)
        + guess_weight (MSE(D^A_guess(pair'_a), 1 - y'_a) + MSE(D^B_guess(pair'_b), 1 - y'_b))

(L1 as a mean over values, as ``nn.L1Loss``; ``identity`` is the reference code's
``lambda_identity`` 0.5, needs equal channel counts; 0 turns it off). The critic player
minimizes ``d_B.critic_loss(pool_B(fake_b), b) + d_A.critic_loss(pool_A(fake_a), a)``
(the LSGAN ``1/2 (MSE(D(real), 1) + MSE(D(fake), 0))``; :class:`ImagePool` of 50
past translations) and the guess losses below.

**Self-defense** (the paper's two defenses; ``../shared/notes/translation.md`` 1.2, 1.3):

* ``noise_std`` = sigma: ``eps ~ N(0, sigma^2)`` i.i.d. per value is added to the
  translation before the backward generator, in both cycles, in training only; not
  clamped, gradients flow through it. The adversarial terms see the clean translation.
  (Reference code default 0.1 in [-1, 1] units.)
* ``guess_weight``: a guess discriminator per domain, a critic on the channel
  concatenation of an image and its cycle reconstruction, in an order drawn **per
  sample** (:mod:`unpaired.translation.honesty`, shared with RIFT): label ``y = 1``
  when the reconstruction comes first,
  ``0`` when the original does. It learns ``MSE(D_guess(pair), y)`` (LSGAN, no 0.5, as
  the reference); the generators are trained with flipped labels ``1 - y'`` on a fresh
  draw, pushing it to chance. It sees current, paired reconstructions (not the image
  pool, unlike the reference code's quirk). The reference default is 2.0; its docs
  suggest "close to or same as" lambda.

**Engine schedule.** The engine runs the critic update before the generator update of
each step. The critic trains on the detached translations and reconstructions of the
*previous* generator update (the reference trains ``D`` right after ``G`` on the images
``G`` made before its update: the same images), kept with the image pools in the
module's extra state, so checkpoints hold them and resumed runs are exact. When none
are pending (first step, or ``n_critic`` > 1) it translates its own batch.

Batches are ``{"a": (N, C_a, H, W), "b": (M, C_b, H, W)}`` in [-1, 1] (e.g.
``Unpaired({"a": TensorSampler(photos, batch_size=1), "b": TensorSampler(maps, ...)})``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.distances import AdversarialDistance, Distance
from unpaired.engine import Task
from unpaired.models.record import Export
from unpaired.models.translation import PatchCritic, init_normal
from unpaired.translation.base import Direction, check_direction, image_export
from unpaired.translation.honesty import guess_loss

if TYPE_CHECKING:
    from unpaired.engine import TrainConfig

Evaluator = Callable[["CycleGAN"], dict[str, float]]


def default_prior(
    channels: int, *, width: int = 64, n_layers: int = 3, init_std: float = 0.02
) -> AdversarialDistance:
    """CycleGAN's prior: an LSGAN :class:`AdversarialDistance` with a PatchGAN critic."""
    critic = init_normal(PatchCritic(channels, width=width, n_layers=n_layers), init_std)
    return AdversarialDistance(critic, loss="least-squares")


class ImagePool(nn.Module):
    """The history of generated images the critic trains on (Shrivastava et al. 2017).

    ``query(images)`` (N, C, H, W) -> (N, C, H, W): while the pool holds fewer than
    ``size`` images each image is stored and returned; then, with probability 1/2, a
    random stored image is returned and replaced by the new one, else the new one is
    returned. ``size`` 0 returns the images unchanged. Randomness from torch's global
    RNG (reseeded by the engine every step); the stored images are the module's extra
    state (checkpointed with the task).
    """

    def __init__(self, size: int = 50) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = size
        self.images: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.images is None else self.images.shape[0]

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        check_shape("images", images, ("N", "C", "H", "W"))
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for img in images:
            n = len(self)
            if n < self.size:
                self.images = img[None].clone() if n == 0 else torch.cat([self.images, img[None]])  # type: ignore[list-item]
                out.append(img)
                continue
            assert self.images is not None
            if float(torch.rand(())) < 0.5:
                k = int(torch.randint(0, self.size, ()))
                out.append(self.images[k].clone())
                self.images[k] = img
            else:
                out.append(img)
        return torch.stack(out)

    def get_extra_state(self) -> Any:
        return {"images": None if self.images is None else self.images.clone()}

    def set_extra_state(self, state: Any) -> None:
        self.images = state["images"]


class _Pending(nn.Module):
    """The last generator update's detached images, for the next critic update."""

    def __init__(self) -> None:
        super().__init__()
        self.images: dict[str, torch.Tensor] | None = None

    def get_extra_state(self) -> Any:
        return {"images": self.images}

    def set_extra_state(self, state: Any) -> None:
        self.images = state["images"]


class CycleGAN(Task):
    """CycleGAN with the noise and guess defenses (module docstring for the losses).

    Args:
        g_ab, g_ba: generators A -> B and B -> A, (N, C_a, H, W) <-> (N, C_b, H, W).
        prior_a, prior_b: distances ``d(translations, real images)`` of domains A and B
            (:func:`default_prior` for the paper's LSGAN PatchGAN).
        lambda_a, lambda_b: weights of the cycle L1 terms (10).
        identity: identity weight as a fraction of lambda (0.5; needs C_a == C_b).
        noise_std: the noise defense's sigma (0: off).
        guess_weight: the guess defense's weight (0: off); then ``guess_a`` / ``guess_b``
            are its critics on (N, 2 C_a, H, W) / (N, 2 C_b, H, W) pairs (default:
            PatchGAN critics like the priors').
        pool_size: images per :class:`ImagePool` (50; 0 for none).
        lr_decay: ``(start, end)`` steps: both learning rates decay linearly from their
            value at ``start`` to 0 after ``end`` (the reference's 100 + 100 epochs);
            ``None``: constant.
        evaluator: ``evaluator(task) -> metrics`` for :meth:`evaluate` (e.g.
            :class:`unpaired.translation.evaluation.MapsEvaluator`).
    """

    def __init__(
        self,
        g_ab: nn.Module,
        g_ba: nn.Module,
        prior_a: Distance,
        prior_b: Distance,
        *,
        lambda_a: float = 10.0,
        lambda_b: float = 10.0,
        identity: float = 0.5,
        noise_std: float = 0.0,
        guess_weight: float = 0.0,
        guess_a: nn.Module | None = None,
        guess_b: nn.Module | None = None,
        pool_size: int = 50,
        lr_decay: tuple[int, int] | None = None,
        evaluator: Evaluator | None = None,
    ) -> None:
        super().__init__()
        for k, v in {
            "lambda_a": lambda_a,
            "lambda_b": lambda_b,
            "identity": identity,
            "noise_std": noise_std,
            "guess_weight": guess_weight,
        }.items():
            if not v >= 0:
                raise ValueError(f"{k} must be >= 0, got {v}")
        if lr_decay is not None and not 0 <= lr_decay[0] < lr_decay[1]:
            raise ValueError(f"lr_decay must be (start, end) with 0 <= start < end, got {lr_decay}")
        self.g_ab, self.g_ba = g_ab, g_ba
        self.prior_a, self.prior_b = prior_a, prior_b
        self.lambda_a, self.lambda_b, self.identity = lambda_a, lambda_b, identity
        self.noise_std, self.guess_weight = noise_std, guess_weight
        self.guess_a: nn.Module | None = None
        self.guess_b: nn.Module | None = None
        if guess_weight > 0:
            if guess_a is None or guess_b is None:
                raise ValueError("guess_weight > 0 needs guess_a and guess_b (critics of pairs)")
            self.guess_a, self.guess_b = guess_a, guess_b
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self.pending = _Pending()
        self.lr_decay = lr_decay
        self.evaluator = evaluator
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self._base_lr: dict[str, list[float]] = {}

    # ------------------------------------------------------------------ translator
    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``g_ab(x)`` for ``"a2b"``, ``g_ba(x)`` for ``"b2a"`` (deterministic: ``guide``
        is ignored). (N, C, H, W) in [-1, 1] -> (N, C', H, W)."""
        check_direction(direction)
        return self.g_ab(x) if direction == "a2b" else self.g_ba(x)

    def exports(self) -> dict[str, Export]:
        """Both generators (kind ``"image"``, [-1, 1]): ``a2b`` and ``b2a``."""
        return {"a2b": image_export(self.g_ab), "b2a": image_export(self.g_ba)}

    # ------------------------------------------------------------------ players
    def critic_parameters(self) -> list[nn.Parameter]:
        mods = [self.prior_a, self.prior_b, self.guess_a, self.guess_b]
        return [p for m in mods if m is not None for p in m.parameters()]

    def _cycle(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
        fake_b, fake_a = self.g_ab(a), self.g_ba(b)
        noisy_b, noisy_a = fake_b, fake_a
        if self.training and self.noise_std > 0:
            noisy_b = fake_b + self.noise_std * torch.randn_like(fake_b)
            noisy_a = fake_a + self.noise_std * torch.randn_like(fake_a)
        return {
            "a": a,
            "b": b,
            "fake_a": fake_a,
            "fake_b": fake_b,
            "rec_a": self.g_ba(noisy_b),
            "rec_b": self.g_ab(noisy_a),
        }

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        im = self._cycle(a, b)
        losses = {
            "adversarial_ab": self.prior_b.generator_loss(im["fake_b"], b),
            "adversarial_ba": self.prior_a.generator_loss(im["fake_a"], a),
            "cycle_a": self.lambda_a * F.l1_loss(im["rec_a"], a),
            "cycle_b": self.lambda_b * F.l1_loss(im["rec_b"], b),
        }
        if self.identity > 0:
            losses["identity_b"] = self.identity * self.lambda_b * F.l1_loss(self.g_ab(b), b)
            losses["identity_a"] = self.identity * self.lambda_a * F.l1_loss(self.g_ba(a), a)
        if self.guess_a is not None and self.guess_b is not None:
            w = self.guess_weight
            losses["guess_a"] = w * guess_loss(self.guess_a, a, im["rec_a"], flip=True)
            losses["guess_b"] = w * guess_loss(self.guess_b, b, im["rec_b"], flip=True)
        if self.training and self.critic_parameters():
            self.pending.images = {k: v.detach() for k, v in im.items()}
        return losses

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        im = self.pending.images
        self.pending.images = None
        if im is None:
            with torch.no_grad():
                im = self._cycle(a, b)
        losses: dict[str, torch.Tensor] = {}
        for name, prior, pool, fake, real in (
            ("critic_b", self.prior_b, self.pool_b, im["fake_b"], b),
            ("critic_a", self.prior_a, self.pool_a, im["fake_a"], a),
        ):
            loss = prior.critic_loss(pool.query(fake), real) if prior.learned else None
            if loss is not None:
                losses[name] = loss
        if self.guess_a is not None and self.guess_b is not None:
            losses["guess_a"] = guess_loss(self.guess_a, im["a"], im["rec_a"], flip=False)
            losses["guess_b"] = guess_loss(self.guess_b, im["b"], im["rec_b"], flip=False)
        return losses

    # ------------------------------------------------------------------ schedule
    def configure_optimizers(self, config: TrainConfig) -> dict[str, torch.optim.Optimizer]:
        self._optimizers = super().configure_optimizers(config)
        self._base_lr = {k: [g["lr"] for g in o.param_groups] for k, o in self._optimizers.items()}
        return self._optimizers

    def lr_factor(self, step: int) -> float:
        """The learning-rate multiplier at ``step`` (1 without ``lr_decay``)."""
        if self.lr_decay is None:
            return 1.0
        start, end = self.lr_decay
        return max(0.0, 1.0 - max(0, step - start) / (end - start + 1))

    def on_step_start(self, step: int) -> None:
        super().on_step_start(step)  # annealed regularizers of the priors' distances
        f = self.lr_factor(step)
        for k, opt in self._optimizers.items():
            for group, lr in zip(opt.param_groups, self._base_lr[k], strict=True):
                group["lr"] = lr * f

    def evaluate(self) -> dict[str, float]:
        return {} if self.evaluator is None else self.evaluator(self)


def guess_critic(channels: int, *, width: int = 64, n_layers: int = 3) -> nn.Module:
    """The guess discriminator of one domain: a PatchGAN on (N, 2 * channels, H, W) pairs."""
    return init_normal(PatchCritic(2 * channels, width=width, n_layers=n_layers))
