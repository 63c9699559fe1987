"""The one training loop (on Lightning Fabric) used by every model of the library.

Each step: ``n_critic`` critic updates (two-player tasks only), then one generator
update, each on a freshly sampled batch and with its own optimizer. Around that:

* **Devices** via Fabric (``devices``, ``precision``; several devices use DDP over
  gloo/NCCL). Gradients are averaged across ranks with one flattened all-reduce per
  update, so tasks stay plain modules (no DDP wrapper, no "unused parameter" issues
  when the two players alternate), and the parameters stay identical on every rank
  (checked at the end of training).
* **Exact resume**: randomness is reseeded from ``(seed, step)`` every step
  (:mod:`unpaired.engine.rng`), so a checkpoint only needs the weights, optimizer
  states and logged history; a run killed at step k and resumed ends bitwise-identical
  to an uninterrupted one (on CPU).
* **Atomic checkpoints** every ``checkpoint_every`` steps, at the end, on SIGINT/SIGTERM
  and when the time budget runs out.
* **NaN guard**: a non-finite loss or gradient stops training *before* the optimizer
  step with :class:`~unpaired.errors.NonFiniteError` (naming the loss and step);
  the last good checkpoint on disk is left untouched.
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from lightning_fabric import Fabric
from torch import nn

from unpaired.engine import checkpoint as ckpt
from unpaired.engine.data import BatchSource
from unpaired.engine.logging import TIME_PREFIX, RunLogger
from unpaired.engine.progress import TrainingProgress
from unpaired.engine.rng import seed_step, step_generator
from unpaired.engine.task import Task
from unpaired.errors import ConfigError, NonFiniteError, UnpairedError

Precision = Literal["32-true", "64-true", "bf16-mixed", "16-mixed"]

_FUSED_CHECK = getattr(torch, "_amp_foreach_non_finite_check_and_unscale_", None)

#: Fault injection for tests and drills: "K" or "K:TERM" | "K:INT" | "K:KILL" sends that
#: signal to this process right after step K (of every fit, on rank 0).
FAULT_ENV = "UNPAIRED_FAULT_AT_STEP"


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


def check_device_options(devices: int, precision: str, accelerator: str = "auto") -> str:
    """Validate ``devices``/``precision``; returns the concrete accelerator name."""
    if devices < 1:
        raise ConfigError(f"devices must be >= 1, got {devices}")
    if precision not in ("32-true", "64-true", "bf16-mixed", "16-mixed"):
        raise ConfigError(
            f"precision must be one of 32-true, 64-true, bf16-mixed, 16-mixed; got {precision!r}"
        )
    if accelerator == "auto":
        accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    if precision == "16-mixed" and accelerator == "cpu":
        raise ConfigError("precision 16-mixed needs a GPU; use bf16-mixed on CPU")
    return accelerator


def make_fabric(
    devices: int = 1, *, precision: Precision = "32-true", accelerator: str = "auto"
) -> Fabric:
    """A Fabric for ``devices`` processes (DDP when more than one). Call ``.launch()``."""
    accelerator = check_device_options(devices, precision, accelerator)
    strategy = "ddp" if devices > 1 else "auto"
    return Fabric(accelerator=accelerator, devices=devices, strategy=strategy, precision=precision)


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


def _fault() -> tuple[int, int] | None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    step, _, sig = spec.partition(":")
    return int(step), getattr(signal, f"SIG{sig or 'TERM'}")


def _optimizers(
    task: Task, config: TrainConfig, params: dict[str, list[nn.Parameter]]
) -> dict[str, torch.optim.Optimizer]:
    custom = getattr(task, "configure_optimizers", None)
    if custom is not None:
        opts = custom(config)
        missing = {k for k, p in params.items() if p} - set(opts)
        if missing:
            raise ConfigError(f"configure_optimizers must return optimizers for {sorted(missing)}")
        return opts
    lrs = {"generator": config.lr, "critic": config.critic_lr or config.lr}
    return {
        k: torch.optim.Adam(p, lr=lrs[k], betas=config.betas, weight_decay=config.weight_decay)
        for k, p in params.items()
        if p
    }


class _Trainer:
    def __init__(self, fabric: Fabric, task: Task, config: TrainConfig, name: str) -> None:
        self.fabric = fabric
        self.task = task
        self.config = config
        self.name = name
        self.world = fabric.world_size
        self.rank = fabric.global_rank
        self.precision = fabric.strategy.precision
        self.params = {"generator": task.generator_parameters(), "critic": task.critic_parameters()}
        if not self.params["generator"] and not self.params["critic"]:
            raise ConfigError(f"task '{name}' has no trainable parameters")
        self.optimizers = _optimizers(task, config, self.params)
        # Only fp16 AMP needs a GradScaler; every other precision steps the raw optimizers.
        self.scaler = getattr(self.precision, "scaler", None)
        self._found = torch.zeros(1, device=fabric.device)
        self._one = torch.ones(1, device=fabric.device)
        plain = fabric.device.type == "cpu" and type(self.precision).__name__ == "Precision"
        self.prepare = (
            (lambda b: b)
            if plain
            else (lambda b: self.precision.convert_input(fabric.to_device(b)))
        )

    # -- one update -------------------------------------------------------------------
    def update(self, player: str, losses: dict[str, torch.Tensor], step: int) -> torch.Tensor:
        if not losses:
            raise UnpairedError(f"task '{self.name}' returned no {player} losses")
        params = self.params[player]
        opt = self.optimizers[player]
        total = (
            torch.stack([v.float() for v in losses.values()]).sum()
            if len(losses) > 1
            else next(iter(losses.values()))
        )
        opt.zero_grad(set_to_none=True)
        (total if self.scaler is None else self.scaler.scale(total)).backward()
        if self.world > 1:
            self._all_reduce_grads(params)
        if self.scaler is not None:
            self.scaler.unscale_(opt)
        grads = [p.grad for p in params if p.grad is not None]
        norm = None
        if self.config.clip_grad is not None and grads:
            norm = torch.nn.utils.get_total_norm(grads)
        if self.config.check_finite and not self._finite(total, grads, norm):
            self._raise_non_finite(player, losses, step)
        if norm is not None:
            torch.nn.utils.clip_grads_with_norm_(params, self.config.clip_grad, norm)
        if self.scaler is None:
            opt.step()
        else:  # skips the step itself when AMP overflowed
            self.scaler.step(opt)
            self.scaler.update()
        return total.detach()

    def _finite(
        self, total: torch.Tensor, grads: list[torch.Tensor], norm: torch.Tensor | None
    ) -> bool:
        """Is the loss finite and (unless AMP handles it) every gradient?

        On CPU, reading scalars with ``.item()`` is cheaper than combining them into one
        tensor first; on an accelerator everything is reduced on the device and read in
        one host sync.
        """
        check_grads = self.scaler is None and bool(grads)
        found = None
        if check_grads and norm is None and _FUSED_CHECK is not None:
            # The fused kernel GradScaler uses: sets _found if any gradient is non-finite
            # (multiplying by exactly 1.0 leaves the gradients unchanged).
            self._found.zero_()
            _FUSED_CHECK(grads, self._found, self._one)
            found = self._found
        elif check_grads:
            found = norm if norm is not None else torch.stack(torch._foreach_norm(grads)).sum()
            found = (~torch.isfinite(found)).float().reshape(1)
        if self.fabric.device.type == "cpu":
            return math.isfinite(total.item()) and (found is None or found.item() == 0.0)
        bad = (~torch.isfinite(total.detach().float())).float().reshape(1)
        return (bad if found is None else bad + found).item() == 0.0

    def _raise_non_finite(self, player: str, losses: dict[str, torch.Tensor], step: int) -> None:
        for k, v in losses.items():
            if not bool(torch.isfinite(v.detach()).all()):
                raise NonFiniteError(f"{player} loss '{k}'", step)
        raise NonFiniteError(f"{player} gradient (of losses {', '.join(losses)})", step)

    def _all_reduce_grads(self, params: Sequence[nn.Parameter]) -> None:
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        flat = torch._utils._flatten_dense_tensors(grads)
        torch.distributed.all_reduce(flat)
        flat /= self.world
        for g, synced in zip(
            grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True
        ):
            g.copy_(synced)

    # -- state ------------------------------------------------------------------------
    def state(
        self, step: int, history: list[dict[str, Any]], finished: bool, seed: int
    ) -> dict[str, Any]:
        return {
            "version": 1,
            "name": self.name,
            "step": step,
            "finished": finished,
            "seed": seed,
            "config": dataclasses.asdict(self.config),
            "task": self.task.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "history": history,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.task.load_state_dict(state["task"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])

    def broadcast_parameters(self) -> None:
        """Start every rank from rank 0's weights and buffers."""
        tensors = [t for t in self.task.state_dict().values() if isinstance(t, torch.Tensor)]
        for t in tensors:
            torch.distributed.broadcast(t, src=0)

    def assert_in_sync(self) -> None:
        flat = torch.cat([p.detach().reshape(-1).double() for p in self.task.parameters()])
        ref = flat.clone()
        torch.distributed.broadcast(ref, src=0)
        diff = (flat - ref).abs().max() if flat.numel() else flat.new_zeros(())
        torch.distributed.all_reduce(diff, op=torch.distributed.ReduceOp.MAX)
        if diff.item() != 0.0:
            raise RuntimeError(
                f"parameters diverged across ranks (max difference {diff.item():.3g})"
            )

    def stop_everywhere(self, reason: int) -> int:
        """Agree across ranks on why to stop: 0 go on, 1 time budget, 2 signal (max wins)."""
        if self.world == 1:
            return reason
        flag = torch.tensor([float(reason)], device=self.fabric.device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return int(flag.item())


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
        return _fit(
            task,
            data,
            config,
            name=name,
            out=out,
            seed=seed,
            resume=resume,
            fabric=fabric,
            logger=logger,
            deadline=deadline,
            progress=progress,
        )


def _fit(
    task: Task,
    data: BatchSource,
    config: TrainConfig,
    *,
    name: str,
    out: str | os.PathLike[str] | None,
    seed: int,
    resume: bool,
    fabric: Fabric,
    logger: RunLogger | None,
    deadline: float | None,
    progress: bool | None,
) -> FitResult:
    out_path = Path(out) if out is not None else None
    is_main = fabric.global_rank == 0
    own_logger = logger is None
    if logger is None:
        logger = RunLogger(out_path, enabled=is_main)
    ckpt_path = out_path / "checkpoints" / name / "last.pt" if out_path is not None else None

    fabric.strategy.precision.convert_module(task)
    task.to(fabric.device)
    trainer = _Trainer(fabric, task, config, name)

    start, history, resumed_from = 0, [], None
    if ckpt_path is not None and ckpt_path.exists():
        if not resume:
            raise ConfigError(
                f"{ckpt_path} already exists; pass --resume to continue it or use another --out"
            )
        state = ckpt.load(ckpt_path)
        trainer.load(state)
        start, history, resumed_from = state["step"], state["history"], state["step"]
        if state["finished"] or start >= config.steps:
            final = _final(history)
            return FitResult(name, start, True, None, history, final, 0.0, resumed_from)
    if is_main:
        logger.truncate(name, start)
    if trainer.world > 1:
        trainer.broadcast_parameters()

    two_player = bool(trainer.params["critic"])
    fault = _fault() if is_main else None
    stop = _Stop()
    show = (progress if progress is not None else os.isatty(2)) and is_main
    t0 = time.perf_counter()
    t_last, step_last = t0, start
    last: dict[str, torch.Tensor] = {}
    stopped: str | None = None
    step = start
    precision = fabric.strategy.precision
    g: torch.Generator | None = None

    def save(at: int, finished: bool) -> None:
        if ckpt_path is not None and is_main:
            ckpt.save_atomic(trainer.state(at, history, finished, seed), ckpt_path)

    with _catch_signals(stop), TrainingProgress(name, config.steps, start, enabled=show) as bar:
        for step in range(start + 1, config.steps + 1):
            seed_step(seed, step, trainer.rank, fabric.device)
            g = step_generator(seed, step, generator=g)
            if two_player:
                _requires_grad(trainer.params["generator"], False)
                for _ in range(config.n_critic):
                    batch = trainer.prepare(
                        data.sample(g, rank=trainer.rank, world_size=trainer.world)
                    )
                    with precision.forward_context():
                        closs = task.critic_losses(batch)
                    last.update({f"critic/{k}": v.detach() for k, v in closs.items()})
                    last["critic/total"] = trainer.update("critic", closs, step)
                _requires_grad(trainer.params["generator"], True)
                _requires_grad(trainer.params["critic"], False)
            batch = trainer.prepare(data.sample(g, rank=trainer.rank, world_size=trainer.world))
            with precision.forward_context():
                gloss = task.generator_losses(batch)
            last.update({f"gen/{k}": v.detach() for k, v in gloss.items()})
            if trainer.params["generator"]:
                last["gen/total"] = trainer.update("generator", gloss, step)
            if two_player:
                _requires_grad(trainer.params["critic"], True)

            final_step = step == config.steps
            row: dict[str, float] | None = None
            if step % config.log_every == 0 or final_step:
                row = {k: float(v.float().item()) for k, v in last.items()}
            if (config.eval_every and step % config.eval_every == 0) or final_step:
                with torch.no_grad(), _train_mode(task, False):
                    metrics = task.evaluate()
                row = (row or {}) | {f"eval/{k}": float(v) for k, v in metrics.items()}
            if row is not None:
                now = time.perf_counter()
                rate = (step - step_last) / max(now - t_last, 1e-9)
                t_last, step_last = now, step
                history.append({"step": step, **row})
                if is_main:
                    logger.log(
                        name,
                        step,
                        row
                        | {f"{TIME_PREFIX}elapsed": now - t0, f"{TIME_PREFIX}steps_per_s": rate},
                    )
                bar.update(step, {k: v for k, v in row.items() if not k.startswith("eval/")}, rate)
            elif show:
                bar.update(step)

            saved = False
            if step % config.checkpoint_every == 0 or final_step:
                save(step, final_step)
                saved = True
            if fault is not None and step == fault[0]:
                os.kill(os.getpid(), fault[1])
            check_now = trainer.world == 1 or row is not None
            if check_now and not final_step:
                timed_out = deadline is not None and time.monotonic() > deadline
                reason = trainer.stop_everywhere(2 if stop.signum is not None else int(timed_out))
                if reason:
                    if not saved:
                        save(step, False)
                    if reason == 2:
                        if own_logger:
                            logger.close()
                        raise Interrupted(name, step, stop.signum or signal.SIGTERM)
                    stopped = "max_minutes"
                    break

    if trainer.world > 1:
        trainer.assert_in_sync()
    if own_logger:
        logger.close()
    else:
        logger.flush()
    return FitResult(
        name=name,
        steps=step,
        completed=stopped is None,
        stopped=stopped,
        history=history,
        final=_final(history),
        seconds=time.perf_counter() - t0,
        resumed_from=resumed_from,
    )


def _requires_grad(params: Sequence[nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)


def _final(history: list[dict[str, Any]]) -> dict[str, float]:
    """Last logged value of every key (losses and eval metrics)."""
    final: dict[str, float] = {}
    for row in history:
        final.update({k: v for k, v in row.items() if k != "step"})
    return final
