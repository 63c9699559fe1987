"""The one training loop (on Lightning Fabric) used by every model of the library.

Each step ``k``: reseed every RNG from ``(seed, k)``, ``task.on_step_start(k)``, then
``n_critic`` critic updates (two-player tasks only) and one generator update, each on a
freshly sampled batch and with its own optimizer; then log/evaluate, then checkpoint or
stop. :func:`_fit` reads in that order; the updates live in :mod:`unpaired.engine.players`.
Around that:

* **Devices** via Fabric (:mod:`unpaired.engine.devices`: ``devices``, ``num_nodes``,
  ``precision``, ``strategy``). Gradients are averaged across ranks with one flattened
  all-reduce per update, so tasks stay plain modules, and the parameters stay identical
  on every rank (checked at the end of training).
* **Exact resume**: randomness is reseeded from ``(seed, step)`` every step
  (:mod:`unpaired.engine.rng`), so a checkpoint only needs the weights, optimizer
  states and logged history; a run killed at step k and resumed ends bitwise-identical
  to an uninterrupted one (on CPU).
* **Atomic checkpoints** every ``checkpoint_every`` steps, at the end, on SIGINT/SIGTERM
  and when the time budget runs out.
* **Model records**: with each checkpoint, ``models/<name>.pt`` holds the networks the
  task exports (:meth:`~unpaired.engine.Task.exports`, :mod:`unpaired.engine.records`),
  what ``unpaired.load`` and ``unpaired predict`` read.
* **NaN guard**: a non-finite loss or gradient stops training *before* the optimizer
  step with :class:`~unpaired.errors.NonFiniteError` (naming the loss and step);
  the last good checkpoint on disk is left untouched.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from lightning_fabric import Fabric
from torch import nn

from unpaired.engine import checkpoint as ckpt
from unpaired.engine.data import BatchSource
from unpaired.engine.devices import Precision, Strategy, check_device_options, make_fabric
from unpaired.engine.fsdp import ShardedPlayers, is_sharded
from unpaired.engine.logging import TIME_PREFIX, RunLogger
from unpaired.engine.players import Players
from unpaired.engine.progress import TrainingProgress
from unpaired.engine.records import model_path, write_models
from unpaired.engine.task import Task
from unpaired.errors import ConfigError, UnpairedError

__all__ = [
    "STEP_HOOKS",
    "FitResult",
    "Interrupted",
    "Precision",
    "Strategy",
    "TrainConfig",
    "check_device_options",
    "fit",
    "make_fabric",
]

#: Debug hook, empty in production: every ``hook(name, step)`` here runs on every rank
#: after each training step (after that step's checkpoint, before the stop check).
#: Tests install fault injectors in it (``tests/engine/_faults.py``) to signal or kill a
#: run at a chosen step; a hook may also raise to stop training.
STEP_HOOKS: list[Callable[[str, int], None]] = []


@dataclass(frozen=True)
class TrainConfig:
    """Optimization settings of one fit (a recipe's config embeds one per model)."""

    steps: int = 1000
    n_critic: int = 1
    lr: float = 1e-3
    critic_lr: float | None = None  # None: same as lr
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    clip_grad: float | None = None  # max global gradient norm per player
    log_every: int = 10
    eval_every: int = 0  # 0: evaluate once, at the end
    checkpoint_every: int = 500
    check_finite: bool = True

    def __post_init__(self) -> None:
        positive = {
            "n_critic": self.n_critic,
            "log_every": self.log_every,
            "checkpoint_every": self.checkpoint_every,
        }
        for k, v in positive.items():
            if v < 1:
                raise ConfigError(f"{k} must be >= 1, got {v}")
        if self.steps < 0:
            raise ConfigError(f"steps must be >= 0, got {self.steps}")
        if self.eval_every < 0:
            raise ConfigError(f"eval_every must be >= 0, got {self.eval_every}")
        for k, v in (("lr", self.lr), ("critic_lr", self.critic_lr), ("clip_grad", self.clip_grad)):
            if v is not None and not v > 0:
                raise ConfigError(f"{k} must be > 0, got {v}")
        if not all(0.0 <= b < 1.0 for b in self.betas) or len(self.betas) != 2:
            raise ConfigError(f"betas must be two numbers in [0, 1), got {self.betas}")


@dataclass
class FitResult:
    """What a fit leaves behind; ``history`` holds the logged rows (no ``time/`` keys)."""

    name: str
    steps: int
    completed: bool
    stopped: str | None = None  # "max_minutes" when the time budget ran out
    history: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: int | None = None


class Interrupted(UnpairedError):
    """SIGINT/SIGTERM during training: a checkpoint was written, the run can resume."""

    def __init__(self, name: str, step: int, signum: int) -> None:
        self.name, self.step, self.signum = name, step, signum
        self.exit_code = 128 + signum
        super().__init__(
            f"interrupted ({signal.Signals(signum).name}) at step {step} of '{name}'; "
            "checkpoint saved, continue with --resume"
        )


class _Stop:
    """Why training must stop after the current step (signal or time budget)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handler(self, signum: int, frame: Any) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: stop right now
        self.signum = signum


@contextmanager
def _catch_signals(stop: _Stop) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, stop.handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def _train_mode(task: nn.Module, training: bool) -> Iterator[None]:
    modes = [(m, m.training) for m in task.modules()]
    task.train(training)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def fit(
    task: Task,
    data: BatchSource,
    config: TrainConfig,
    *,
    name: str = "model",
    out: str | os.PathLike[str] | None = None,
    seed: int = 0,
    resume: bool = False,
    fabric: Fabric | None = None,
    logger: RunLogger | None = None,
    deadline: float | None = None,
    progress: bool | None = None,
) -> FitResult:
    """Train ``task`` on batches from ``data``.

    Args:
        task: the model (:class:`Task`); moved to the Fabric device in place.
        data: a :class:`~unpaired.engine.data.BatchSource` sampled once per update.
        config: optimization settings.
        name: the model's name in logs and under ``out/checkpoints/<name>/``.
        out: run directory for ``log.jsonl``, TensorBoard and checkpoints (``None``:
            keep nothing on disk).
        seed: the run's seed; every step's randomness derives from it.
        resume: continue from ``out/checkpoints/<name>/last.pt`` if it exists (a
            finished checkpoint is loaded and returned without training).
        fabric: a launched Fabric; a single-device one is made when ``None``.
        logger: where scalars go; made from ``out`` when ``None``.
        deadline: ``time.monotonic()`` value at which to checkpoint and stop
            (``FitResult.stopped == "max_minutes"``).
        progress: show a progress bar (default: when stderr is a terminal, rank 0).

    Raises:
        NonFiniteError: a loss or gradient became NaN/inf (exit code 3 in the CLI).
        Interrupted: SIGINT/SIGTERM arrived; a checkpoint was written first.
    """
    if fabric is None:
        fabric = make_fabric(1)
        fabric.launch()
    # Training reseeds torch's global RNG every step; restore it afterwards so that code
    # after a fit (the next model's initialization) sees the same RNG state whether the
    # fit trained or was loaded finished from a checkpoint.
    devices = [fabric.device.index or 0] if fabric.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        fabric.strategy.precision.convert_module(task)
        task.to(fabric.device)
        players = (ShardedPlayers if is_sharded(fabric) else Players)(fabric, task, config, name)
        run = _Run(players, out, seed=seed, resume=resume, logger=logger, deadline=deadline)
        try:
            return _fit(run, data, progress=progress)
        finally:
            run.close()


def _fit(run: _Run, data: BatchSource, *, progress: bool | None) -> FitResult:
    """The loop: restore, then per step seed, critic phase, generator phase, log, checkpoint."""
    players, config = run.players, run.config
    if run.restore():  # a finished checkpoint: nothing to train
        return run.result(seconds=0.0)
    stop = _Stop()
    show = (progress if progress is not None else os.isatty(2)) and run.is_main
    bar = TrainingProgress(run.name, config.steps, run.start, enabled=show)
    with _catch_signals(stop), bar:
        for step in range(run.start + 1, config.steps + 1):
            g = players.begin_step(run.seed, step)
            players.critic_phase(data, g, step)
            players.generator_phase(data, g, step)
            logged = run.log_and_evaluate(step, bar)
            if run.checkpoint_or_stop(step, logged=logged, stop=stop):
                break
    players.finish()
    return run.result()


class _Run:
    """One fit's bookkeeping: resume state, history and logging, checkpoints, stopping."""

    def __init__(
        self,
        players: Players,
        out: str | os.PathLike[str] | None,
        *,
        seed: int,
        resume: bool,
        logger: RunLogger | None,
        deadline: float | None,
    ) -> None:
        self.players, self.config, self.name = players, players.config, players.name
        self.seed, self.resume, self.deadline = seed, resume, deadline
        self.is_main = players.rank == 0
        out_path = Path(out) if out is not None else None
        self.out_path = out_path
        self.ckpt_path = out_path / "checkpoints" / self.name / "last.pt" if out_path else None
        self.own_logger = logger is None
        self.logger = RunLogger(out_path, enabled=self.is_main) if logger is None else logger
        self.start = self.step = self.step_last = 0
        self.resumed_from: int | None = None
        self.history: list[dict[str, Any]] = []
        self.stopped: str | None = None
        self.t0 = self.t_last = time.perf_counter()

    def restore(self) -> bool:
        """Load the checkpoint (if any) and line everything up after it; True if finished."""
        path = self.ckpt_path
        if path is not None and path.exists():
            if not self.resume:
                raise ConfigError(
                    f"{path} already exists; pass --resume to continue it or use another --out"
                )
            state = ckpt.load(path)
            self.players.load(state)
            self.start = self.step = self.step_last = self.resumed_from = state["step"]
            self.history = state["history"]
            if state["finished"] or self.start >= self.config.steps:
                if self.is_main and not model_path(self.out_path, self.name).exists():
                    self._write_models(state)  # a run from before model records
                return True
        if self.is_main:
            self.logger.truncate(self.name, self.start)
        self.players.start()
        self.t0 = self.t_last = time.perf_counter()
        return False

    def log_and_evaluate(self, step: int, bar: TrainingProgress) -> bool:
        """Log every ``log_every`` steps, evaluate every ``eval_every``; True if a row was logged."""
        self.step, config, final = step, self.config, step == self.config.steps
        row: dict[str, float] | None = None
        if step % config.log_every == 0 or final:
            row = {k: float(v.float().item()) for k, v in self.players.last.items()}
        if (config.eval_every and step % config.eval_every == 0) or final:
            task = self.players.task
            with torch.no_grad(), _train_mode(task, False):
                metrics = task.evaluate()
            row = (row or {}) | {f"eval/{k}": float(v) for k, v in metrics.items()}
        if row is None:
            bar.update(step)
            return False
        now = time.perf_counter()
        rate = (step - self.step_last) / max(now - self.t_last, 1e-9)
        self.t_last, self.step_last = now, step
        self.history.append({"step": step, **row})
        if self.is_main:
            times = {f"{TIME_PREFIX}elapsed": now - self.t0, f"{TIME_PREFIX}steps_per_s": rate}
            self.logger.log(self.name, step, row | times)
        bar.update(step, {k: v for k, v in row.items() if not k.startswith("eval/")}, rate)
        return True

    def checkpoint_or_stop(self, step: int, *, logged: bool, stop: _Stop) -> bool:
        """Checkpoint when due; True if the time budget ran out (raise on a signal)."""
        final = step == self.config.steps
        saved = step % self.config.checkpoint_every == 0 or final
        if saved:
            self.save(step, finished=final)
        for hook in STEP_HOOKS:
            hook(self.name, step)
        # Across ranks the decision needs a collective: take it only on logged steps.
        if final or not (self.players.world == 1 or logged):
            return False
        timed_out = self.deadline is not None and time.monotonic() > self.deadline
        reason = self.players.stop_everywhere(2 if stop.signum is not None else int(timed_out))
        if not reason:
            return False
        if not saved:
            self.save(step, finished=False)
        if reason == 2:
            raise Interrupted(self.name, step, stop.signum or signal.SIGTERM)
        self.stopped = "max_minutes"
        return True

    def save(self, step: int, *, finished: bool) -> None:
        if self.ckpt_path is None or not (self.is_main or self.players.collective_state):
            return
        state = self.players.state(step, self.history, finished, self.seed)
        if self.is_main:
            ckpt.save_atomic(state, self.ckpt_path)
            self._write_models(state)

    def _write_models(self, state: dict[str, Any]) -> None:
        """``models/<name>.pt`` from a checkpoint's state (rank 0; the task's full weights)."""
        assert self.out_path is not None
        task = getattr(self.players, "user_task", self.players.task)
        write_models(
            self.out_path,
            self.name,
            task,
            task.exports(),
            step=state["step"],
            finished=state["finished"],
            state=state["task"],
        )

    def result(self, seconds: float | None = None) -> FitResult:
        return FitResult(
            name=self.name,
            steps=self.step,
            completed=self.stopped is None,
            stopped=self.stopped,
            history=self.history,
            final=_final(self.history),
            seconds=time.perf_counter() - self.t0 if seconds is None else seconds,
            resumed_from=self.resumed_from,
        )

    def close(self) -> None:
        if self.own_logger:
            self.logger.close()
        else:
            self.logger.flush()


def _final(history: list[dict[str, Any]]) -> dict[str, float]:
    """Last logged value of every key (losses and eval metrics)."""
    final: dict[str, float] = {}
    for row in history:
        final.update({k: v for k, v in row.items() if k != "step"})
    return final
