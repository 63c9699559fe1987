"""Translation networks: shapes, the PatchGAN receptive field, gradients, init, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.models.translation import (
    PatchCritic,
    ResnetGenerator,
    init_normal,
    receptive_field,
)


def _count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_table_in_the_docstring() -> None:
    assert _count(ResnetGenerator(3, 3)) == 11_378_179
    assert _count(ResnetGenerator(3, 3, width=16, n_blocks=3)) == 272_515
    assert _count(PatchCritic(3)) == 2_764_737
    assert _count(PatchCritic(3, width=16, n_layers=2)) == 42_865


@pytest.mark.parametrize("size", [64, 128, 256])
def test_generator_and_critic_shapes(size: int) -> None:
    g = ResnetGenerator(3, 1, width=4, n_blocks=1)
    y = g(torch.randn(2, 3, size, size))
    assert y.shape == (2, 1, size, size)
    assert y.abs().max() < 1  # tanh
    d = PatchCritic(1, width=4, n_layers=3)
    assert d(y).shape == (2, 1, size // 8 - 2, size // 8 - 2)


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_patch_critic_receptive_field(n_layers: int) -> None:
    # without normalisation (instance norm couples every pixel), one output cell's gradient
    # covers exactly its receptive field: 70 x 70 at 3 layers
    assert receptive_field(n_layers) == {1: 16, 2: 34, 3: 70}[n_layers]
    d = init_normal(PatchCritic(1, width=4, n_layers=n_layers, norm="none"), 0.5)
    x = torch.randn(1, 1, 128, 128, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    assert x.grad is not None
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    cols = (x.grad[0, 0].abs().sum(0) > 0).nonzero()
    assert int(rows.max() - rows.min() + 1) == receptive_field(n_layers)
    assert int(cols.max() - cols.min() + 1) == receptive_field(n_layers)


def test_gradients_reach_the_inputs() -> None:
    g, d = ResnetGenerator(3, 3, width=4, n_blocks=2), PatchCritic(3, width=4)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    d(g(x)).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in g.parameters())


def test_init_normal() -> None:
    torch.manual_seed(0)
    g = init_normal(ResnetGenerator(3, 3, width=16, n_blocks=2, norm="batch"), 0.02)
    weights = torch.cat(
        [m.weight.detach().flatten() for m in g.modules() if isinstance(m, nn.Conv2d)]
    )
    assert abs(float(weights.std()) - 0.02) < 0.002 and abs(float(weights.mean())) < 0.001
    norms = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    scales = torch.cat([m.weight.detach() for m in norms])
    assert abs(float(scales.mean()) - 1) < 0.01 and float(scales.std()) < 0.03
    biases = [
        m.bias.detach() for m in g.modules() if isinstance(m, nn.Conv2d) and m.bias is not None
    ]
    assert biases and all(float(b.abs().max()) == 0 for b in biases)
    with pytest.raises(ValueError, match="std"):
        init_normal(g, 0.0)


def test_bad_inputs_are_named() -> None:
    g = ResnetGenerator(3, 3, width=4, n_blocks=1)
    with pytest.raises(ValueError, match=r"^x: "):
        g(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiples of 4"):
        g(torch.randn(1, 3, 30, 32))
    d = PatchCritic(3, width=4, n_layers=3)
    with pytest.raises(ValueError, match="too small"):
        d(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="norm"):
        PatchCritic(3, norm="group")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="width"):
        ResnetGenerator(3, 3, width=0)
