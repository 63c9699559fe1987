"""RIFT: guided many-to-many translation by restricted information flow (Usman*,
Bashkirova* & Saenko; thesis talk, "RIFT: Translation via Restricted Information Flow",
"Capacity Loss", "Honesty Loss"; official code ``MInner/rift``, read for
``../shared/notes/rift_metapose.md`` section 1).

Two generators ``G_A2B``, ``G_B2A`` whose input and output carry one channel more than the
images. The extra output channel is the **guide embedding** ``s``: a one-channel spatial map
in [-1, 1] that the generator extracts from an image of its own input domain when its
extra input channel is zero, ``s(a) = G_A2B(a + 0)[3]``, ``s(b) = G_B2A(b + 0)[3]`` (``+``
= channel concatenation). A translation guided by an example of the target domain is

    F_A2B(a, b) = G_A2B(a + eps_img  (+)  s(b) + eps_s)[:3],   eps ~ N(0, sigma^2)

(B2A symmetric). In training the guide of ``a`` is another sample of the batch (the batch
rolled by one), so nothing pairs the domains. Losses (image terms are mean L1 on [-1, 1]):

* **priors**: ``d_A(F_B2A(b, a'), A)``, ``d_B(F_A2B(a, b'), B)``, any learned
  :class:`~unpaired.distances.Distance` (LSGAN PatchGAN critics in the official code);
* **cycle** (weight 10): ``|a - G_B2A(F_A2B(a, b') + eps  (+)  s(a) + eps_s)[:3]|``: the
  source-specific factors of ``a`` lost in the translation must come back from ``a``'s
  own embedding, which is what makes ``s`` carry them;
* **identity** (1): ``|a - G_B2A(a  (+)  s(a) + eps_s)[:3]|``;
* **capacity** (``capacity`` x (mean|s(a)| + mean|s(b)|)), with the fixed noise
  ``sigma_s`` added to ``s`` wherever it is consumed. Theorem 1 (the talk): the
  information the guide channel can carry is bounded by its power-to-noise ratio,
  ``MI(a; a') <~ dim(s) * log2(1 + L / sigma_s^2)`` bits, ``L = E||s(a)||^2``;
  :func:`capacity_bound` evaluates it (in bits, per image, ``dim(s) = H * W``). The
  penalty is the official code's L1 (it bounds L since |s| <= 1: ``L <= dim(s) *
  mean|s|``) and sparsifies ``s``; a small ``s`` at a fixed ``sigma_s`` can pass only
  a few factors, so the cheapest code for the cycle is the target-specific ones, which
  the other domain's image cannot carry;
* **honesty** (the self-defence of Bashkirova, Usman & Saenko, NeurIPS'19): Gaussian
  noise ``input_noise`` on the image input of every translation, cycle step included,
  and the **guess** game (:mod:`unpaired.translation.honesty`, the same code as
  CycleGAN's): a critic sees ``a`` and ``rec(a)`` stacked in an order drawn per sample
  and learns which one is the original; the generators train on the flipped labels
  (weight ``guess``), which pushes it to chance: a reconstruction that is
  distinguishable from the original betrays hidden (steganographic) information.

``translate(x, direction, guide)`` is noise-free (the embedding extraction always is).
Checkpoints are selected by nothing (the official code picks the best test attribute
error; here the last step is kept).

Example:
    >>> from unpaired.models.translation import PatchCritic, ResnetGenerator
    >>> from unpaired.distances import AdversarialDistance
    >>> gen = lambda: ResnetGenerator(4, 4, width=4, n_blocks=1)
    >>> crit = lambda c: PatchCritic(c, width=4, n_layers=2)
    >>> d = lambda: AdversarialDistance(crit(3), loss="least-squares")
    >>> task = RIFT(gen(), gen(), d(), d(), crit(6), crit(6))
    >>> x = torch.rand(4, 3, 16, 16) * 2 - 1
    >>> task.translate(x, "a2b", guide=x).shape
    torch.Size([4, 3, 16, 16])
    >>> sorted(task.generator_losses({"a": x, "b": x}))[:3]
    ['adversarial_a', 'adversarial_b', 'capacity']
"""

from __future__ import annotations

import math

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.distances import Distance
from unpaired.engine.task import Task
from unpaired.models.record import Export, recordable
from unpaired.translation.base import (
    Direction,
    check_direction,
    check_guide,
    guided_export,
    image_export,
)
from unpaired.translation.honesty import guess_loss


def capacity_bound(s: torch.Tensor, sigma: float) -> float:
    """Theorem 1's bound ``dim(s) * log2(1 + L / sigma^2)`` (bits per image) for guide
    embeddings ``s`` (N, *): ``L`` = the mean squared norm ``E||s||^2``, ``dim(s)`` the
    number of entries of one embedding; ``inf`` for ``sigma = 0``."""
    if sigma <= 0:
        return math.inf
    dim = s[0].numel()
    power = float(s.flatten(1).square().sum(1).mean())
    return dim * math.log2(1 + power / sigma**2)


class RIFT(Task):
    """RIFT (module docstring). ``g_a2b``, ``g_b2a``: generators (N, C + 1, H, W) -> (N, C +
    1, H, W) in [-1, 1]; ``prior_a``, ``prior_b``: learned distances to each domain;
    ``guess_a``, ``guess_b``: critics of channel-stacked pairs (N, 2C, H, W) -> logits
    (``None`` with ``guess = 0``). Batches: ``{"a": (B, C, H, W), "b": (B, C, H, W)}``,
    B >= 2 (the guides are the batch rolled by one)."""

    def __init__(
        self,
        g_a2b: nn.Module,
        g_b2a: nn.Module,
        prior_a: Distance,
        prior_b: Distance,
        guess_a: nn.Module | None = None,
        guess_b: nn.Module | None = None,
        *,
        cycle: float = 10.0,
        identity: float = 1.0,
        capacity: float = 0.5,
        style_noise: float = 0.1,
        guess: float = 0.05,
        input_noise: float = 0.1,
    ) -> None:
        super().__init__()
        for name, v in (
            ("cycle", cycle),
            ("identity", identity),
            ("capacity", capacity),
            ("style_noise", style_noise),
            ("guess", guess),
            ("input_noise", input_noise),
        ):
            if not v >= 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        if guess > 0 and (guess_a is None or guess_b is None):
            raise ValueError("guess > 0 needs both guess critics")
        self.g = nn.ModuleDict({"a2b": g_a2b, "b2a": g_b2a})
        self.prior_a, self.prior_b = prior_a, prior_b
        self.guess_a, self.guess_b = guess_a, guess_b
        self.w = {"cycle": cycle, "identity": identity, "capacity": capacity, "guess": guess}
        self.style_noise, self.input_noise = style_noise, input_noise

    # -- the translation -------------------------------------------------------------
    def embed(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        """Guide embedding s(x) (N, 1, H, W) of images ``x`` of ``domain`` ("a" or "b")."""
        g = self.g["a2b" if domain == "a" else "b2a"]
        return g(torch.cat([x, torch.zeros_like(x[:, :1])], 1))[:, -1:]

    def _run(self, x: torch.Tensor, s: torch.Tensor, direction: str, noisy: bool) -> torch.Tensor:
        if noisy and self.input_noise > 0:
            x = x + self.input_noise * torch.randn_like(x)
        if noisy and self.style_noise > 0:
            s = s + self.style_noise * torch.randn_like(s)
        return self.g[direction](torch.cat([x, s], 1))[:, :-1]

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """F(x, guide) (N, C, H, W), noise-free; without a guide the embedding is zero."""
        check_direction(direction)
        check_shape("x", x, ("N", "C", "H", "W"))
        check_guide(guide, x)
        if guide is None:
            s = torch.zeros_like(x[:, :1])
        else:
            s = self.embed(guide, "b" if direction == "a2b" else "a")
        return self._run(x, s, direction, noisy=False)

    def exports(self) -> dict[str, Export]:
        """Both directions unguided (:class:`UnguidedRIFT`: a zero embedding, as
        :meth:`translate` without a guide; kind ``"image"``) and guided
        (:class:`GuidedRIFT`: ``"a2b-guided"``, ``"b2a-guided"``, kind ``"guided"``: an
        example of the target domain per input, of the input's size), all in [-1, 1]."""
        out = {
            d: image_export(UnguidedRIFT(g), int(getattr(g, "in_channels", 1)) - 1)
            for d, g in self.g.items()
        }
        for d, g in self.g.items():
            other = self.g["b2a" if d == "a2b" else "a2b"]
            c = int(getattr(g, "in_channels", 1)) - 1
            out[f"{d}-guided"] = guided_export(GuidedRIFT(g, other), c, guide_like_input=True)
        return out

    # -- training ----------------------------------------------------------------------
    def _forward(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
        if a.shape[0] < 2 or b.shape[0] < 2:
            raise ValueError("RIFT needs batches of at least 2 (guides are other samples)")
        s_a, s_b = self.embed(a, "a"), self.embed(b, "b")
        fake_b = self._run(a, s_b.roll(1, 0), "a2b", noisy=True)
        fake_a = self._run(b, s_a.roll(1, 0), "b2a", noisy=True)
        return {
            "s_a": s_a,
            "s_b": s_b,
            "fake_a": fake_a,
            "fake_b": fake_b,
            "rec_a": self._run(fake_b, s_a, "b2a", noisy=True),
            "rec_b": self._run(fake_a, s_b, "a2b", noisy=True),
        }

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        f = self._forward(a, b)
        out = {
            "adversarial_a": self.prior_a(f["fake_a"], a),
            "adversarial_b": self.prior_b(f["fake_b"], b),
            "cycle_a": self.w["cycle"] * (f["rec_a"] - a).abs().mean(),
            "cycle_b": self.w["cycle"] * (f["rec_b"] - b).abs().mean(),
            "capacity": self.w["capacity"] * (f["s_a"].abs().mean() + f["s_b"].abs().mean()),
        }
        if self.w["identity"] > 0:
            id_a = self._run(a, f["s_a"], "b2a", noisy=False)
            id_b = self._run(b, f["s_b"], "a2b", noisy=False)
            out["identity_a"] = self.w["identity"] * (id_a - a).abs().mean()
            out["identity_b"] = self.w["identity"] * (id_b - b).abs().mean()
        if self.w["guess"] > 0:
            for side, critic, x, rec in (
                ("a", self.guess_a, a, f["rec_a"]),
                ("b", self.guess_b, b, f["rec_b"]),
            ):
                out[f"guess_{side}"] = self.w["guess"] * guess_loss(critic, x, rec, flip=True)
        return out

    def critic_parameters(self) -> list[nn.Parameter]:
        mods = [self.prior_a, self.prior_b]
        if self.w["guess"] > 0:
            mods += [self.guess_a, self.guess_b]
        return [p for m in mods for p in m.parameters()]

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        with torch.no_grad():
            f = self._forward(a, b)
        out = {
            "critic_a": self.prior_a.critic_loss(f["fake_a"], a),
            "critic_b": self.prior_b.critic_loss(f["fake_b"], b),
        }
        if self.w["guess"] > 0:
            for side, critic, x, rec in (
                ("a", self.guess_a, a, f["rec_a"]),
                ("b", self.guess_b, b, f["rec_b"]),
            ):
                out[f"guess_critic_{side}"] = guess_loss(critic, x, rec, flip=False)
        return out


@recordable
class UnguidedRIFT(nn.Module):
    """A RIFT generator (N, C + 1, H, W) -> (N, C + 1, H, W) as an image map without a
    guide: ``x -> generator(x (+) 0)[:, :C]`` (``RIFT.translate(x, direction)``)."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator(torch.cat([x, torch.zeros_like(x[:, :1])], 1))[:, :-1]


@recordable
class GuidedRIFT(nn.Module):
    """One direction of a RIFT guided by an example of its target domain:
    ``(x, guide) -> generator(x (+) s(guide))[:, :C]`` with ``s(guide) =
    embedder(guide (+) 0)[:, -1:]`` (``embedder``: the generator *from* the target domain),
    :meth:`RIFT.translate` with a guide (noise-free). ``guide`` has the input's size."""

    def __init__(self, generator: nn.Module, embedder: nn.Module) -> None:
        super().__init__()
        self.generator, self.embedder = generator, embedder

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        s = self.embedder(torch.cat([guide, torch.zeros_like(guide[:, :1])], 1))[:, -1:]
        return self.generator(torch.cat([x, s], 1))[:, :-1]
