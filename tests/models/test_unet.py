from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.models.unet import UNetGenerator


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_junyanz_unet_128_and_256() -> None:
    # pytorch-CycleGAN-and-pix2pix prints 41.829 M (unet_128) and 54.414 M (unet_256)
    assert n_params(UNetGenerator(3, 3, downs=7)) == 41_828_995
    assert n_params(UNetGenerator(3, 3, downs=8)) == 54_413_955
    assert n_params(UNetGenerator(3, 3, downs=6)) == 29_244_035


@pytest.mark.parametrize(("size", "downs"), [(16, 4), (64, 6), (128, 7), (256, 8)])
def test_shapes_at_64_128_256(size: int, downs: int) -> None:
    net = UNetGenerator(3, 1, downs=downs, width=2, norm="instance").eval()
    y = net(torch.rand(1, 3, size, size) * 2 - 1)
    assert y.shape == (1, 1, size, size) and y.abs().max() < 1


def test_the_innermost_map_is_one_pixel_at_size_two_to_the_downs() -> None:
    net = UNetGenerator(1, 1, downs=5, width=2, norm="none")
    seen = []
    inner = net.net
    while isinstance(getattr(inner, "net", None), nn.Sequential):
        seen.append(inner)
        subs = [m for m in inner.net if type(m).__name__ == "_Level"]
        if not subs:
            break
        inner = subs[0]
    assert len(seen) == 5
    shapes = []
    hook = seen[-1].net[1].register_forward_hook(lambda m, i, o: shapes.append(o.shape))
    net(torch.zeros(1, 1, 32, 32))
    hook.remove()
    assert shapes == [(1, 16, 1, 1)]


def test_skip_connections_pass_fine_detail_and_gradients_reach_the_input() -> None:
    torch.manual_seed(0)
    net = UNetGenerator(1, 1, downs=5, width=4, norm="none", dropout=False)
    x = torch.zeros(1, 1, 32, 32, requires_grad=True)
    y = net(x)
    (g,) = torch.autograd.grad(y[0, 0, 5, 7], x)
    # the output pixel depends on the input most strongly near itself (outer skip level)
    assert g.abs().sum() > 0
    assert g[0, 0, 4:7, 6:9].abs().sum() > 0


def test_dropout_only_in_training_mode() -> None:
    net = UNetGenerator(1, 1, downs=6, width=2, norm="instance")
    x = torch.rand(2, 1, 64, 64)
    net.train()
    assert not torch.equal(net(x), net(x))
    net.eval()
    assert torch.equal(net(x), net(x))


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="downs must be >= 2"):
        UNetGenerator(downs=1)
    with pytest.raises(ValueError, match="norm must be"):
        UNetGenerator(norm="group")  # type: ignore[arg-type]
    net = UNetGenerator(3, 3, downs=5, width=2)
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.zeros(1, 3, 48, 40))
    with pytest.raises(ValueError, match="x: expected shape"):
        net(torch.zeros(1, 1, 32, 32))
