"""Batch sources: stateless samplers that draw a batch from a ``torch.Generator``.

The engine hands every source a generator that depends only on ``(seed, step)``; with
several ranks each source draws the *global* batch and keeps its rank's slice, so the
data stream is identical whatever the number of devices and exactly reproducible on
resume. Sampling is with replacement (the usual choice for adversarial training).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class BatchSource(Protocol):
    """Anything that can draw one batch (this rank's share) from a generator."""

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any: ...


class TensorSampler:
    """Random rows of one or more aligned tensors, with replacement.

    ``TensorSampler(x, batch_size=64).sample(g)`` returns (64, *) rows of ``x``;
    with several tensors (paired data) it returns a tuple of rows with the same indices.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int) -> None:
        if not tensors:
            raise ValueError("TensorSampler needs at least one tensor")
        n = tensors[0].shape[0]
        if n == 0:
            raise ValueError("TensorSampler got an empty tensor")
        for i, t in enumerate(tensors):
            if t.shape[0] != n:
                raise ValueError(
                    f"tensors must share their first dimension: tensor 0 has {n}, tensor {i} has {t.shape[0]}"
                )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors = tensors
        self.batch_size = batch_size

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        idx = torch.randint(len(self), (self.batch_size * world_size,), generator=generator)
        idx = idx[rank * self.batch_size : (rank + 1) * self.batch_size]
        rows = tuple(t[idx.to(t.device)] for t in self.tensors)
        return rows[0] if len(rows) == 1 else rows


class Unpaired:
    """Independent draws from several sources: ``{"x": ..., "memories": ...}``.

    This is how unpaired supervision reaches a task: inputs and memories are sampled
    separately, never by a shared index.
    """

    def __init__(self, sources: Mapping[str, BatchSource]) -> None:
        if not sources:
            raise ValueError("Unpaired needs at least one source")
        self.sources = dict(sources)

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, Any]:
        return {
            k: s.sample(generator, rank=rank, world_size=world_size)
            for k, s in self.sources.items()
        }
