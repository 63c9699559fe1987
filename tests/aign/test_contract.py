"""The Task contract over every AIGN family (until the shared tests/test_tasks.py holds
these cases): named finite scalar losses on a tiny batch, and each player's loss moves
only that player's parameters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import TASKS


def _grads(loss: torch.Tensor, params: list[torch.nn.Parameter]) -> list[torch.Tensor | None]:
    return list(torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True))


@pytest.mark.parametrize("name", list(TASKS))
def test_losses_are_named_finite_scalars_and_players_stay_apart(name: str) -> None:
    task, batch = TASKS[name]()
    task.train()
    gen, critic = task.generator_parameters(), task.critic_parameters()
    assert gen and not {id(p) for p in gen} & {id(p) for p in critic}
    losses = task.generator_losses(batch)
    assert losses and all(isinstance(k, str) for k in losses)
    for key, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), key
    total = sum(losses.values())
    assert any(g is not None and g.abs().sum() > 0 for g in _grads(total, gen))
    if critic:
        # the generator's loss may flow through the critic, but only its own step updates it;
        # the critic's loss must not reach the generator
        closs = task.critic_losses(batch)
        assert closs and all(v.dim() == 0 and torch.isfinite(v) for v in closs.values())
        critic_total = sum(closs.values())
        assert all(g is None or g.abs().sum() == 0 for g in _grads(critic_total, gen))
        assert any(g is not None and g.abs().sum() > 0 for g in _grads(critic_total, critic))
