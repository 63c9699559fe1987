"""Session: the one fit wrapper of recipes, align() and the align command."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from unpaired.engine import TrainConfig
from unpaired.engine.rng import mix
from unpaired.engine.session import BudgetExhausted, Session

from ._toy import ToyGAN, toy_data

CFG = TrainConfig(steps=6, lr=1e-2, log_every=2, checkpoint_every=3)


def _weights(task: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in task.parameters()])


def _fit(session: Session, name: str, seed: int | None = None) -> torch.Tensor:
    torch.manual_seed(0)
    task = ToyGAN()
    session.fit(name, task, toy_data(), CFG, seed=seed)
    return _weights(task)


def test_default_seed_mixes_the_run_seed_and_the_name() -> None:
    with Session.open(seed=7, progress=False) as s:
        default = _fit(s, "a")
        explicit = _fit(s, "b", seed=mix(7, *b"a"))  # what "a" got by default
        other = _fit(s, "c")
    assert torch.equal(default, explicit)
    assert not torch.equal(default, other)
    assert list(s.fits) == ["a", "b", "c"] and s.fits["a"].steps == CFG.steps


def test_a_name_is_used_once() -> None:
    with Session.open(progress=False) as s:
        _fit(s, "a")
        with pytest.raises(ValueError, match="'a' used twice"):
            _fit(s, "a")


def test_resume_reloads_a_finished_fit(tmp_path: Path) -> None:
    with Session.open(tmp_path, progress=False) as s:
        first = _fit(s, "m")
    with Session.open(tmp_path, resume=True, progress=False) as s:
        again = _fit(s, "m")
        assert s.fits["m"].resumed_from == CFG.steps
    assert torch.equal(first, again)


def test_a_passed_deadline_stops_the_run_with_a_checkpoint(tmp_path: Path) -> None:
    with Session.open(tmp_path, progress=False) as s:
        s.deadline = time.monotonic() - 1.0
        with pytest.raises(BudgetExhausted, match="time budget reached at step"):
            _fit(s, "m")
    assert (tmp_path / "checkpoints" / "m" / "last.pt").exists()
