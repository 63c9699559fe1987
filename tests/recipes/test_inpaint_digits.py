"""inpaint-digits: the masking renderer as AIGN sees it (end to end:
test_image_recipes.py)."""

from __future__ import annotations

import pytest
import torch

from unpaired.aign import AIGN
from unpaired.errors import ConfigError
from unpaired.recipes import _images
from unpaired.renderers.mask import BOXES, box_mask


def test_reconstruction_ignores_the_hidden_band_and_the_generator_cannot_see_it() -> None:
    problem = _images.inpainting("digit_band", 32)
    renderer = problem.renderer
    m = renderer.visible
    torch.testing.assert_close(m, box_mask(32, 32, BOXES["digit_band"]))
    assert not list(renderer.parameters())
    truth = torch.rand(4, 1, 32, 32)
    x = renderer.observe(truth)
    assert torch.equal(x[:, :, 12:20], torch.zeros(4, 1, 8, 32))  # rows 3/8..5/8 hidden
    # AIGN with this renderer: an output equal to the truth on visible pixels costs 0,
    # whatever it draws in the band; a change of one visible pixel costs something
    other = torch.where(m.bool(), truth, torch.rand_like(truth))
    task = AIGN(_Const(other), renderer, reconstruction="l2")
    assert task.generator_losses({"x": x})["reconstruction"].item() == 0.0
    # the generator gets the mask and never the hidden pixels
    g = problem.generator(_images.Networks(generator_width=4, generator_blocks=2)).eval()
    with torch.no_grad():
        torch.testing.assert_close(g(renderer.observe(truth)), g(renderer.observe(other)))
    # the figure's overlay keeps the original's visible pixels and the output's band
    over = problem.overlay(other, truth)
    assert torch.equal(over * m, truth * m) and torch.equal(over * (1 - m), other * (1 - m))
    other[0, 0, 0, 0] += 0.5  # one visible pixel off
    assert task.generator_losses({"x": x})["reconstruction"].item() > 0.0


class _Const(torch.nn.Module):
    def __init__(self, y: torch.Tensor) -> None:
        super().__init__()
        self.y = y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.y


def test_unknown_box_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown box 'lips'"):
        _images.inpainting("lips", 32)
