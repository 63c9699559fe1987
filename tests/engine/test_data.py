from __future__ import annotations

import pytest
import torch

from unpaired.engine import TensorSampler, Unpaired


def test_rank_shards_partition_the_global_batch() -> None:
    x = torch.arange(100).float()[:, None]
    s = TensorSampler(x, batch_size=8)
    whole = TensorSampler(x, batch_size=16).sample(torch.Generator().manual_seed(5))
    parts = [s.sample(torch.Generator().manual_seed(5), rank=r, world_size=2) for r in range(2)]
    assert torch.equal(torch.cat(parts), whole)


def test_paired_tensors_share_indices_and_unpaired_sources_do_not() -> None:
    x = torch.arange(50).float()
    paired = TensorSampler(x, 2 * x, batch_size=10).sample(torch.Generator().manual_seed(0))
    assert torch.equal(paired[1], 2 * paired[0])
    batch = Unpaired(
        {"a": TensorSampler(x, batch_size=10), "b": TensorSampler(x, batch_size=10)}
    ).sample(torch.Generator().manual_seed(0))
    assert set(batch) == {"a", "b"} and not torch.equal(batch["a"], batch["b"])


def test_same_generator_state_same_batch() -> None:
    s = TensorSampler(torch.randn(30, 2), batch_size=4)
    assert torch.equal(
        s.sample(torch.Generator().manual_seed(1)), s.sample(torch.Generator().manual_seed(1))
    )


def test_bad_sampler_arguments() -> None:
    with pytest.raises(ValueError, match="first dimension"):
        TensorSampler(torch.zeros(3), torch.zeros(4), batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        TensorSampler(torch.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="empty"):
        TensorSampler(torch.zeros(0, 2), batch_size=1)
