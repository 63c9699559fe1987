"""Held-out metrics of an image generator under a parameter-free renderer (AIGN Sec. 3.3).

For the biased super-resolution and inpainting experiments (Figs. 5-7): how consistent
``P(G(x))`` is with the input ``x``, how close ``G(x)`` is to the unseen original, and how
far a classifier reads ``G(x)`` as the memories' class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from unpaired.data.digits import Labelled
from unpaired.evaluation.predict import predict
from unpaired.metrics.images import bias_rate, keep_rate, psnr, ssim


class ImageEvaluator:
    """Metrics of a generator on named labelled image sets.

    Args:
        render: the renderer ``P`` on images (N, C, H, W) -> observations; it makes the
            generator's inputs ``x = P(y)`` from the originals ``y`` and measures
            consistency ``P(G(x))`` vs ``x``.
        classifier: labels images (N, C, H, W) -> logits (N, K); kept in eval mode.
        sets: ``{name: originals with labels}`` (e.g. ``{"val": ..., "test": ...}``).
        memory_class: the class of the (biased) memories.
        mask: visible pixels (1, 1, h, w) of the observations (inpainting) or None.

    A plain object, not a module: the classifier is neither trained nor checkpointed with
    the tasks that use the evaluator.
    """

    def __init__(
        self,
        render: Callable[[torch.Tensor], torch.Tensor],
        classifier: nn.Module,
        sets: Mapping[str, Labelled],
        memory_class: int,
        *,
        mask: torch.Tensor | None = None,
        chunk: int = 250,
    ) -> None:
        self.render, self.classifier = render, classifier.eval()
        self.sets, self.memory_class = dict(sets), memory_class
        self.mask, self.chunk = mask, chunk

    def outputs(self, generator: nn.Module, images: torch.Tensor) -> torch.Tensor:
        """``G(P(images))``: (N, C, H, W) originals -> (N, C, H, W) outputs."""
        return predict(generator, self.render(images), chunk=self.chunk)

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N,) the classifier's labels."""
        return predict(self.classifier, images, chunk=self.chunk).argmax(dim=1)

    @torch.no_grad()
    def __call__(self, generator: nn.Module, decoder: nn.Module | None = None) -> dict[str, float]:
        """``{set}_psnr`` / ``_ssim``: consistency of ``P(G(x))`` with ``x`` (visible pixels);
        ``_hr_psnr``: ``G(x)`` vs the unseen original; ``_bias``: share of outputs for inputs
        of other classes labelled as the memory class; ``_keep``: share keeping the input's
        class; with a learned ``decoder``, ``_decoder_psnr``: its own ``Dec(G(x))`` vs ``x``."""
        out = {}
        for name, s in self.sets.items():
            x = self.render(s.images)
            y = self.outputs(generator, s.images)
            out[f"{name}_psnr"] = float(psnr(self.render(y), x, mask=self.mask))
            out[f"{name}_ssim"] = float(ssim(self.render(y), x, mask=self.mask))
            out[f"{name}_hr_psnr"] = float(psnr(y, s.images))
            labels = self.classify(y)
            other = s.labels != self.memory_class
            out[f"{name}_bias"] = float(bias_rate(labels[other], self.memory_class))
            out[f"{name}_keep"] = float(keep_rate(labels, s.labels))
            if decoder is not None:
                reconstructed = predict(decoder, y, chunk=self.chunk)
                out[f"{name}_decoder_psnr"] = float(psnr(reconstructed, x, mask=self.mask))
        return out
