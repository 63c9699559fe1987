from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.models.munit import (
    AdaINDecoder,
    AdaptiveInstanceNorm,
    ContentEncoder,
    MUNITAutoencoder,
    StyleEncoder,
)


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_the_module_table() -> None:
    assert n_params(MUNITAutoencoder(3)) == 15_026_187
    assert n_params(MUNITAutoencoder(1, width=16, blocks=2, mlp_dim=64)) == 613_801


@pytest.mark.parametrize("size", [64, 128, 256])
def test_shapes_at_64_128_256(size: int) -> None:
    net = MUNITAutoencoder(3, width=4, blocks=1, mlp_dim=8, style_dim=5)
    x = torch.rand(1, 3, size, size) * 2 - 1
    c, s = net.encode(x)
    assert c.shape == (1, 16, size // 4, size // 4) and s.shape == (1, 5)
    y = net.decode(c, s)
    assert y.shape == x.shape and y.abs().max() < 1


def test_down_sets_the_content_resolution_and_width() -> None:
    enc = ContentEncoder(1, width=4, down=3, blocks=1)
    assert enc(torch.zeros(2, 1, 32, 32)).shape == (2, 32, 4, 4) and enc.out_channels == 32


def test_adain_sets_the_per_sample_mean_and_std() -> None:
    x = torch.randn(2, 3, 8, 8) * 5 + 2
    gamma, beta = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]), torch.arange(6.0).reshape(2, 3)
    y = AdaptiveInstanceNorm(3)(x, gamma, beta)
    assert torch.allclose(y.mean((2, 3)), beta, atol=1e-4)
    assert torch.allclose(y.std((2, 3), unbiased=False), gamma, atol=1e-3)


def test_the_style_changes_the_output_and_the_content_keeps_its_place() -> None:
    torch.manual_seed(0)
    dec = AdaINDecoder(1, width=8, up=1, blocks=1, style_dim=4, mlp_dim=8)
    c = torch.randn(1, 8, 8, 8)
    y1, y2 = dec(c, torch.zeros(1, 4)), dec(c, torch.ones(1, 4) * 3)
    assert (y1 - y2).abs().max() > 1e-3
    # only the style enters through the MLP: equal styles, equal images
    assert torch.equal(dec(c, torch.zeros(1, 4)), y1)


def test_the_content_code_ignores_global_contrast_and_the_style_code_sees_it() -> None:
    # instance norm after the first conv removes a per-image gain and offset exactly
    torch.manual_seed(0)
    net = MUNITAutoencoder(1, width=4, blocks=1, mlp_dim=8)
    x = torch.rand(1, 1, 32, 32) * 0.5
    y = 1.8 * x - 0.4

    @torch.no_grad()
    def change(f):  # relative change of a code
        return float((f(x) - f(y)).abs().max() / f(x).abs().max())

    assert change(net.content) < 1e-4
    assert change(net.style) > 10 * change(net.content)


def test_gradients_reach_the_input_through_both_codes() -> None:
    net = MUNITAutoencoder(3, width=4, blocks=1, mlp_dim=8)
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    c, s = net.encode(x)
    (gc,) = torch.autograd.grad(net.decode(c, s.detach()).square().sum(), x, retain_graph=True)
    (gs,) = torch.autograd.grad(net.decode(c.detach(), s).square().sum(), x)
    assert gc.abs().sum() > 0 and gs.abs().sum() > 0


def test_bad_inputs_name_the_argument() -> None:
    net = MUNITAutoencoder(3, width=4, blocks=1, mlp_dim=8)
    with pytest.raises(ValueError, match="x: expected shape"):
        net.encode(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiples of 16"):
        net.encode(torch.zeros(1, 3, 40, 40))
    with pytest.raises(ValueError, match="style: expected shape"):
        net.decode(torch.zeros(2, 16, 8, 8), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="down >= 0"):
        StyleEncoder(3, down=-1)
