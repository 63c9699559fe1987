from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from unpaired.distances import Distance, MeanDistance
from unpaired.engine import TensorSampler, TrainConfig, fit
from unpaired.models.unet import UNetGenerator
from unpaired.translation import Pix2Pix, Translator


class _Recorder(Distance):
    """A parameter-free distance that remembers what it was shown."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        self.seen.append((a.detach(), b.detach()))
        return (a.mean() - b.mean()).abs()


def _pairs(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a = F.interpolate(torch.rand(n, 3, 8, 8, generator=g) * 2 - 1, size=32, mode="bilinear")
    return a, -a[:, :1]  # b: minus the first channel


def _unet() -> UNetGenerator:
    torch.manual_seed(0)
    return UNetGenerator(3, 1, downs=5, width=4, norm="instance", dropout=False)


def test_the_prior_judges_pairs_conditioned_on_the_input() -> None:
    prior = _Recorder()
    task = Pix2Pix(_unet(), prior)
    a, b = _pairs()
    losses = task.generator_losses((a, b))
    fake_pair, real_pair = prior.seen[-1]
    assert fake_pair.shape == real_pair.shape == (4, 4, 32, 32)
    assert torch.equal(fake_pair[:, :3], a) and torch.equal(real_pair[:, :3], a)
    assert torch.equal(real_pair[:, 3:], b)
    with torch.no_grad():
        fake = task.generator(a)
    assert torch.allclose(fake_pair[:, 3:], fake)
    assert torch.allclose(losses["l1"], 100 * F.l1_loss(fake, b))
    assert torch.equal(task.generator_losses({"a": a, "b": b})["l1"], losses["l1"])


def test_translate_is_one_directional_and_ignores_a_guide() -> None:
    task = Pix2Pix(_unet(), MeanDistance(), direction="b2a")
    a, _ = _pairs(2)
    assert isinstance(task, Translator)
    assert task.translate(a).shape == (2, 1, 32, 32)
    assert torch.equal(task.translate(a, guide=a[:, :1]), task.translate(a))
    assert torch.equal(task.translate(a, "b2a"), task.translate(a))
    with pytest.raises(ValueError, match="translates b2a only"):
        task.translate(a, "a2b")
    with pytest.raises(ValueError, match="both eval_a and eval_b"):
        Pix2Pix(_unet(), MeanDistance(), eval_a=a)


@pytest.mark.slow
def test_a_short_supervised_fit_learns_the_paired_map() -> None:
    a, b = _pairs(8)
    task = Pix2Pix(_unet(), MeanDistance(), eval_a=a, eval_b=b)
    task.eval()
    with torch.no_grad():
        before = task.evaluate()["l1"]
    fit(
        task,
        TensorSampler(a, b, batch_size=4),
        TrainConfig(steps=60, lr=3e-3, log_every=60),
        progress=False,
    )
    task.eval()
    with torch.no_grad():
        after = task.evaluate()["l1"]
    assert after < 0.5 * before, (before, after)
