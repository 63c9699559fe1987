"""aign.images: the image renderers, ImageAIGN and the parametric-decoder ablation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.aign import AIGN
from unpaired.aign.images import DownsampleRenderer, ImageAIGN, MaskRenderer, ParametricDecoderAIGN
from unpaired.data.digits import Labelled
from unpaired.distances import AdversarialDistance
from unpaired.evaluation import ImageEvaluator
from unpaired.models.images import DCGANCritic, ParametricDecoder
from unpaired.renderers.downsample import downsample
from unpaired.renderers.mask import BOXES, box_mask


class _Up(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(F.interpolate(x, scale_factor=4, mode="nearest")))


def test_renderers_are_the_library_operations_without_parameters() -> None:
    hi = torch.rand(3, 1, 16, 16)
    sr = DownsampleRenderer(4)
    assert sr.factor == 4 and sr.visible is None and not list(sr.parameters())
    torch.testing.assert_close(sr.observe(hi), downsample(hi, factor=4))
    assert sr({"output": hi}, {}).mask is None
    mask = box_mask(16, 16, BOXES["digit_band"])
    inp = MaskRenderer(mask)
    assert not list(inp.parameters()) and list(dict(inp.named_buffers())) == ["visible"]
    torch.testing.assert_close(inp.observe(hi), hi * mask)
    assert inp({"output": hi}, {}).mask is mask
    AIGN(nn.Identity(), inp)  # accepted: parameter-free


def _task(decoder: bool) -> tuple[ImageAIGN, dict]:
    torch.manual_seed(0)
    renderer = DownsampleRenderer(4)
    hi = torch.rand(6, 1, 32, 32)
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 3))
    sets = {"val": Labelled(hi, torch.tensor([0, 1, 2, 0, 1, 2]))}
    evaluator = ImageEvaluator(renderer.observe, classifier, sets, 0)
    prior = {"output": AdversarialDistance(DCGANCritic(1, size=32, width=4), loss="logistic")}
    if decoder:
        dec = ParametricDecoder(1, factor=4, width=4)
        task = ParametricDecoderAIGN(_Up(), dec, renderer, prior, beta=0.1, evaluator=evaluator)
    else:
        task = ImageAIGN(_Up(), renderer, prior, beta=0.1, evaluator=evaluator)
    batch = {"x": renderer.observe(hi), "memories": {"output": torch.rand(6, 1, 32, 32)}}
    return task, batch


def test_image_aign_losses_and_evaluation() -> None:
    task, batch = _task(decoder=False)
    assert set(task.generator_losses(batch)) == {"reconstruction", "prior/output"}
    assert set(task.critic_losses(batch)) == {"prior/output"}
    assert {"val_psnr", "val_ssim", "val_bias", "val_keep", "val_hr_psnr"} == set(task.evaluate())
    assert ImageAIGN(_Up(), DownsampleRenderer(4)).evaluate() == {}


def test_parametric_decoder_ablation_trains_its_decoder_with_the_generator() -> None:
    task, batch = _task(decoder=True)
    decoder_params = {id(p) for p in task.decoder.parameters()}
    assert decoder_params <= {id(p) for p in task.generator_parameters()}
    assert not decoder_params & {id(p) for p in task.critic_parameters()}
    losses = task.generator_losses(batch)
    losses["reconstruction"].backward()
    assert all(p.grad is not None for p in task.decoder.parameters())
    # the reconstruction is Dec(G(x)), not the true renderer's P(G(x))
    with torch.no_grad():
        out = task.generator(batch["x"])
        via_decoder = (task.decoder(out) - batch["x"]).square().mean()
    torch.testing.assert_close(losses["reconstruction"].detach(), via_decoder)
    metrics = task.evaluate()
    assert {"val_psnr", "val_decoder_psnr", "val_bias", "val_keep"} <= set(metrics)
    with pytest.raises(ValueError, match="parameter-free"):  # AIGN itself refuses a decoder
        AIGN(task.generator, task.decoder)
