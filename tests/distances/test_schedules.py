"""Annealed regularizers: schedule values, the engine driving them, exact resume."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from _faults import fault_at

from unpaired.distances import AdversarialDistance, Schedule, mlp_critic, step_schedules
from unpaired.engine import Interrupted, Task, TensorSampler, TrainConfig, Unpaired, fit


def test_schedule_values() -> None:
    exp = Schedule(2.0, "exponential", steps=10)
    assert exp.value(0) == pytest.approx(2.0)
    assert exp.value(5) == pytest.approx(2.0 * 0.01**0.5)
    assert exp.value(10) == pytest.approx(0.02)
    assert exp.value(1000) == pytest.approx(0.02)  # held after T
    lin = Schedule(1.0, "linear", steps=4, end=0.5)
    assert [lin.value(t) for t in range(5)] == pytest.approx([1.0, 0.875, 0.75, 0.625, 0.5])
    assert Schedule(0.3).value(99) == 0.3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": -1.0},
        {"start": 1.0, "kind": "cosine", "steps": 3},
        {"start": 1.0, "kind": "linear"},
        {"start": 1.0, "kind": "exponential", "steps": 3, "end": 0.0},
    ],
)
def test_bad_schedules_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Schedule(**kwargs)


def test_roth_schedule_needs_logistic() -> None:
    with pytest.raises(ValueError, match="roth_gamma needs"):
        AdversarialDistance(
            mlp_critic(2), loss="hinge", roth_gamma=Schedule(1.0, "linear", steps=3)
        )


def test_step_schedules_moves_nested_distances() -> None:
    d = AdversarialDistance(
        mlp_critic(2),
        roth_gamma=Schedule(2.0, "exponential", steps=100),
        instance_noise=Schedule(0.5, "linear", steps=10),
    )
    holder = nn.ModuleDict({"prior": nn.ModuleList([d])})
    step_schedules(holder, 50)
    assert d.roth_gamma == pytest.approx(0.2)
    assert d.instance_noise == pytest.approx(0.0)


class _Shift(Task):
    """min_s d(a + s, b) with a scheduled adversarial distance; records gamma per step."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.s = nn.Parameter(torch.zeros(2))
        self.dist = AdversarialDistance(
            mlp_critic(2, hidden=8, layers=1),
            roth_gamma=Schedule(2.0, "exponential", steps=8),
            instance_noise=Schedule(0.3, "linear", steps=8),
        )
        self.seen: list[tuple[int, float, float]] = []

    def on_step_start(self, step: int) -> None:
        super().on_step_start(step)
        self.seen.append((step, self.dist.roth_gamma, self.dist.instance_noise))

    def critic_parameters(self):
        return list(self.dist.parameters())

    def critic_losses(self, batch):
        return {"critic": self.dist.critic_loss((batch["a"] + self.s).detach(), batch["b"])}

    def generator_losses(self, batch):
        return {"adv": self.dist(batch["a"] + self.s, batch["b"])}


def _data() -> Unpaired:
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g) + 1
    return Unpaired({"a": TensorSampler(a, batch_size=16), "b": TensorSampler(b, batch_size=16)})


def test_engine_drives_the_schedule_and_resume_continues_it(tmp_path: Path) -> None:
    cfg = TrainConfig(steps=8, lr=1e-2, checkpoint_every=100)
    whole = _Shift()
    fit(whole, _data(), cfg, progress=False)
    want = [(t, 2.0 * 0.01 ** (t / 8), 0.3 * (1 - t / 8)) for t in range(1, 9)]
    assert [s for s, _, _ in whole.seen] == list(range(1, 9))
    assert [g for _, g, _ in whole.seen] == pytest.approx([g for _, g, _ in want])
    assert [n for _, _, n in whole.seen] == pytest.approx([n for _, _, n in want])

    first = _Shift()
    with fault_at(3, signal.SIGTERM), pytest.raises(Interrupted):
        fit(first, _data(), cfg, out=tmp_path, progress=False)
    resumed = _Shift()
    fit(resumed, _data(), cfg, out=tmp_path, resume=True, progress=False)
    assert first.seen + resumed.seen == whole.seen
    for k, v in whole.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
