"""AIGN for images: biased super-resolution and inpainting (AIGN Sec. 2.3, 2.4, 3.3).

    min_G  ||P(G(x)) - x||  +  beta * d(G(X), M)                       (Eq. 1)

The renderers ``P`` are the library's parameter-free ones applied to the generator's
``"output"``: 4x average pooling (:class:`DownsampleRenderer` around
:class:`~unpaired.renderers.downsample.Downsample`, Sec. 2.3) and a fixed mask
(:class:`MaskRenderer` around :class:`~unpaired.renderers.mask.Masking`, Sec. 2.4). Both
expose ``observe(images)`` (``P`` on whole images: how the inputs ``x`` are made from the
originals, and how consistency is measured) and ``visible`` (the mask of pixels the
reconstruction compares, None for every pixel).

:class:`ImageAIGN` is :class:`~unpaired.aign.core.AIGN` evaluated by an
:class:`~unpaired.evaluation.ImageEvaluator`; :class:`ParametricDecoderAIGN` is the
ablation of Sec. 3.3 (Fig. 7), where a *learned* decoder replaces ``P``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from unpaired.aign.core import AIGN, Prior, Reconstruction, Rendered
from unpaired.distances.base import Distance
from unpaired.evaluation.images import ImageEvaluator
from unpaired.models.record import Export
from unpaired.renderers.downsample import Downsample
from unpaired.renderers.mask import Masking


class DownsampleRenderer(nn.Module):
    """``P(G(x))``: average pooling of ``predictions["output"]`` by ``factor`` (Sec. 2.3);
    every low-resolution pixel counts. No parameters."""

    visible: torch.Tensor | None = None

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.downsample = Downsample(factor=factor)

    @property
    def factor(self) -> int:
        return self.downsample.factor

    def observe(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H / factor, W / factor)."""
        return self.downsample(images)

    def forward(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.observe(predictions["output"]))


class MaskRenderer(nn.Module):
    """``P(G(x), m) = m ⊙ G(x)`` with one fixed mask ``m`` (1, 1, H, W), 1 = visible
    (Sec. 2.4). The mask is a buffer (``visible``), not a parameter; the reconstruction and
    the consistency metrics run over the visible pixels only."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.masking = Masking()
        self.register_buffer("visible", mask)

    def observe(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W) with the hidden pixels set to 0."""
        return self.masking(images, self.visible)

    def forward(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.observe(predictions["output"]), mask=self.visible)


ImageRenderer = DownsampleRenderer | MaskRenderer


class ImageAIGN(AIGN):
    """:class:`~unpaired.aign.core.AIGN` on images (the prediction is ``"output"``) whose
    ``evaluate`` reports an :class:`~unpaired.evaluation.ImageEvaluator` (none: nothing)."""

    def __init__(
        self,
        generator: nn.Module,
        renderer: nn.Module,
        priors: Mapping[str, Prior | Distance] | None = None,
        *,
        evaluator: ImageEvaluator | None = None,
        beta: float = 1.0,
        reconstruction: Reconstruction = "mse",
        recon_weight: float = 1.0,
        supervised: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(
            generator,
            renderer,
            priors,
            beta=beta,
            reconstruction=reconstruction,
            recon_weight=recon_weight,
            supervised=supervised,
        )
        self.evaluator = evaluator

    def evaluate(self) -> dict[str, float]:
        return {} if self.evaluator is None else self.evaluator(self.generator)

    def exports(self) -> dict[str, Export]:
        """The generator (kind ``"image"``): images (B, C, H, W) in [0, 1] -> images."""
        return {"generator": image_export(self.generator)}


def image_export(generator: nn.Module) -> Export:
    """An image-to-image network as an :class:`Export` of kind ``"image"``, with its
    ``channels`` and, for a fixed-mask inpainter, the ``size`` (H, W) it needs."""
    net = getattr(generator, "net", generator)
    meta: dict[str, Any] = {"channels": int(getattr(net, "channels", 0)) or None}
    mask = getattr(generator, "mask", None)
    if isinstance(mask, torch.Tensor):
        meta["size"] = (int(mask.shape[-2]), int(mask.shape[-1]))
    return Export(generator, "image", meta)


class ParametricDecoderAIGN(ImageAIGN):
    """ABLATION (Sec. 3.3, Fig. 7), not AIGN: the reconstruction goes through a *learned*
    decoder ``Dec`` trained jointly with ``G`` (both are the generator player):

        min_{G, Dec}  ||Dec(G(x)) - x||  +  beta * d(G(X), M)

    ``renderer`` (the true, parameter-free ``P``) is used only for its ``visible`` mask
    and, by the evaluator, to measure consistency; AIGN itself refuses learned renderers,
    which is exactly what this ablation shows is wise.
    """

    def __init__(
        self,
        generator: nn.Module,
        decoder: nn.Module,
        renderer: nn.Module,
        priors: Mapping[str, Prior | Distance] | None = None,
        *,
        evaluator: ImageEvaluator | None = None,
        beta: float = 1.0,
        reconstruction: Reconstruction = "mse",
    ) -> None:
        super().__init__(
            generator,
            renderer,
            priors,
            evaluator=evaluator,
            beta=beta,
            reconstruction=reconstruction,
        )
        self.decoder = decoder

    def render(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.decoder(predictions["output"]), mask=self.renderer.visible)

    def evaluate(self) -> dict[str, float]:
        return {} if self.evaluator is None else self.evaluator(self.generator, self.decoder)
