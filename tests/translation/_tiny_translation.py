"""Tiny CycleGANs for the tests (16x16 images, a few thousand parameters)."""

from __future__ import annotations

import torch

from unpaired.models.translation import ResnetGenerator, init_normal
from unpaired.translation import CycleGAN, default_prior, guess_critic


def tiny_cyclegan(*, noise_std: float = 0.0, guess_weight: float = 0.0, **kw) -> CycleGAN:  # type: ignore[no-untyped-def]
    def gen() -> ResnetGenerator:
        return init_normal(ResnetGenerator(3, 3, width=4, n_blocks=1))  # type: ignore[return-value]

    guess = {}
    if guess_weight > 0:
        guess = {
            "guess_a": guess_critic(3, width=4, n_layers=2),
            "guess_b": guess_critic(3, width=4, n_layers=2),
        }
    return CycleGAN(
        gen(),
        gen(),
        default_prior(3, width=4, n_layers=2),
        default_prior(3, width=4, n_layers=2),
        noise_std=noise_std,
        guess_weight=guess_weight,
        **guess,
        **kw,
    )


def tiny_batch(n: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "a": torch.rand(n, 3, 16, 16, generator=g) * 2 - 1,
        "b": torch.rand(n, 3, 16, 16, generator=g) * 2 - 1,
    }
