"""Stateless randomness: every training step reseeds from ``(seed, step, stream, rank)``.

Because no RNG state carries over from one step to the next, a run resumed from a
checkpoint at step k draws exactly the numbers an uninterrupted run draws at k+1, k+2,
..., with nothing to save; different ranks get different, reproducible streams.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

_MASK = (1 << 64) - 1

DATA_STREAM = 1
MODEL_STREAM = 2


def mix(*values: int) -> int:
    """Hash integers into a 63-bit seed (SplitMix64 finaliser over a running state)."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK)) & _MASK
        h = (h + 0x9E3779B97F4A7C15) & _MASK
        z = h
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        h = z ^ (z >> 31)
    return h & ((1 << 63) - 1)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) from one integer."""
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed % (1 << 32))  # noqa: NPY002 -- seeds the legacy global RNG on purpose
    torch.manual_seed(seed)


def step_generator(
    seed: int, step: int, stream: int = DATA_STREAM, *, generator: torch.Generator | None = None
) -> torch.Generator:
    """A CPU generator seeded for one step and one stream (identical on every rank).

    Pass the previous step's ``generator`` to reseed it in place instead of allocating.
    """
    return (generator or torch.Generator()).manual_seed(mix(seed, step, stream))


def seed_step(seed: int, step: int, rank: int, device: torch.device) -> None:
    """Reseed torch's default generators for model-side randomness (dropout, noise)."""
    s = mix(seed, step, MODEL_STREAM, rank)
    torch.default_generator.manual_seed(s)
    if device.type == "cuda":
        torch.cuda.manual_seed(s)
