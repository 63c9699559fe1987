"""Honesty scores of a translator between two domains without a palette (digits, folders).

Quantising to a palette (RH) needs a domain of flat colours; for MNIST <-> USPS or your
own photo folders what applies is (``unpaired.metrics.honesty``, norms per image in
[-1, 1] units):

* ``sn_a_<sigma>``: SN of the cycle from A, ``||b2a(a2b(a) + N(0, sigma^2)) - b2a(a2b(a))||_2``
  (how strongly the way back reacts to noise on the translation); ``sn_b_<sigma>`` the
  cycle from B;
* ``cycle_a``, ``cycle_b``: ``||b2a(a2b(a)) - a||_2`` and the cycle from B;
* ``kept_ab``, ``kept_ba`` (when labels and a *target-domain* classifier are given):
  the share of translations that the target domain's classifier assigns the class of
  their source, :func:`~unpaired.metrics.honesty.label_preservation`.

A translator that hides its input in low-amplitude detail of the translation has a
small cycle error and a large SN; an honest one reconstructs less exactly (what the
other domain cannot express is lost) and reacts little to noise. Every value depends
only on the translator and the images (the noise comes from a generator seeded
``seed``); multimodal translators run without a guide (their default style draw).

Example:
    >>> import torch
    >>> class Negate:
    ...     def translate(self, x, direction="a2b", guide=None):
    ...         return -x
    >>> scores = CycleEvaluator(torch.ones(4, 1, 32, 32), torch.zeros(3, 1, 32, 32))(Negate())
    >>> scores["cycle_a"], round(scores["sn_a_0.1"] / (0.1 * 32), 1)  # noise passes through
    (0.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape
from unpaired.metrics.honesty import SIGMAS, cycle_error, label_preservation, sensitivity_to_noise
from unpaired.translation.base import Translator, as_callable

__all__ = ["CycleEvaluator"]

Classifier = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class CycleEvaluator:
    """Scores of an A <-> B translator on held-out ``a`` (N, C_a, H, W) and ``b`` (M, C_b,
    H, W) in [-1, 1] (module docstring). ``labels_a`` (N,), ``labels_b`` (M,) with
    ``classifier_a`` (trained on domain A only: it reads ``b2a`` translations) and
    ``classifier_b`` add ``kept_ba`` and ``kept_ab``. Call it on a translator (or use it
    as a CycleGAN ``evaluator``); modules are put in eval mode by the caller."""

    a: torch.Tensor
    b: torch.Tensor
    labels_a: torch.Tensor | None = None
    labels_b: torch.Tensor | None = None
    classifier_a: Classifier | None = None
    classifier_b: Classifier | None = None
    sigmas: Sequence[float] = SIGMAS
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_shape("a", self.a, ("N", "C", "H", "W"))
        check_shape("b", self.b, ("M", "C", "H", "W"))
        for name, labels, x in (
            ("labels_a", self.labels_a, self.a),
            ("labels_b", self.labels_b, self.b),
        ):
            if labels is not None:
                check_shape(name, labels, (x.shape[0],))

    def _cycle(
        self, t: Translator, x: torch.Tensor, key: str, there: str, back: str
    ) -> dict[str, float]:
        fwd, bwd = as_callable(t, there), as_callable(t, back)  # type: ignore[arg-type]
        g = torch.Generator(device=x.device).manual_seed(self.seed)
        sn = sensitivity_to_noise(fwd, bwd, x, self.sigmas, generator=g, batch_size=self.batch_size)
        out = {f"sn_{key}_{s:g}": float(v) for s, v in zip(self.sigmas, sn, strict=True)}
        out[f"cycle_{key}"] = float(cycle_error(fwd, bwd, x, batch_size=self.batch_size))
        return out

    @torch.no_grad()
    def __call__(self, translator: Translator) -> dict[str, float]:
        out = self._cycle(translator, self.a, "a", "a2b", "b2a")
        out |= self._cycle(translator, self.b, "b", "b2a", "a2b")
        if self.labels_a is not None and self.classifier_b is not None:
            fwd = as_callable(translator, "a2b")
            out["kept_ab"] = label_preservation(
                self.classifier_b, fwd, self.a, self.labels_a, batch_size=self.batch_size
            )
        if self.labels_b is not None and self.classifier_a is not None:
            fwd = as_callable(translator, "b2a")
            out["kept_ba"] = label_preservation(
                self.classifier_a, fwd, self.b, self.labels_b, batch_size=self.batch_size
            )
        return out
