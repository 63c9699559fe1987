from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _faults import fault_at
from _toy import ToyGAN, strip_time, toy_data

from unpaired.engine import Interrupted, Task, TensorSampler, TrainConfig, fit, read_log
from unpaired.engine import checkpoint as ckpt
from unpaired.engine.loop import STEP_HOOKS
from unpaired.errors import ConfigError, NonFiniteError

CFG = TrainConfig(steps=60, n_critic=2, lr=1e-2, log_every=5, eval_every=10, checkpoint_every=25)


def _task(init_seed: int = 0) -> ToyGAN:
    torch.manual_seed(init_seed)
    return ToyGAN()


def _assert_same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), f"{k} differs"


def test_two_player_training_changes_both_players(tmp_path: Path) -> None:
    task = _task()
    before = {k: v.clone() for k, v in task.state_dict().items()}
    res = fit(task, toy_data(), CFG, out=tmp_path, progress=False)
    assert res.completed and res.steps == 60
    for k, v in task.state_dict().items():
        assert not torch.equal(before[k], v), f"{k} was not trained"
    keys = set(res.history[-1])
    assert {
        "gen/adv",
        "gen/recon",
        "gen/total",
        "critic/bce",
        "critic/total",
        "eval/out_mean",
    } <= keys
    assert res.history[-1]["gen/total"] == pytest.approx(
        res.history[-1]["gen/adv"] + res.history[-1]["gen/recon"], rel=1e-5
    )


def test_same_seed_same_result_and_different_seed_differs(tmp_path: Path) -> None:
    a, b, c = _task(), _task(), _task()
    fit(a, toy_data(), CFG, seed=1, progress=False)
    fit(b, toy_data(), CFG, seed=1, progress=False)
    fit(c, toy_data(), CFG, seed=2, progress=False)
    _assert_same_state(a, b)
    assert not torch.equal(a.gen[0].weight, c.gen[0].weight)


def test_resume_after_sigterm_is_bitwise_identical(tmp_path: Path) -> None:
    ref = _task()
    ref_res = fit(ref, toy_data(), CFG, out=tmp_path / "ref", seed=7, progress=False)

    with fault_at(37, signal.SIGTERM), pytest.raises(Interrupted) as info:
        fit(_task(), toy_data(), CFG, out=tmp_path / "run", seed=7, progress=False)
    assert info.value.step == 37 and info.value.exit_code == 143
    assert ckpt.load(tmp_path / "run/checkpoints/model/last.pt")["step"] == 37

    resumed = _task(init_seed=99)  # different init: everything must come from the checkpoint
    res = fit(resumed, toy_data(), CFG, out=tmp_path / "run", seed=7, resume=True, progress=False)
    assert res.resumed_from == 37 and res.completed
    _assert_same_state(ref, resumed)
    assert res.history == ref_res.history
    assert strip_time(read_log(tmp_path / "run/log.jsonl")) == strip_time(
        read_log(tmp_path / "ref/log.jsonl")
    )


def test_existing_checkpoint_without_resume_is_refused(tmp_path: Path) -> None:
    fit(_task(), toy_data(), TrainConfig(steps=5, checkpoint_every=5), out=tmp_path, progress=False)
    with pytest.raises(ConfigError, match="--resume"):
        fit(_task(), toy_data(), TrainConfig(steps=5), out=tmp_path, progress=False)


def test_finished_checkpoint_is_loaded_without_training(tmp_path: Path) -> None:
    a = _task()
    fit(a, toy_data(), TrainConfig(steps=8, checkpoint_every=4), out=tmp_path, progress=False)
    b = _task(init_seed=5)
    res = fit(
        b,
        toy_data(),
        TrainConfig(steps=8, checkpoint_every=4),
        out=tmp_path,
        resume=True,
        progress=False,
    )
    assert res.completed and res.seconds == 0.0
    _assert_same_state(a, b)


class _Exploding(Task):
    """Finite until call ``bad_at``; then a NaN loss ("loss") or an inf gradient ("grad")."""

    def __init__(self, bad_at: int, kind: str) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(3))
        self.calls, self.bad_at, self.kind = 0, bad_at, kind

    def generator_losses(self, batch):
        self.calls += 1
        good = (self.w * batch).pow(2).mean()
        if self.calls < self.bad_at:
            return {"fit": good}
        if self.kind == "loss":
            return {"fit": good, "bad": good * float("nan")}
        return {"fit": good, "sqrt": (self.w[0] - self.w[0].detach()).sqrt()}  # value 0, grad inf


@pytest.mark.parametrize(
    "kind,what", [("loss", "generator loss 'bad'"), ("grad", "generator gradient")]
)
def test_non_finite_stops_with_name_and_step_and_keeps_last_good_checkpoint(
    tmp_path: Path, kind: str, what: str
) -> None:
    data = TensorSampler(torch.randn(64, 3), batch_size=8)
    task = _Exploding(bad_at=30, kind=kind)
    with pytest.raises(NonFiniteError) as info:
        fit(task, data, TrainConfig(steps=100, checkpoint_every=10), out=tmp_path, progress=False)
    assert info.value.step == 30 and info.value.what.startswith(what) and info.value.exit_code == 3
    state = ckpt.load(tmp_path / "checkpoints/model/last.pt")
    assert state["step"] == 20 and torch.isfinite(state["task"]["w"]).all()
    assert torch.isfinite(task.w).all()  # the bad step never reached the optimizer


def test_deadline_stops_cleanly_with_checkpoint(tmp_path: Path) -> None:
    res = fit(_task(), toy_data(), CFG, out=tmp_path, deadline=0.0, progress=False)
    assert not res.completed and res.stopped == "max_minutes" and res.steps == 1
    assert ckpt.load(tmp_path / "checkpoints/model/last.pt")["step"] == 1
    res2 = fit(_task(), toy_data(), CFG, out=tmp_path, resume=True, progress=False)
    assert res2.completed and res2.steps == 60


def test_gradient_clipping_bounds_the_update() -> None:
    class Linear(Task):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(4))

        def generator_losses(self, batch):
            return {"lin": -(self.w * 1e3).sum()}  # gradient norm 2000

        def configure_optimizers(self, config):
            return {"generator": torch.optim.SGD(self.parameters(), lr=1.0)}

    data = TensorSampler(torch.zeros(4, 1), batch_size=1)
    clipped, free = Linear(), Linear()
    fit(clipped, data, TrainConfig(steps=1, clip_grad=1.0), progress=False)
    fit(free, data, TrainConfig(steps=1), progress=False)
    assert clipped.w.norm().item() == pytest.approx(1.0, rel=1e-4)  # one SGD step of norm <= 1
    assert free.w.norm().item() == pytest.approx(2000.0, rel=1e-4)


def test_bad_train_config_values_are_config_errors() -> None:
    for kwargs in (
        {"steps": -1},
        {"n_critic": 0},
        {"lr": 0.0},
        {"betas": (0.5, 1.5)},
        {"log_every": 0},
    ):
        with pytest.raises(ConfigError):
            TrainConfig(**kwargs)


class _Recording(ToyGAN):
    """Records the order of the engine's calls: ("start", k), "critic", "gen"."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list = []

    def on_step_start(self, step: int) -> None:
        self.calls.append(("start", step))

    def critic_losses(self, batch):
        self.calls.append("critic")
        return super().critic_losses(batch)

    def generator_losses(self, batch):
        self.calls.append("gen")
        return super().generator_losses(batch)


def test_on_step_start_precedes_each_step_and_continues_after_resume(tmp_path: Path) -> None:
    cfg = TrainConfig(steps=6, n_critic=2, checkpoint_every=100)
    task = _Recording()
    with fault_at(4, signal.SIGTERM), pytest.raises(Interrupted):
        fit(task, toy_data(), cfg, out=tmp_path, progress=False)
    one_step = ["critic", "critic", "gen"]
    assert task.calls == [x for k in range(1, 5) for x in [("start", k), *one_step]]
    resumed = _Recording()
    fit(resumed, toy_data(), cfg, out=tmp_path, resume=True, progress=False)
    assert resumed.calls == [x for k in (5, 6) for x in [("start", k), *one_step]]


def test_default_configure_optimizers_is_adam_per_player_with_its_lr() -> None:
    task = ToyGAN()
    opts = task.configure_optimizers(TrainConfig(lr=1e-3, critic_lr=4e-3, betas=(0.0, 0.9)))
    assert set(opts) == {"generator", "critic"}
    assert all(isinstance(o, torch.optim.Adam) for o in opts.values())
    assert opts["generator"].param_groups[0]["lr"] == 1e-3
    assert opts["critic"].param_groups[0]["lr"] == 4e-3
    assert opts["critic"].param_groups[0]["betas"] == (0.0, 0.9)
    for player, params in (("generator", task.gen), ("critic", task.critic)):
        got = {id(p) for p in opts[player].param_groups[0]["params"]}
        assert got == {id(p) for p in params.parameters()}, player


def test_configure_optimizers_missing_a_player_is_a_config_error() -> None:
    class GeneratorOnly(ToyGAN):
        def configure_optimizers(self, config):
            return {"generator": torch.optim.SGD(self.generator_parameters(), lr=0.1)}

    with pytest.raises(ConfigError, match=r"optimizers for \['critic'\]"):
        fit(GeneratorOnly(), toy_data(), TrainConfig(steps=1), progress=False)


def test_a_step_hook_sees_every_step_of_every_fit() -> None:
    seen: list[tuple[str, int]] = []
    STEP_HOOKS.append(lambda name, step: seen.append((name, step)))
    try:
        fit(_task(), toy_data(), TrainConfig(steps=3), name="a", progress=False)
    finally:
        STEP_HOOKS.clear()
    assert seen == [("a", 1), ("a", 2), ("a", 3)]
