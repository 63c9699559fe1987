"""A StarGAN v2-style reference-guided translator (Choi et al., CVPR 2020), small.

One generator ``G(x, s)`` for both directions, a style encoder ``E(x, domain)`` with one
head per domain, and a prior per domain (a learned :class:`~unpaired.distances.Distance`:
the per-domain discriminator). Translating ``a`` to B guided by ``b``:
``G(a, E(b, B))``. Losses per direction (A -> B shown; guides are the batch rolled by one
and by two, so nothing pairs the domains):

* adversarial ``d_B(G(a, s'), B)`` with ``s' = E(b', B)``;
* style reconstruction (weight ``style``, 1): ``|E(G(a, s'), B) - s'|``;
* diversity (``diversity``, 1): ``-|G(a, s') - G(a, s'')|`` for two guides' styles;
* cycle (``cycle``, 1): ``|G(G(a, s'), E(a, A)) - a|``.

Left out: the mapping network and latent-guided translation (only reference-guided
translation is evaluated), the R1 penalty (use the prior's ``r1`` option) and the
diversity weight's decay.

Example:
    >>> from unpaired.models.guided import AdaINGenerator, StyleEncoder
    >>> from unpaired.models.translation import PatchCritic
    >>> from unpaired.distances import AdversarialDistance
    >>> d = lambda: AdversarialDistance(PatchCritic(3, width=4, n_layers=2), loss="least-squares")
    >>> t = StarGANv2(AdaINGenerator(3, 8, width=4), StyleEncoder(3, 8, width=4), d(), d())
    >>> x = torch.zeros(3, 3, 16, 16)
    >>> t.translate(x, "b2a", guide=x).shape
    torch.Size([3, 3, 16, 16])
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.distances import Distance
from unpaired.engine.task import Task
from unpaired.models.record import Export, recordable
from unpaired.translation.base import Direction, check_direction, check_guide, guided_export


class StarGANv2(Task):
    """Reference-guided StarGAN v2 (module docstring); batches ``{"a": ..., "b": ...}``
    (B >= 3 images each)."""

    def __init__(
        self,
        generator: nn.Module,
        style_encoder: nn.Module,
        prior_a: Distance,
        prior_b: Distance,
        *,
        style: float = 1.0,
        diversity: float = 1.0,
        cycle: float = 1.0,
    ) -> None:
        super().__init__()
        self.generator, self.style_encoder = generator, style_encoder
        self.prior_a, self.prior_b = prior_a, prior_b
        self.w = {"style": style, "diversity": diversity, "cycle": cycle}

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """G(x, E(guide, target domain)); a guide is required (no mapping network)."""
        check_direction(direction)
        check_shape("x", x, ("N", "C", "H", "W"))
        if guide is None:
            raise ValueError("StarGANv2.translate needs a guide (reference-guided only)")
        check_guide(guide, x)
        return self.generator(x, self.style_encoder(guide, 1 if direction == "a2b" else 0))

    def exports(self) -> dict[str, Export]:
        """Both directions as :class:`StarGANTranslator` networks ``(x, guide) -> y``
        (kind ``"guided"``, [-1, 1]; the guide is an image of the target domain)."""
        c = int(getattr(self.generator, "channels", 3))
        return {
            d: guided_export(StarGANTranslator(self.generator, self.style_encoder, target=t), c)
            for d, t in (("a2b", 1), ("b2a", 0))
        }

    def _side(self, x, y, d_src: int, d_tgt: int, prior: Distance, name: str) -> dict:
        s1 = self.style_encoder(y.roll(1, 0), d_tgt)
        fake = self.generator(x, s1)
        out = {f"adversarial_{name}": prior(fake, y)}
        if self.w["style"] > 0:
            out[f"style_{name}"] = (
                self.w["style"] * (self.style_encoder(fake, d_tgt) - s1).abs().mean()
            )
        if self.w["diversity"] > 0:
            fake2 = self.generator(x, self.style_encoder(y.roll(2, 0), d_tgt))
            out[f"diversity_{name}"] = -self.w["diversity"] * (fake - fake2).abs().mean()
        if self.w["cycle"] > 0:
            rec = self.generator(fake, self.style_encoder(x, d_src))
            out[f"cycle_{name}"] = self.w["cycle"] * (rec - x).abs().mean()
        return out

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        return {
            **self._side(a, b, 0, 1, self.prior_b, "b"),
            **self._side(b, a, 1, 0, self.prior_a, "a"),
        }

    def critic_parameters(self) -> list[nn.Parameter]:
        return [*self.prior_a.parameters(), *self.prior_b.parameters()]

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b = batch["a"], batch["b"]
        with torch.no_grad():
            fake_b = self.translate(a, "a2b", b.roll(1, 0))
            fake_a = self.translate(b, "b2a", a.roll(1, 0))
        return {
            "critic_a": self.prior_a.critic_loss(fake_a, a),
            "critic_b": self.prior_b.critic_loss(fake_b, b),
        }


@recordable
class StarGANTranslator(nn.Module):
    """One direction of a :class:`StarGANv2` as a network ``(x, guide) -> G(x, E(guide,
    target))`` (``target``: the domain index of the guide, 1 for B, 0 for A), what
    :meth:`StarGANv2.translate` computes."""

    def __init__(self, generator: nn.Module, style_encoder: nn.Module, *, target: int) -> None:
        super().__init__()
        self.generator, self.style_encoder, self.target = generator, style_encoder, int(target)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        return self.generator(x, self.style_encoder(guide, self.target))
