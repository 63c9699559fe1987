"""Cycle-consistent VAE baseline of PuppetGAN's Table 2 (after Jha et al., ECCV 2018).

A shared encoder splits the embedding into a deterministic attribute part (the
"specified" factor, supervised by the synthetic triplets) and a variational rest part
``z ~ N(mu, sigma^2)`` (the "unspecified" factor); one decoder per domain, no
discriminators, no cross-domain translation losses. Losses (L1 means over pixels):

* reconstruction of real ``a`` through ``G_A`` and of ``b1, b2`` through ``G_B``, with
  the rest sampled (reparametrised);
* disentanglement ``b3 = G_B(E_attr(b1), z(b2))``;
* ``kl``: ``KL(N(mu, sigma^2) || N(0, I))`` of the rest, mean over dimensions, times
  ``kl_weight``;
* reverse cycle (Jha et al.'s cycle on the unspecified factor): for ``z ~ N(0, I)``,
  ``mu(G_B(E_attr(b1), z)) = z`` and likewise through ``G_A``.

Manipulation: ``G_A(E_attr(b), mu(a))``. The real decoder only ever sees the attribute
codes of real images in training, so under the domain shift of the synthetic codes it
may lose the class (the paper's reading of this baseline). Weights are ours (not tuned):
reconstruction 10, disentanglement 10, reverse cycle 1, KL 0.05.

``pixel`` is the image distance of the reconstruction and disentanglement terms
(``"l1"`` or ``"l2"``, see :mod:`unpaired.translation.puppetgan`); the reverse cycle
compares codes with L1.

The encoder is a :class:`~unpaired.models.puppet.SplitEncoder` with ``rest_dim = 2 *
decoder rest_dim`` (mean and log-variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.engine.task import Task
from unpaired.models.puppet import SplitDecoder, SplitEncoder
from unpaired.models.record import Export
from unpaired.translation.base import Direction, check_direction, check_guide
from unpaired.translation.puppetgan import check_triplet_batch, pixel_loss, split_exports


@dataclass(frozen=True)
class CycleVAEWeights:
    reconstruction: float = 10.0
    disentanglement: float = 10.0
    reverse_cycle: float = 1.0
    kl: float = 0.05


class CycleVAE(Task):
    """See the module docstring; batches are PuppetGAN's ``{"a", "b1", "b2", "b3"}``."""

    def __init__(
        self,
        encoder: SplitEncoder,
        decoder_a: SplitDecoder,
        decoder_b: SplitDecoder,
        *,
        weights: CycleVAEWeights = CycleVAEWeights(),
        pixel: str = "l1",
    ) -> None:
        super().__init__()
        self.pixel = pixel_loss(pixel)
        if encoder.rest_dim != 2 * decoder_a.rest_dim or decoder_a.rest_dim != decoder_b.rest_dim:
            raise ValueError(
                "CycleVAE: the encoder's rest_dim must be twice the decoders' "
                f"(mean and log-variance), got {encoder.rest_dim} and {decoder_a.rest_dim}"
            )
        self.encoder, self.decoder_a, self.decoder_b = encoder, decoder_a, decoder_b
        self.weights = weights

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(e_attr, mu, logvar)`` of images (N, C, H, W)."""
        attr, rest = self.encoder(x)
        mu, logvar = rest.chunk(2, dim=1)
        return attr, mu, logvar.clamp(-8, 8)

    def _sample(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + (0.5 * logvar).exp() * torch.randn_like(mu) if self.training else mu

    def manipulate(self, a: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """``G_A(E_attr(reference), mu(a))``."""
        check_shape("reference", reference, a.shape)
        return self.decoder_a(self.encode(reference)[0], self.encode(a)[1])

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``G_K(E_attr(guide or x), mu(x))``, K the target domain of ``direction``."""
        check_direction(direction)
        check_guide(guide, x)
        dec = self.decoder_b if direction == "a2b" else self.decoder_a
        return dec(self.encode(x if guide is None else guide)[0], self.encode(x)[1])

    def exports(self) -> dict[str, Export]:
        """``"manipulate"``: :meth:`manipulate` ``(a, reference) -> G_A(E_attr(reference),
        mu(a))``, and ``"a2b"`` through ``G_B`` (kind ``"guided"``)."""
        return split_exports(
            self.encoder, self.decoder_a, self.decoder_b, rest_dim=self.decoder_a.rest_dim
        )

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b1, b2, b3 = check_triplet_batch(batch)
        w, n = self.weights, a.shape[0]
        attr, mu, logvar = self.encode(torch.cat([a, b1, b2]))
        z = self._sample(mu, logvar)
        at, zs = attr.split(n), z.split(n)
        rec = self.pixel(self.decoder_a(at[0], zs[0]), a) + self.pixel(
            self.decoder_b(torch.cat(at[1:]), torch.cat(zs[1:])), torch.cat([b1, b2])
        )
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).mean()
        prior = torch.randn_like(zs[0])
        back_b = self.encode(self.decoder_b(at[1], prior))[1]
        back_a = self.encode(self.decoder_a(at[0], prior))[1]
        return {
            "reconstruction": w.reconstruction * rec,
            "disentanglement": w.disentanglement * self.pixel(self.decoder_b(at[1], zs[2]), b3),
            "kl": w.kl * kl,
            "reverse_cycle": w.reverse_cycle
            * (F.l1_loss(back_b, prior) + F.l1_loss(back_a, prior)),
        }

    def critic_parameters(self) -> list[nn.Parameter]:
        return []
