from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from unpaired.recipes.base import RunContext


def _ctx(tmp_path: Path, seed: int) -> RunContext:
    return RunContext(out=tmp_path, fabric=None, logger=None, seed=seed)  # type: ignore[arg-type]


def test_seeded_init_does_not_depend_on_models_built_before(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, 0)
    with ctx.seeded("b"):
        alone = nn.Linear(4, 3).weight.detach().clone()
    nn.Linear(100, 100)  # another model first: moves the global RNG
    with ctx.seeded("a"):
        nn.Linear(4, 3)
    with ctx.seeded("b"):
        after_others = nn.Linear(4, 3).weight.detach().clone()
    assert torch.equal(alone, after_others)
    with ctx.seeded("a"):
        other_name = nn.Linear(4, 3).weight.detach()
    with _ctx(tmp_path, 1).seeded("b"):
        other_seed = nn.Linear(4, 3).weight.detach()
    assert not torch.equal(alone, other_name)
    assert not torch.equal(alone, other_seed)


def test_seeded_restores_the_global_rng(tmp_path: Path) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with _ctx(tmp_path, 0).seeded("model"):
        torch.rand(10)
    assert torch.equal(torch.rand(3), expected)
