"""MUNIT: multimodal unsupervised translation with content and style codes (+ cycle).

Huang, Liu, Belongie, Kautz (ECCV 2018); in the self-defense paper's tables as
"MUNIT + cycle" (thesis talk, "Improving Semantic Consistency with Translation
Honesty"), and the baseline PuppetGAN and RIFT compare with through
``translate(a, guide=b)``. Each domain K has an autoencoder (:class:`MUNITAutoencoder`:
content encoder ``E^c_K``, style encoder ``E^s_K``, AdaIN decoder ``G_K``); a
translation keeps the content of its input and takes a style of the other domain:
``x_ab = G_B(E^c_A(a), s_b)`` with ``s_b ~ N(0, I)`` (or ``s_b = E^s_B(guide)``).

Generator losses (the paper's Eq. 5, weights as in its official configs):

* ``recon_a``, ``recon_b``: ``lambda_x * ||G_K(E^c_K(x), E^s_K(x)) - x||_1`` (mean);
* ``content_a``, ``content_b``: ``lambda_c * ||E^c_B(x_ab) - E^c_A(a)||_1``;
* ``style_a``, ``style_b``: ``lambda_s * ||E^s_A(x_ba) - s_a||_1`` (sampled style);
* ``adversarial_a``, ``adversarial_b``: the domain priors ``d(x_ba, A)``, ``d(x_ab, B)``,
  each any :class:`~unpaired.distances.Distance` (an adversarial critic in practice);
* ``cycle_a``, ``cycle_b`` (only when ``cycle_weight`` > 0, the "+ cycle" row and the
  official code's ``recon_x_cyc_w``): ``lambda_cyc * ||G_A(E^c_B(x_ab), E^s_A(a)) - a||_1``.

Styles are drawn from torch's global RNG (the engine reseeds it each step); learned
priors are the critic player, trained on detached translations.

Example:
    >>> import torch
    >>> from unpaired.distances import MeanDistance
    >>> from unpaired.models.munit import MUNITAutoencoder
    >>> _ = torch.manual_seed(0)
    >>> net = lambda: MUNITAutoencoder(1, width=4, blocks=1, mlp_dim=8)
    >>> task = MUNIT(net(), net(), MeanDistance(), MeanDistance(), cycle_weight=10.0)
    >>> a, b = torch.rand(2, 1, 16, 16) * 2 - 1, torch.rand(2, 1, 16, 16) * 2 - 1
    >>> sorted(task.generator_losses({"a": a, "b": b}))  # doctest: +NORMALIZE_WHITESPACE
    ['adversarial_a', 'adversarial_b', 'content_a', 'content_b', 'cycle_a', 'cycle_b',
     'recon_a', 'recon_b', 'style_a', 'style_b']
    >>> tuple(task.translate(a, "a2b", guide=b[:1]).shape)
    (2, 1, 16, 16)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.distances import Distance
from unpaired.engine.task import Task
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.record import Export, recordable
from unpaired.translation.base import Direction, check_direction, guided_export, image_export

__all__ = ["MUNIT", "GuidedMUNIT", "MUNITTranslator"]


class MUNIT(Task):
    """MUNIT on the engine; batches ``{"a": (B, C, H, W), "b": (B, C, H, W)}`` in [-1, 1].

    ``gen_a``, ``gen_b``: the domains' :class:`MUNITAutoencoder` (same ``style_dim``);
    ``prior_a`` judges translations into A (``x_ba``) against real ``a``, ``prior_b``
    those into B. ``recon_weight`` = lambda_x (10), ``content_weight`` = lambda_c (1),
    ``style_weight`` = lambda_s (1), ``cycle_weight`` = lambda_cyc (0: plain MUNIT; 10
    for "MUNIT + cycle"). ``eval_a``, ``eval_b`` (N, C, H, W): held-out images for
    :meth:`evaluate` (within-domain reconstruction and cycle L1, styles from a fixed seed).
    """

    def __init__(
        self,
        gen_a: MUNITAutoencoder,
        gen_b: MUNITAutoencoder,
        prior_a: Distance,
        prior_b: Distance,
        *,
        recon_weight: float = 10.0,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        cycle_weight: float = 0.0,
        eval_a: torch.Tensor | None = None,
        eval_b: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if gen_a.style_dim != gen_b.style_dim:
            raise ValueError(
                f"gen_a and gen_b need the same style_dim, got {gen_a.style_dim}, {gen_b.style_dim}"
            )
        weights = (recon_weight, content_weight, style_weight, cycle_weight)
        if not all(w >= 0 for w in weights):
            raise ValueError(f"loss weights must be >= 0, got {weights}")
        self.gen_a, self.gen_b = gen_a, gen_b
        self.prior_a, self.prior_b = prior_a, prior_b
        self.recon_weight, self.content_weight = float(recon_weight), float(content_weight)
        self.style_weight, self.cycle_weight = float(style_weight), float(cycle_weight)
        self.style_dim = gen_a.style_dim
        self.register_buffer("eval_a", eval_a, persistent=False)
        self.register_buffer("eval_b", eval_b, persistent=False)

    # ----------------------------------------------------------------- translation
    def _gens(self, direction: str) -> tuple[MUNITAutoencoder, MUNITAutoencoder]:
        check_direction(direction)
        return (self.gen_a, self.gen_b) if direction == "a2b" else (self.gen_b, self.gen_a)

    def sample_style(
        self, n: int, *, like: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` styles from the prior N(0, I): (n, style_dim), dtype/device of ``like``."""
        return torch.randn(
            n, self.style_dim, generator=generator, dtype=like.dtype, device=like.device
        )

    def translate(
        self,
        x: torch.Tensor,
        direction: Direction = "a2b",
        guide: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Translate ``x`` (N, C, H, W) in [-1, 1] across domains, keeping its content.

        With ``guide`` (N or 1 images of the *target* domain) the style is the guide's,
        ``E^s(guide)``; without, one style per image is drawn from N(0, I) with
        ``generator`` (default: a fresh generator seeded 0, so repeated calls give the
        same translation and the global RNG is left alone). Returns (N, C', H, W) in
        (-1, 1). Training draws its styles from the global RNG instead.
        """
        source, target = self._gens(direction)
        check_shape("x", x, ("N", source.channels, "H", "W"))
        content = source.content(x)
        if guide is None:
            if generator is None:
                generator = torch.Generator(device=x.device).manual_seed(0)
            style = self.sample_style(x.shape[0], like=x, generator=generator)
        else:
            check_shape("guide", guide, ("M", target.channels, "H", "W"))
            if guide.shape[0] not in (1, x.shape[0]):
                raise ValueError(
                    f"guide must hold 1 or {x.shape[0]} images (one per input), got {guide.shape[0]}"
                )
            style = target.style(guide).expand(x.shape[0], -1)
        return target.decode(content, style)

    def exports(self) -> dict[str, Export]:
        """Both directions as :class:`MUNITTranslator` networks (kind ``"image"``, [-1, 1],
        styles from the prior) and as :class:`GuidedMUNIT` (``"a2b-guided"``,
        ``"b2a-guided"``, kind ``"guided"``: the style of a guide of the target domain)."""
        a, b = self.gen_a, self.gen_b
        return {
            "a2b": image_export(MUNITTranslator(a, b), a.channels),
            "b2a": image_export(MUNITTranslator(b, a), b.channels),
            "a2b-guided": guided_export(GuidedMUNIT(a, b), a.channels, b.channels),
            "b2a-guided": guided_export(GuidedMUNIT(b, a), b.channels, a.channels),
        }

    # ---------------------------------------------------------------------- losses
    def critic_parameters(self) -> list[nn.Parameter]:
        return [
            p for prior in (self.prior_a, self.prior_b) if prior.learned for p in prior.parameters()
        ]

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        c_a, s_a_own = self.gen_a.encode(a)
        c_b, s_b_own = self.gen_b.encode(b)
        s_a = self.sample_style(a.shape[0], like=a)
        s_b = self.sample_style(b.shape[0], like=b)
        x_ba = self.gen_a.decode(c_b, s_a)
        x_ab = self.gen_b.decode(c_a, s_b)
        c_b_rec, s_a_rec = self.gen_a.encode(x_ba)
        c_a_rec, s_b_rec = self.gen_b.encode(x_ab)
        losses = {
            "recon_a": self.recon_weight * F.l1_loss(self.gen_a.decode(c_a, s_a_own), a),
            "recon_b": self.recon_weight * F.l1_loss(self.gen_b.decode(c_b, s_b_own), b),
            "content_a": self.content_weight * F.l1_loss(c_a_rec, c_a),
            "content_b": self.content_weight * F.l1_loss(c_b_rec, c_b),
            "style_a": self.style_weight * F.l1_loss(s_a_rec, s_a),
            "style_b": self.style_weight * F.l1_loss(s_b_rec, s_b),
            "adversarial_a": self.prior_a.generator_loss(x_ba, a),
            "adversarial_b": self.prior_b.generator_loss(x_ab, b),
        }
        if self.cycle_weight > 0:
            aba = self.gen_a.decode(c_a_rec, s_a_own)
            bab = self.gen_b.decode(c_b_rec, s_b_own)
            losses["cycle_a"] = self.cycle_weight * F.l1_loss(aba, a)
            losses["cycle_b"] = self.cycle_weight * F.l1_loss(bab, b)
        return losses

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        with torch.no_grad():  # styles from the global RNG, like generator_losses
            x_ba = self.gen_a.decode(self.gen_b.content(b), self.sample_style(b.shape[0], like=b))
            x_ab = self.gen_b.decode(self.gen_a.content(a), self.sample_style(a.shape[0], like=a))
        losses = {}
        for key, prior, fake, real in (("a", self.prior_a, x_ba, a), ("b", self.prior_b, x_ab, b)):
            loss = prior.critic_loss(fake, real)
            if loss is not None:
                losses[f"critic_{key}"] = loss
        return losses

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict[str, float]:
        """``recon_a/b``: mean L1 of the within-domain reconstruction; ``cycle_a/b``: mean
        L1 of ``G_A(E^c_B(x_ab), E^s_A(a)) - a`` with styles from a fixed seed."""
        out: dict[str, float] = {}
        for key, x, direction in (("a", self.eval_a, "a2b"), ("b", self.eval_b, "b2a")):
            if x is None:
                continue
            source, target = self._gens(direction)
            g = torch.Generator(device=x.device).manual_seed(0)
            content, style = source.encode(x)
            moved = target.decode(content, self.sample_style(x.shape[0], like=x, generator=g))
            back = source.decode(target.content(moved), style)
            out[f"recon_{key}"] = float((source.decode(content, style) - x).abs().mean())
            out[f"cycle_{key}"] = float((back - x).abs().mean())
        return out


@recordable
class MUNITTranslator(nn.Module):
    """One direction of a MUNIT as a plain network (what ``exports`` records):
    ``x -> target.decode(source.content(x), s)``, the styles ``s`` (B, style_dim) drawn
    from N(0, I) by a generator seeded ``seed`` at every call, as :meth:`MUNIT.translate`
    does without a guide (so image ``i`` of a batch always gets the ``i``-th style)."""

    def __init__(
        self, source: MUNITAutoencoder, target: MUNITAutoencoder, *, seed: int = 0
    ) -> None:
        super().__init__()
        self.source, self.target, self.seed = source, target, seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.Generator(device=x.device).manual_seed(self.seed)
        style = torch.randn(
            x.shape[0], self.target.style_dim, generator=g, dtype=x.dtype, device=x.device
        )
        return self.target.decode(self.source.content(x), style)


@recordable
class GuidedMUNIT(nn.Module):
    """One direction of a MUNIT guided by an image of the target domain:
    ``(x, guide) -> target.decode(source.content(x), target.style(guide))``
    (:meth:`MUNIT.translate` with a guide)."""

    def __init__(self, source: MUNITAutoencoder, target: MUNITAutoencoder) -> None:
        super().__init__()
        self.source, self.target = source, target

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        return self.target.decode(self.source.content(x), self.target.style(guide))
