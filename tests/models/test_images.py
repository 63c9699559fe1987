from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import unpaired.models.images as images_module
from unpaired.models.images import (
    DCGANCritic,
    DCGANGenerator,
    ImageClassifier,
    InpaintingGenerator,
    ParametricDecoder,
    PatchCritic,
    PixelClassifier,
    SuperResolutionGenerator,
)
from unpaired.renderers.downsample import downsample
from unpaired.renderers.mask import apply_mask, box_mask, free_form_mask


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(("factor", "low"), [(2, 8), (4, 16), (4, 8), (8, 4)])
@pytest.mark.parametrize("channels", [1, 3])
def test_super_resolution_shapes_and_range(factor: int, low: int, channels: int) -> None:
    g = SuperResolutionGenerator(channels, factor=factor, width=8, blocks=1)
    y = g(torch.rand(2, channels, low, low + 4))
    assert y.shape == (2, channels, factor * low, factor * (low + 4))
    assert 0 < y.min() and y.max() < 1


@pytest.mark.parametrize("factor", [1, 3, 6, 2.0])
def test_factor_must_be_a_power_of_two(factor: object) -> None:
    with pytest.raises(ValueError, match="factor must be a power of two >= 2"):
        SuperResolutionGenerator(factor=factor)  # type: ignore[arg-type]
    if factor != 1:
        with pytest.raises(ValueError, match="factor must be a power of two >= 1"):
            ParametricDecoder(factor=factor)  # type: ignore[arg-type]


def test_parametric_decoder_with_factor_one_keeps_the_resolution() -> None:
    dec = ParametricDecoder(2, factor=1, width=8)
    assert dec(torch.rand(3, 2, 12, 20)).shape == (3, 2, 12, 20)


def test_inpainting_shapes_and_mask_checks() -> None:
    g = InpaintingGenerator(3, width=8, depth=2)
    x, m = torch.rand(2, 3, 16, 12), free_form_mask(2, 16, 12)
    y = g(apply_mask(x, m), m)
    assert y.shape == (2, 3, 16, 12) and 0 < y.min() and y.max() < 1
    with pytest.raises(ValueError, match="m: expected shape"):
        g(x, torch.ones(2, 3, 16, 12))
    with pytest.raises(ValueError, match="multiples of 4"):
        g(torch.rand(2, 3, 18, 12), torch.ones(2, 1, 18, 12))


def test_inpainting_output_ignores_hidden_content() -> None:
    g = InpaintingGenerator(width=8, depth=2).eval()
    m = box_mask(16, 16, (0.25, 0.25, 0.75, 0.75)).expand(2, -1, -1, -1)
    x = torch.rand(2, 1, 16, 16)
    other = torch.where(m.bool(), x, torch.rand_like(x))  # same visible pixels, new hidden ones
    assert not torch.equal(x, other)
    torch.testing.assert_close(g(x, m), g(other, m), rtol=0, atol=0)


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("norm", ["none", "spectral"])
def test_dcgan_critic_gives_one_logit_per_image(size: int, norm: str) -> None:
    d = DCGANCritic(3, size=size, width=8, norm=norm)  # type: ignore[arg-type]
    assert d(torch.rand(5, 3, size, size)).shape == (5,)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 3, "):
        d(torch.rand(5, 3, size, size + 2))


@pytest.mark.parametrize("size", [4, 12, 20, 30])
def test_dcgan_critic_rejects_bad_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="size"):
        DCGANCritic(size=size)


def test_norm_option_is_validated() -> None:
    with pytest.raises(ValueError, match="norm must be"):
        PatchCritic(norm="batch")  # type: ignore[arg-type]
    sn = PatchCritic(width=8, norm="spectral")
    assert any(hasattr(m, "parametrizations") for m in sn.modules())


def test_patch_critic_is_local() -> None:
    d = PatchCritic(width=8, layers=3).eval()
    x = torch.rand(1, 1, 64, 64)
    out = d(x)
    assert out.shape == (1, 1, 8, 8)
    poked = x.clone()
    poked[..., 0, 0] += 1.0
    diff = (d(poked) - out).abs()[0, 0]
    assert diff[0, 0] > 0  # the patch over the poked pixel sees it
    assert diff[7, 7] == 0  # a far patch does not
    with pytest.raises(ValueError, match="multiples of 8"):
        d(torch.rand(1, 1, 60, 64))


def test_parametric_decoder_and_classifier_shapes() -> None:
    dec = ParametricDecoder(3, factor=4, width=8)
    assert dec(torch.rand(2, 3, 32, 16)).shape == (2, 3, 8, 4)
    with pytest.raises(ValueError, match="multiples of 4"):
        dec(torch.rand(2, 3, 30, 16))
    clf = ImageClassifier(num_classes=40, width=8)
    assert clf(torch.rand(3, 1, 64, 64)).shape == (3, 40)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 1, H, W\)"):
        clf(torch.rand(3, 3, 64, 64))


@pytest.mark.parametrize(
    ("model", "inputs"),
    [
        (SuperResolutionGenerator(width=8, blocks=2), (torch.rand(2, 1, 4, 4),)),
        (InpaintingGenerator(width=8, depth=2), (torch.rand(2, 1, 8, 8), free_form_mask(2, 8, 8))),
        (DCGANCritic(size=16, width=8, norm="spectral"), (torch.rand(2, 1, 16, 16),)),
        (PatchCritic(width=8, layers=2), (torch.rand(2, 1, 16, 16),)),
        (ParametricDecoder(width=8), (torch.rand(2, 1, 16, 16),)),
        (ImageClassifier(width=8, stages=2), (torch.rand(2, 1, 8, 8),)),
        (PixelClassifier(8, num_classes=3), (torch.rand(2, 1, 8, 8),)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "",
)
def test_every_parameter_gets_a_gradient(
    model: nn.Module, inputs: tuple[torch.Tensor, ...]
) -> None:
    model(*inputs).square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_documented_parameter_counts() -> None:
    doc = images_module.__doc__ or ""
    rows = dict(re.findall(r"``(\w+\([^`]*\))``\s+([\d,]+)", doc))
    constructors = {
        "SuperResolutionGenerator()": SuperResolutionGenerator(),
        "SuperResolutionGenerator(factor=2)": SuperResolutionGenerator(factor=2),
        "InpaintingGenerator()": InpaintingGenerator(),
        "DCGANCritic(size=64)": DCGANCritic(size=64),
        "DCGANCritic(size=16)": DCGANCritic(size=16),
        "DCGANGenerator()": DCGANGenerator(),
        "PatchCritic()": PatchCritic(),
        "ParametricDecoder()": ParametricDecoder(),
        "ImageClassifier(num_classes=10)": ImageClassifier(num_classes=10),
        "ImageClassifier(num_classes=40)": ImageClassifier(num_classes=40),
        "PixelClassifier(64, num_classes=40)": PixelClassifier(64, num_classes=40),
    }
    assert set(rows) == set(constructors)
    for expr, model in constructors.items():
        assert int(rows[expr].replace(",", "")) == n_params(model), expr


def test_super_resolution_learns_to_reconstruct_through_the_renderer() -> None:
    """A few steps of the AIGN reconstruction loss ||P(G(x)) - x||² alone."""
    torch.manual_seed(0)
    x = F.avg_pool2d(torch.rand(16, 1, 16, 16), 2)  # smooth 8x8 inputs
    g = SuperResolutionGenerator(width=8, blocks=1)
    opt = torch.optim.Adam(g.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = (downsample(g(x), factor=4) - x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]  # measured: 0.14


def bars(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = 0.3 * torch.rand(n, 1, 16, 16)
    y = torch.arange(n) % 2
    x[y == 0, :, 6:10, :] += 0.7  # horizontal bars
    x[y == 1, :, :, 6:10] += 0.7  # vertical bars
    return x, y


@pytest.mark.parametrize("kind", ["cnn", "pixels"])
def test_classifier_learns_a_simple_task(kind: str) -> None:
    torch.manual_seed(0)
    (x, y), (x_test, y_test) = bars(32), bars(64)
    if kind == "cnn":
        clf: nn.Module = ImageClassifier(width=8, stages=2)
    else:
        clf = PixelClassifier(16, num_classes=2).fit_standardization(x)
    opt = torch.optim.Adam(clf.parameters(), lr=1e-2)
    for _ in range(50):
        loss = F.cross_entropy(clf(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    clf.eval()
    with torch.no_grad():
        assert (clf(x_test).argmax(dim=1) == y_test).float().mean() >= 0.95


@pytest.mark.parametrize("upsample", ["shuffle", "nearest"])
def test_super_resolution_options(upsample: str) -> None:
    g = SuperResolutionGenerator(factor=4, width=8, blocks=1, upsample=upsample, skip=True)
    x = torch.rand(3, 1, 8, 8) * 0.8 + 0.1
    assert g(x).shape == (3, 1, 32, 32)
    with torch.no_grad():  # a silent network leaves the bilinear upsampling of the input
        g.tail.weight.zero_()
        g.tail.bias.zero_()
    up = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
    torch.testing.assert_close(g(x), up, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="upsample must be"):
        SuperResolutionGenerator(upsample="bicubic")  # type: ignore[arg-type]


def test_inpainting_skip_starts_from_the_visible_input() -> None:
    g = InpaintingGenerator(width=8, depth=2, skip=True)
    with torch.no_grad():
        g.tail.weight.zero_()
        g.tail.bias.zero_()
    x = torch.rand(2, 1, 16, 16) * 0.9 + 0.05
    m = box_mask(16, 16, (0.25, 0.25, 0.75, 0.75)).expand(2, -1, -1, -1)
    torch.testing.assert_close(g(x, m), m * x + (1 - m) * 0.5, atol=1e-5, rtol=1e-5)


def test_pixel_classifier_standardizes_with_training_statistics() -> None:
    x = torch.rand(50, 1, 8, 8) * 0.5 + 0.25
    x[:, :, 0, 0] = 0.7  # a constant pixel: std is eps, not zero
    clf = PixelClassifier(8, num_classes=3).fit_standardization(x, eps=0.05)
    assert torch.allclose(clf.mean, x.mean(0))
    assert torch.allclose(clf.std, x.std(0) + 0.05)
    assert clf.std[0, 0, 0] == pytest.approx(0.05)
    with torch.no_grad():
        clf.linear.weight.zero_()
        clf.linear.bias.zero_()
        clf.linear.weight[0, 1] = 1.0  # logit 0 = the standardized pixel (0, 1)
    probe = x[:4].clone()
    expected = (probe[:, 0, 0, 1] - x[:, 0, 0, 1].mean()) / (x[:, 0, 0, 1].std() + 0.05)
    assert torch.allclose(clf(probe)[:, 0], expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"images: expected shape \(N, 1, 8, 8\)"):
        clf.fit_standardization(torch.rand(5, 1, 16, 16))
    with pytest.raises(ValueError, match=r"x: expected shape \(B, 1, 8, 8\)"):
        clf(torch.rand(2, 1, 8, 9))


def test_dcgan_generator_shapes_and_range() -> None:
    g = DCGANGenerator(8, 3, size=32, width=8)
    x = g(torch.randn(5, 8))
    assert x.shape == (5, 3, 32, 32) and bool((x > 0).all() and (x < 1).all())
    with pytest.raises(ValueError, match="z"):
        g(torch.randn(5, 7))
    with pytest.raises(ValueError):
        DCGANGenerator(size=12)
