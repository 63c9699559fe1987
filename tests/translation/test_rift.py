"""RIFT: the guide channel, the capacity loss and Theorem 1's bound, honesty terms, translate;
the StarGAN v2-style baseline and the reference translators."""

from __future__ import annotations

import math

import pytest
import torch

from unpaired.distances import AdversarialDistance
from unpaired.models.guided import AdaINGenerator, StyleEncoder
from unpaired.models.translation import PatchCritic, ResnetGenerator
from unpaired.translation import Translator
from unpaired.translation.reference import Copy, RandomTarget
from unpaired.translation.rift import RIFT, capacity_bound
from unpaired.translation.stargan import StarGANv2


def _d() -> AdversarialDistance:
    return AdversarialDistance(PatchCritic(3, width=4, n_layers=2), loss="least-squares")


def _rift(**kw) -> RIFT:
    torch.manual_seed(0)
    gen = lambda: ResnetGenerator(4, 4, width=4, n_blocks=1)  # noqa: E731
    return RIFT(
        gen(),
        gen(),
        _d(),
        _d(),
        PatchCritic(6, width=4, n_layers=2),
        PatchCritic(6, width=4, n_layers=2),
        **kw,
    )


def _batch(n: int = 4):
    g = torch.Generator().manual_seed(0)
    return {
        "a": torch.rand(n, 3, 16, 16, generator=g) * 2 - 1,
        "b": torch.rand(n, 3, 16, 16, generator=g) * 2 - 1,
    }


def test_capacity_loss_is_zero_at_zero_embedding_and_falls_as_it_shrinks():
    task = _rift(capacity=1.0)
    batch = _batch()
    convs = [g.net[-2] for g in task.g.values()]  # the 7x7 output convs; channel -1 is s
    original = [(c.weight[-1].clone(), c.bias[-1].clone()) for c in convs]
    values = []
    for scale in (1.0, 0.5, 0.0):  # s = tanh(scale * pre-activation): |s| shrinks with scale
        with torch.no_grad():
            for c, (w, b) in zip(convs, original, strict=True):
                c.weight[-1], c.bias[-1] = scale * w, scale * b
        values.append(float(task.generator_losses(batch)["capacity"].detach()))
    assert values[0] > values[1] > values[2] == 0.0


def test_capacity_bound_is_theorem_1():
    s = torch.full((5, 1, 4, 4), 0.5)  # ||s||^2 = 16 * 0.25 = 4 per image
    assert capacity_bound(s, 1.0) == pytest.approx(16 * math.log2(1 + 4.0))
    assert capacity_bound(torch.zeros(2, 1, 4, 4), 0.1) == 0.0
    assert capacity_bound(s, 0.5) > capacity_bound(s, 1.0)
    assert capacity_bound(s, 0.0) == math.inf


def test_losses_and_ablations():
    full = _rift()
    names = set(full.generator_losses(_batch()))
    assert {"adversarial_a", "cycle_b", "identity_a", "capacity", "guess_a", "guess_b"} <= names
    assert {"guess_critic_a", "critic_b"} <= set(full.critic_losses(_batch()))
    no_honesty = _rift(guess=0.0, input_noise=0.0)
    assert not any(k.startswith("guess") for k in no_honesty.generator_losses(_batch()))
    assert len(no_honesty.critic_parameters()) < len(full.critic_parameters())
    with pytest.raises(ValueError, match="at least 2"):
        full.generator_losses(_batch(1))
    with pytest.raises(ValueError, match="capacity"):
        _rift(capacity=-1.0)


def test_translate_uses_the_guide_and_is_noise_free():
    task = _rift().eval()
    x, g = _batch()["a"], _batch()["b"]
    assert isinstance(task, Translator)
    out = task.translate(x, "a2b", guide=g)
    assert out.shape == x.shape and out.abs().max() <= 1
    assert torch.equal(out, task.translate(x, "a2b", guide=g))  # no noise at inference
    assert not torch.allclose(out, task.translate(x, "a2b", guide=g.flip(0)))
    with pytest.raises(ValueError, match="direction"):
        task.translate(x, "a2c", guide=g)
    with pytest.raises(ValueError, match="guide"):
        task.translate(x, "a2b", guide=g[:2])


def test_stargan_and_references():
    torch.manual_seed(0)
    t = StarGANv2(
        AdaINGenerator(3, 4, width=4, n_blocks=1), StyleEncoder(3, 4, width=4), _d(), _d()
    )
    b = _batch()
    losses = t.generator_losses(b)
    assert {"adversarial_a", "style_b", "diversity_a", "cycle_b"} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    out = t.translate(b["a"], "a2b", guide=b["b"])
    assert not torch.allclose(out, t.translate(b["a"], "a2b", guide=b["b"].flip(0)))
    with pytest.raises(ValueError, match="guide"):
        t.translate(b["a"], "a2b")
    rand = RandomTarget(b["a"], b["b"], seed=0)
    pick = rand.translate(b["a"][:3], "a2b")
    assert all(any(torch.equal(p, q) for q in b["b"]) for p in pick)
    assert torch.equal(Copy("guide").translate(b["a"], "b2a", guide=b["b"]), b["b"])
    assert torch.equal(Copy().translate(b["a"], "b2a"), b["a"])


class _KnowsTheOriginal(torch.nn.Module):
    """A perfect guess critic: 1 where the first image of the pair is not ``original``
    (the reconstruction comes first), else 0; records the orders it saw."""

    def __init__(self, original: torch.Tensor) -> None:
        super().__init__()
        self.original, self.rec_first = original, []
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        first = pairs[:, :3]
        rec_first = (first != self.original).flatten(1).any(1)
        self.rec_first.append(rec_first)
        return (rec_first.float() + 0 * self.dummy).view(-1, 1, 1, 1)


def test_guess_order_is_per_sample_and_labels_are_right():
    n = 32
    batch = _batch(n)
    torch.manual_seed(0)
    gen = lambda: ResnetGenerator(4, 4, width=4, n_blocks=1)  # noqa: E731
    crit_a, crit_b = _KnowsTheOriginal(batch["a"]), _KnowsTheOriginal(batch["b"])
    task = RIFT(gen(), gen(), _d(), _d(), crit_a, crit_b, guess=2.0)
    critic = task.critic_losses(batch)
    # a perfect critic pays nothing on the true labels; the generators, on the flipped ones,
    # pay the full 1 per sample (times the weight)
    assert critic["guess_critic_a"].item() == 0.0 == critic["guess_critic_b"].item()
    gen_losses = task.generator_losses(batch)
    assert gen_losses["guess_a"].item() == pytest.approx(2.0)
    for crit in (crit_a, crit_b):
        for seen in crit.rec_first:  # both orders occur within one batch
            assert 0 < int(seen.sum()) < n
