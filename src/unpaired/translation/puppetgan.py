"""PuppetGAN (Usman, Dufour, Saenko, Bregler, ICCV 2019): change one attribute of a real
image with a synthetic reference, trained on unlabelled real images and synthetic
triplets only (docs/PUPPETGAN.md; facts in ../shared/notes/translation.md, section 2).

Domains: A = real images ``a``; B = synthetic triplets ``(b1, b2, b3)``, where b1 and b3
share the attribute of interest (AoI) and b2 and b3 share everything else. A shared
encoder ``E`` splits an image's embedding into ``E_attr`` and ``E_rest``
(:class:`~unpaired.models.puppet.SplitEncoder`); decoders ``G_A`` (real) and ``G_B``
(synthetic). The combination ``C_K(x, y) = G_K(E_attr(x), E_rest(y))``. Constraints
``y = f(x)`` are L1 penalties (mean absolute pixel difference), paper Sec. 3:

* (a) reconstruction: ``a = C_A(a, a)``, ``b = C_B(b, b)`` (b1 and b2);
* (b) disentanglement: ``b3 = C_B(b1, b2)``;
* (c) cycle: ``a = C_A(~b, ~b)`` with ``~b = C_B(a, a)``, and ``b1 = C_B(~a, ~a)`` with
  ``~a = C_A(b1, b1)``;
* (d) attribute cycle: ``b3 = C_B(~a', b2)`` with ``~a' = C_A(b1, a)`` (the real decoder
  must use its attribute input), and ``a = C_A(~b', a)`` with ``~b' = C_B(a, b2)`` (the
  rest must come from the second argument); off with ``attribute_cycle=False`` (the
  paper's ablation, which "lets the real decoder ignore one input");
* adversarial priors, one per domain, on the generated images of the first stage: in A
  ``C_A(a, a)``, ``~a`` and ``~a'`` against real ``a``; in B ``C_B(b, b)``,
  ``C_B(b1, b2)``, ``~b`` and ``~b'`` against ``b1, b2, b3``. The paper uses LSGAN
  (``AdversarialDistance(critic, loss="least-squares")``); any
  :class:`~unpaired.distances.Distance` works. With ``prior_rows = k`` each prior sees
  ``k`` random rows of its fakes and ``k`` of its reals per step (a CPU saving: all
  fakes are still trained by the L1 terms; None: all rows).
* pixel-level instance noise ``N(0, noise^2)`` on the intermediate translations ``~a``,
  ``~b``, ``~a'``, ``~b'`` before they are re-encoded (paper Sec. 4, after Bashkirova
  et al.), training only.

``pixel="l2"`` replaces the L1 penalties by mean squared errors: with a tanh decoder and
our short CPU budget, L1 on sparse digits drives the decoders to the blank image (the
pixel-wise median), where tanh saturates and learning stops (docs/PUPPETGAN.md measures
it); the paper's L1 is the default.

Weights (:class:`PuppetWeights`): the paper's supplement (its values) was not available.
The defaults are the public re-implementation's (GiorgosKarantonis/PuppetGAN,
config.json: reconstruction 10, disentanglement 10, cycle 10, attribute cycle (b3) 5,
attribute cycle (a) 3, GAN 1, instance noise 0.2); not tuned here.

Manipulation (what the metrics read): :meth:`PuppetGAN.manipulate` ``(a, b) =
C_A(b, a)``. The :class:`~unpaired.translation.base.Translator` interface:
``translate(x, "a2b" | "b2a", guide=g) = C_K(g, x)`` with K the target domain (B for
``"a2b"``) and ``g = x`` when no guide is given (plain domain translation).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.data.synthetic.font_digits import Ranges, TripletSource
from unpaired.distances.base import Distance
from unpaired.engine.task import Task
from unpaired.models.puppet import SplitDecoder, SplitEncoder
from unpaired.models.record import Export, recordable
from unpaired.translation.base import Direction, check_direction, check_guide, guided_export

_KEYS = ("a", "b1", "b2", "b3")
PIXEL_LOSSES = ("l1", "l2")


def pixel_loss(kind: str):  # type: ignore[no-untyped-def]
    """The image distance of the constraints: ``"l1"`` (mean absolute difference, the
    paper's) or ``"l2"`` (mean squared difference)."""
    if kind not in PIXEL_LOSSES:
        raise ValueError(f"pixel_loss must be one of {PIXEL_LOSSES}, got {kind!r}")
    return F.l1_loss if kind == "l1" else F.mse_loss


@dataclass(frozen=True)
class PuppetWeights:
    """Loss weights (module docstring: the re-implementation's values)."""

    reconstruction: float = 10.0
    disentanglement: float = 10.0
    cycle: float = 10.0
    attribute_cycle_b: float = 5.0  # b3 = C_B(C_A(b1, a), b2)
    attribute_cycle_a: float = 3.0  # a = C_A(C_B(a, b2), a)
    adversarial: float = 1.0


def check_triplet_batch(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """``(a, b1, b2, b3)`` of a batch dict, each (B, C, H, W) with one shape."""
    missing = [k for k in _KEYS if k not in batch]
    if missing:
        raise ValueError(f"a PuppetGAN batch needs keys {_KEYS}; missing {missing}")
    a = batch["a"]
    check_shape("a", a, ("B", "C", "H", "W"))
    for k in _KEYS[1:]:
        check_shape(k, batch[k], a.shape)
    return tuple(batch[k] for k in _KEYS)


class PuppetData:
    """Batch source of PuppetGAN batches: ``{"a": real rows, "b1", "b2", "b3": fresh
    synthetic triplets}``; ``real`` (N, 1, H, W) in [-1, 1], drawn with replacement, never
    paired with the triplets (unlabelled real images only)."""

    def __init__(
        self, real: torch.Tensor, aoi: str, *, batch_size: int, ranges: Ranges = Ranges()
    ) -> None:
        check_shape("real", real, ("N", 1, "H", "W"))
        self.real, self.batch_size = real, batch_size
        self.triplets = TripletSource(
            aoi, batch_size=batch_size, ranges=ranges, resolution=real.shape[-1]
        )

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, torch.Tensor]:
        n = self.batch_size
        idx = torch.randint(self.real.shape[0], (n * world_size,), generator=generator)
        a = self.real[idx[rank * n : (rank + 1) * n]]
        return {"a": a, **self.triplets.sample(generator, rank=rank, world_size=world_size)}


class PuppetGAN(Task):
    """PuppetGAN as an engine task (module docstring for the losses).

    ``generator_losses`` / ``critic_losses`` take ``{"a", "b1", "b2", "b3"}``, each (B, C,
    H, W) in [-1, 1]. ``held_out`` (the same dict, optional) makes ``evaluate`` report
    the L1 reconstruction of ``a`` and the disentanglement error on it.
    """

    def __init__(
        self,
        encoder: SplitEncoder,
        decoder_a: SplitDecoder,
        decoder_b: SplitDecoder,
        prior_a: Distance,
        prior_b: Distance,
        *,
        weights: PuppetWeights = PuppetWeights(),
        noise: float = 0.2,
        attribute_cycle: bool = True,
        prior_rows: int | None = None,
        pixel: str = "l1",
        held_out: dict[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.pixel = pixel_loss(pixel)
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise}")
        if prior_rows is not None and prior_rows < 1:
            raise ValueError(f"prior_rows must be >= 1 or None, got {prior_rows}")
        self.prior_rows = prior_rows
        self.encoder, self.decoder_a, self.decoder_b = encoder, decoder_a, decoder_b
        self.prior_a, self.prior_b = prior_a, prior_b
        self.weights, self.noise, self.attribute_cycle = weights, noise, attribute_cycle
        self.held_out = held_out

    # --- the combination operator -------------------------------------------------
    def _decoder(self, domain: str) -> nn.Module:
        return self.decoder_a if domain == "a" else self.decoder_b

    def combine(self, domain: str, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``C_K(x, y) = G_K(E_attr(x), E_rest(y))`` for ``domain`` K in ``"a"``, ``"b"``."""
        if domain not in ("a", "b"):
            raise ValueError(f"domain must be 'a' or 'b', got {domain!r}")
        attr, _ = self.encoder(x)
        _, rest = self.encoder(y)
        return self._decoder(domain)(attr, rest)

    def manipulate(self, a: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """``C_A(reference, a)``: the real ``a`` (N, C, H, W) with the AoI of ``reference``."""
        check_shape("reference", reference, a.shape)
        return self.combine("a", reference, a)

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``C_K(guide or x, x)``, K the target domain of ``direction``."""
        check_direction(direction)
        check_guide(guide, x)
        return self.combine("b" if direction == "a2b" else "a", x if guide is None else guide, x)

    def exports(self) -> dict[str, Export]:
        """``"manipulate"``: :meth:`manipulate` ``(a, reference) -> C_A(reference, a)``
        (a real image with the AoI of a synthetic reference) and ``"a2b"``: ``(x, guide)
        -> C_B(guide, x)``, both :class:`SplitManipulator` of kind ``"guided"``."""
        return split_exports(self.encoder, self.decoder_a, self.decoder_b)

    # --- losses ---------------------------------------------------------------------
    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.noise == 0:
            return x
        return x + self.noise * torch.randn_like(x)

    def _first_stage(self, a, b1, b2, b3):  # type: ignore[no-untyped-def]
        n = a.shape[0]
        attr, rest = self.encoder(torch.cat([a, b1, b2, b3]))
        at, re = attr.split(n), rest.split(n)
        ga, gb = self.decoder_a, self.decoder_b
        out = {
            "rec_a": ga(at[0], re[0]),
            "rec_b": gb(torch.cat([at[1], at[2]]), torch.cat([re[1], re[2]])),
            "dis": gb(at[1], re[2]),  # C_B(b1, b2) -> b3
            "cyc_b": gb(at[0], re[0]),  # ~b = C_B(a, a)
            "cyc_a": ga(at[1], re[1]),  # ~a = C_A(b1, b1)
        }
        if self.attribute_cycle:
            out["att_a"] = ga(at[1], re[0])  # ~a' = C_A(b1, a)
            out["att_b"] = gb(at[0], re[2])  # ~b' = C_B(a, b2)
        return out, re

    def _rows(self, x: torch.Tensor) -> torch.Tensor:
        k = self.prior_rows
        if k is None or k >= x.shape[0]:
            return x
        return x[torch.randperm(x.shape[0], device=x.device)[:k]]

    def _pairs(
        self, out: dict[str, torch.Tensor], a: torch.Tensor, real_b: torch.Tensor
    ) -> list[tuple[str, Distance, torch.Tensor, torch.Tensor]]:
        """``(domain, prior, fakes, reals)`` for A and B."""
        fa = [out["rec_a"], out["cyc_a"]] + ([out["att_a"]] if self.attribute_cycle else [])
        fb = [out["rec_b"], out["dis"], out["cyc_b"]]
        fb += [out["att_b"]] if self.attribute_cycle else []
        return [
            ("a", self.prior_a, self._rows(torch.cat(fa)), self._rows(a)),
            ("b", self.prior_b, self._rows(torch.cat(fb)), self._rows(real_b)),
        ]

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b1, b2, b3 = check_triplet_batch(batch)
        w, n = self.weights, a.shape[0]
        out, re = self._first_stage(a, b1, b2, b3)
        mids = [out["cyc_b"], out["cyc_a"]]
        if self.attribute_cycle:
            mids += [out["att_a"], out["att_b"]]
        attr2, rest2 = self.encoder(self._noisy(torch.cat(mids)))
        at2, re2 = attr2.split(n), rest2.split(n)
        losses = {
            "reconstruction": w.reconstruction
            * (self.pixel(out["rec_a"], a) + self.pixel(out["rec_b"], torch.cat([b1, b2]))),
            "disentanglement": w.disentanglement * self.pixel(out["dis"], b3),
            "cycle": w.cycle
            * (
                self.pixel(self.decoder_a(at2[0], re2[0]), a)
                + self.pixel(self.decoder_b(at2[1], re2[1]), b1)
            ),
        }
        if self.attribute_cycle:
            losses["attribute_cycle_b"] = w.attribute_cycle_b * self.pixel(
                self.decoder_b(at2[2], re[2]), b3
            )
            losses["attribute_cycle_a"] = w.attribute_cycle_a * self.pixel(
                self.decoder_a(at2[3], re[0]), a
            )
        for k, prior, fake, real in self._pairs(out, a, torch.cat([b1, b2, b3])):
            losses[f"adversarial_{k}"] = w.adversarial * prior.generator_loss(fake, real)
        return losses

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a, b1, b2, b3 = check_triplet_batch(batch)
        with torch.no_grad():
            out = self._first_stage(a, b1, b2, b3)[0]
        losses = {}
        for k, prior, fake, real in self._pairs(out, a, torch.cat([b1, b2, b3])):
            loss = prior.critic_loss(fake.detach(), real)
            if loss is not None:
                losses[f"critic_{k}"] = loss
        return losses

    def critic_parameters(self) -> list[nn.Parameter]:
        return [*self.prior_a.parameters(), *self.prior_b.parameters()]

    def evaluate(self) -> dict[str, float]:
        if self.held_out is None:
            return {}
        a, b1, b2, b3 = check_triplet_batch(self.held_out)
        return {
            "reconstruction_a": float(F.l1_loss(self.combine("a", a, a), a)),
            "disentanglement": float(F.l1_loss(self.combine("b", b1, b2), b3)),
        }


@recordable
class SplitManipulator(nn.Module):
    """``(x, guide) -> decoder(E_attr(guide), E_rest(x))``: the attribute of ``guide`` on
    the rest of ``x`` (PuppetGAN's ``C_K(guide, x)``). ``rest_dim``: keep only the first
    ``rest_dim`` entries of the rest (Cycle-VAE's mean ``mu``; None: all)."""

    def __init__(
        self, encoder: SplitEncoder, decoder: SplitDecoder, *, rest_dim: int | None = None
    ) -> None:
        super().__init__()
        self.encoder, self.decoder, self.rest_dim = encoder, decoder, rest_dim

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        attr, _ = self.encoder(guide)
        _, rest = self.encoder(x)
        if self.rest_dim is not None:
            rest = rest[:, : self.rest_dim]
        return self.decoder(attr, rest)


def split_exports(
    encoder: SplitEncoder,
    decoder_a: SplitDecoder,
    decoder_b: SplitDecoder,
    *,
    rest_dim: int | None = None,
) -> dict[str, Export]:
    """PuppetGAN's and Cycle-VAE's exports (``"manipulate"`` through the real decoder,
    ``"a2b"`` through the synthetic one), images of the encoder's size and channels."""
    size = (encoder.size, encoder.size)

    def one(decoder: SplitDecoder) -> Export:
        net = SplitManipulator(encoder, decoder, rest_dim=rest_dim)
        return guided_export(net, encoder.channels, size=size)

    return {"manipulate": one(decoder_a), "a2b": one(decoder_b)}
