"""PuppetGAN and Cycle-VAE: each L1 term is zero for a model that satisfies it exactly
and positive otherwise; shapes, interface and the ablation switch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.distances import AdversarialDistance, MeanDistance
from unpaired.models.images import DCGANCritic
from unpaired.models.puppet import SplitDecoder, SplitEncoder
from unpaired.translation import Translator
from unpaired.translation.cyclevae import CycleVAE
from unpaired.translation.puppetgan import PuppetGAN

L1_TERMS = ("reconstruction", "disentanglement", "cycle", "attribute_cycle_b", "attribute_cycle_a")


class _Halves(nn.Module):
    """Encoder of the toy world: the attribute is the left half, the rest the right."""

    def forward(self, x):
        w = x.shape[-1] // 2
        return x[..., :w].flatten(1), x[..., w:].flatten(1)


class _Join(nn.Module):
    """Decoder of the toy world: left half from e_attr, right half from e_rest, + shift."""

    def __init__(self, shift: float = 0.0, swap: bool = False) -> None:
        super().__init__()
        self.shift, self.swap = shift, swap
        self.p = nn.Parameter(torch.zeros(()))  # a generator parameter

    def forward(self, attr, rest):
        if self.swap:
            attr, rest = rest, attr
        left, right = attr.view(-1, 1, 4, 2), rest.view(-1, 1, 4, 2)
        return torch.cat([left, right], -1) + self.shift + 0 * self.p


def _toy_batch(n: int = 6) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a, b1, b2 = (torch.rand(n, 1, 4, 4, generator=g) for _ in range(3))
    b3 = torch.cat([b1[..., :2], b2[..., 2:]], -1)  # b1's attribute, b2's rest
    return {"a": a, "b1": b1, "b2": b2, "b3": b3}


def _toy(decoder_a: nn.Module, decoder_b: nn.Module) -> PuppetGAN:
    return PuppetGAN(_Halves(), decoder_a, decoder_b, MeanDistance(), MeanDistance(), noise=0.0)


def _values(task: PuppetGAN, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v.detach()) for k, v in task.generator_losses(batch).items()}


def test_every_l1_term_is_zero_for_an_exactly_disentangled_model() -> None:
    losses = _values(_toy(_Join(), _Join()), _toy_batch())
    for k in L1_TERMS:
        assert losses[k] == pytest.approx(0.0, abs=1e-7), k


def test_the_terms_see_a_domain_shift_and_a_swapped_decoder() -> None:
    batch = _toy_batch()
    shifted = _values(_toy(_Join(shift=0.1), _Join()), batch)  # G_A adds 0.1
    # terms through G_A are positive; the synthetic-only disentanglement stays 0
    assert shifted["disentanglement"] == pytest.approx(0.0, abs=1e-7)
    for k in ("reconstruction", "cycle", "attribute_cycle_a", "attribute_cycle_b"):
        assert shifted[k] > 0.1, k
    swapped = _values(_toy(_Join(), _Join(swap=True)), batch)  # G_B mixes up halves
    assert swapped["disentanglement"] > 0.05 and swapped["reconstruction"] > 0.05


def test_noise_is_training_only_and_perturbs_the_cycles() -> None:
    task = PuppetGAN(_Halves(), _Join(), _Join(), MeanDistance(), MeanDistance(), noise=0.2)
    batch = _toy_batch()
    losses = _values(task, batch)
    assert losses["cycle"] > 0.01
    assert losses["reconstruction"] == pytest.approx(0, abs=1e-7)
    task.eval()
    assert _values(task, batch)["cycle"] == pytest.approx(0, abs=1e-7)


def test_ablation_drops_the_attribute_cycle_terms() -> None:
    task = PuppetGAN(
        _Halves(), _Join(), _Join(), MeanDistance(), MeanDistance(), attribute_cycle=False
    )
    assert "attribute_cycle_a" not in task.generator_losses(_toy_batch())


def _real(**kw) -> PuppetGAN:
    torch.manual_seed(0)
    enc = SplitEncoder(size=16, attr_dim=4, rest_dim=4, width=4)
    priors = [
        AdversarialDistance(DCGANCritic(size=16, width=4), loss="least-squares") for _ in "ab"
    ]
    return PuppetGAN(
        enc,
        SplitDecoder(4, 4, size=16, width=4),
        SplitDecoder(4, 4, size=16, width=4),
        *priors,
        **kw,
    )


def test_translator_interface_and_manipulation_shapes() -> None:
    task = _real().eval()
    a, b = torch.rand(3, 1, 16, 16) * 2 - 1, torch.rand(3, 1, 16, 16) * 2 - 1
    assert isinstance(task, Translator)
    assert task.manipulate(a, b).shape == a.shape
    assert torch.equal(task.translate(a, "b2a", guide=b), task.manipulate(a, b))
    assert torch.equal(task.translate(a, "a2b"), task.combine("b", a, a))
    with pytest.raises(ValueError, match="direction"):
        task.translate(a, "a2a")
    with pytest.raises(ValueError, match="missing"):
        task.generator_losses({"a": a})
    out = task.translate(a)
    assert out.min() >= -1 and out.max() <= 1


def test_cyclevae_terms_and_interface() -> None:
    torch.manual_seed(0)
    vae = CycleVAE(
        SplitEncoder(size=16, attr_dim=4, rest_dim=8, width=4),
        SplitDecoder(4, 4, size=16, width=4),
        SplitDecoder(4, 4, size=16, width=4),
    )
    g = torch.Generator().manual_seed(1)
    batch = {k: torch.rand(4, 1, 16, 16, generator=g) for k in ("a", "b1", "b2", "b3")}
    losses = {k: float(v.detach()) for k, v in vae.generator_losses(batch).items()}
    assert set(losses) == {"reconstruction", "disentanglement", "kl", "reverse_cycle"}
    assert all(v > 0 for v in losses.values())
    vae.eval()
    a = batch["a"]
    assert vae.manipulate(a, batch["b1"]).shape == a.shape
    assert torch.equal(vae.translate(a, "b2a", guide=batch["b1"]), vae.manipulate(a, batch["b1"]))
    with pytest.raises(ValueError, match="twice"):
        CycleVAE(
            SplitEncoder(size=16, attr_dim=4, rest_dim=4, width=4),
            SplitDecoder(4, 4, size=16, width=4),
            SplitDecoder(4, 4, size=16, width=4),
        )
