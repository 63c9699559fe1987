"""evaluation.images: the image evaluator on hand-made sets."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from unpaired.data.digits import Labelled
from unpaired.evaluation import ImageEvaluator
from unpaired.renderers.downsample import downsample


class _ByBrightness(nn.Module):
    """Class 0 for dark images (mean 0.2), class 1 for bright ones (0.8)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.flatten(1).mean(1)
        return torch.stack([-(m - 0.2).abs(), -(m - 0.8).abs()], 1)


class _Upsample(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")


class _Dark(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 1, 16, 16), 0.2)


def _evaluator() -> ImageEvaluator:
    labels = torch.tensor([0, 1, 1, 1])
    images = torch.where(labels.bool(), 0.8, 0.2)[:, None, None, None].expand(4, 1, 16, 16)
    images = images + 0.05 * torch.rand(4, 1, 16, 16)
    render = lambda y: downsample(y, factor=2)  # noqa: E731
    return ImageEvaluator(render, _ByBrightness(), {"val": Labelled(images, labels)}, 0, chunk=3)


def test_a_consistent_generator_keeps_classes_and_has_no_bias() -> None:
    m = _evaluator()(_Upsample())
    assert m["val_psnr"] == math.inf and m["val_ssim"] > 0.999  # P(up(x)) == x exactly
    assert 20.0 < m["val_hr_psnr"] < math.inf  # the originals' detail is lost
    assert m["val_keep"] == 1.0 and m["val_bias"] == 0.0
    assert "val_decoder_psnr" not in m


def test_a_generator_drawing_the_memory_class_is_fully_biased() -> None:
    ev = _evaluator()
    m = ev(_Dark(), decoder=nn.AvgPool2d(2))
    assert m["val_bias"] == 1.0  # the three bright inputs come out dark
    assert m["val_keep"] == 0.25  # only the dark input keeps its class
    assert m["val_psnr"] < 15.0 and math.isfinite(m["val_decoder_psnr"])
    assert ev.outputs(_Dark(), ev.sets["val"].images).shape == (4, 1, 16, 16)
