from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from unpaired.distances import AdversarialDistance, MeanDistance
from unpaired.engine import TensorSampler, TrainConfig, Unpaired, fit
from unpaired.models.images import PatchCritic
from unpaired.models.munit import MUNITAutoencoder
from unpaired.translation import MUNIT, Translator


def _net(channels: int = 1) -> MUNITAutoencoder:
    return MUNITAutoencoder(channels, width=4, blocks=1, mlp_dim=8, style_dim=4)


def _task(cycle_weight: float = 0.0, channels_b: int = 1) -> MUNIT:
    torch.manual_seed(0)
    return MUNIT(
        _net(), _net(channels_b), MeanDistance(), MeanDistance(), cycle_weight=cycle_weight
    )


def _images(n: int, channels: int = 1, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, channels, 16, 16, generator=g) * 2 - 1


def test_guided_translation_takes_the_content_of_x_and_the_style_of_the_guide() -> None:
    task = _task(channels_b=3)
    a, guide = _images(3), _images(3, channels=3, seed=2)
    with torch.no_grad():
        out = task.translate(a, "a2b", guide=guide)
        expected = task.gen_b.decode(task.gen_a.content(a), task.gen_b.style(guide))
        assert out.shape == (3, 3, 16, 16) and torch.equal(out, expected)
        one = task.translate(a, guide=guide[:1])  # one guide for every input
        assert torch.equal(one, task.translate(a, guide=guide[:1].expand(3, -1, -1, -1)))
        back = task.translate(guide, "b2a", guide=a)
        assert back.shape == (3, 1, 16, 16)
        assert torch.equal(back, task.gen_a.decode(task.gen_b.content(guide), task.gen_a.style(a)))


def test_the_guide_matters_once_styles_differ() -> None:
    task = _task()
    a = _images(2)
    with torch.no_grad():
        for p in task.gen_b.decoder.mlp.parameters():  # make the style's effect large
            p.mul_(20)
        x1 = task.translate(a, guide=_images(1, seed=3))
        x2 = task.translate(a, guide=-_images(1, seed=4).abs())
    assert (x1 - x2).abs().max() > 1e-3


def test_without_a_guide_the_style_is_drawn_from_the_generator() -> None:
    task = _task()
    a = _images(4)
    with torch.no_grad():
        run = [task.translate(a, generator=torch.Generator().manual_seed(s)) for s in (5, 5, 6)]
        s5 = torch.randn(4, 4, generator=torch.Generator().manual_seed(5))
        expected = task.gen_b.decode(task.gen_a.content(a), s5)
    assert torch.equal(run[0], run[1]) and not torch.equal(run[0], run[2])
    assert torch.equal(run[0], expected)
    # the default: a fixed draw (seed 0) that leaves the global RNG where it was
    state = torch.random.get_rng_state()
    with torch.no_grad():
        default = task.translate(a)
        assert torch.equal(default, task.translate(a, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert isinstance(task, Translator)


def test_bad_direction_and_guide_sizes_fail_with_a_clear_message() -> None:
    task = _task()
    with pytest.raises(ValueError, match="direction must be 'a2b' or 'b2a'"):
        task.translate(_images(2), "ab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="guide must hold 1 or 2 images"):
        task.translate(_images(2), guide=_images(3))
    with pytest.raises(ValueError, match="guide: expected shape"):
        task.translate(_images(2), guide=_images(2, channels=3))
    with pytest.raises(ValueError, match="same style_dim"):
        MUNIT(
            _net(),
            MUNITAutoencoder(1, width=4, blocks=1, style_dim=3),
            MeanDistance(),
            MeanDistance(),
        )


def test_the_cycle_term_is_the_l1_of_the_cross_domain_reconstruction() -> None:
    a, b = _images(2), _images(2, seed=2)
    assert "cycle_a" not in _task().generator_losses({"a": a, "b": b})
    task = _task(cycle_weight=7.0)
    torch.manual_seed(3)
    losses = task.generator_losses({"a": a, "b": b})
    torch.manual_seed(3)
    s_a, s_b = torch.randn(2, 4), torch.randn(2, 4)  # the draws' order: a's style, b's style
    with torch.no_grad():
        x_ab = task.gen_b.decode(task.gen_a.content(a), s_b)
        aba = task.gen_a.decode(task.gen_b.content(x_ab), task.gen_a.style(a))
        x_ba = task.gen_a.decode(task.gen_b.content(b), s_a)
        style_a = F.l1_loss(task.gen_a.style(x_ba), s_a)
    assert torch.allclose(losses["cycle_a"], 7.0 * F.l1_loss(aba, a))
    assert torch.allclose(losses["style_a"], style_a)
    assert torch.allclose(losses["recon_a"], 10.0 * F.l1_loss(task.gen_a(a), a))


def _smooth(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 1, 4, 4, generator=g) * 2 - 1, size=16, mode="bilinear")


@pytest.mark.slow
def test_a_short_fit_reduces_the_reconstruction_and_cycle_errors() -> None:
    torch.manual_seed(0)
    a, b = _smooth(16, 1), _smooth(16, 2).flip(-1)
    critic = lambda: AdversarialDistance(PatchCritic(1, width=4, layers=2))  # noqa: E731
    task = MUNIT(_net(), _net(), critic(), critic(), cycle_weight=10.0, eval_a=a, eval_b=b)
    task.eval()
    with torch.no_grad():
        before = task.evaluate()
    data = Unpaired({"a": TensorSampler(a, batch_size=8), "b": TensorSampler(b, batch_size=8)})
    fit(task, data, TrainConfig(steps=30, lr=3e-3, log_every=30), progress=False)
    task.eval()
    with torch.no_grad():
        after = task.evaluate()
    assert after["recon_a"] < 0.8 * before["recon_a"], (before, after)
    assert after["cycle_a"] < 0.8 * before["cycle_a"], (before, after)
