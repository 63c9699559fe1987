"""The two players of a task and their updates: optimizers, gradient sync, NaN guard.

Internal to the engine (:func:`unpaired.engine.fit` drives it). One update is: sum the
player's named losses, backward, average the gradients over the ranks (one all-reduce
of one flat buffer), check that the loss and the gradients are finite, clip, step.

Tasks stay plain modules: no ``DistributedDataParallel`` wrapper (the players alternate
and call methods other than ``forward``, which DDP handles poorly). Rank 0's weights
are broadcast at the start, every update averages the gradients, so every rank applies
the same update and the parameters stay identical (:meth:`Players.assert_in_sync`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from lightning_fabric import Fabric
from torch import nn

from unpaired.engine.data import BatchSource
from unpaired.engine.rng import seed_step, step_generator
from unpaired.engine.task import Task
from unpaired.errors import ConfigError, NonFiniteError, UnpairedError

if TYPE_CHECKING:
    from unpaired.engine.loop import TrainConfig

PLAYERS = ("generator", "critic")


class Players:
    """A task's players on one Fabric; ``last`` holds the latest loss of every name.

    Lifecycle: construct, :meth:`load` a checkpoint (if resuming), :meth:`start`, then
    per step :meth:`begin_step`, :meth:`critic_phase`, :meth:`generator_phase`; at the
    end :meth:`finish`. :class:`unpaired.engine.fsdp.ShardedPlayers` overrides the
    parts that differ when the task is sharded.
    """

    #: Whether :meth:`state` is a collective (every rank must call it).
    collective_state = False

    def __init__(self, fabric: Fabric, task: Task, config: TrainConfig, name: str) -> None:
        self.fabric, self.task, self.config, self.name = fabric, task, config, name
        self.world = fabric.world_size
        self.rank = fabric.global_rank
        self.precision = fabric.strategy.precision
        self.params = {"generator": task.generator_parameters(), "critic": task.critic_parameters()}
        if not self.params["generator"] and not self.params["critic"]:
            raise ConfigError(f"task '{name}' has no trainable parameters")
        self.two_player = bool(self.params["critic"])
        self.optimizers = task.configure_optimizers(config)
        missing = {k for k, p in self.params.items() if p} - set(self.optimizers)
        if missing:
            raise ConfigError(f"configure_optimizers must return optimizers for {sorted(missing)}")
        # Only fp16 AMP needs a GradScaler; every other precision steps the raw optimizers.
        self.scaler = getattr(self.precision, "scaler", None)
        self.on_cpu = fabric.device.type == "cpu"
        plain = self.on_cpu and type(self.precision).__name__ == "Precision"
        self.prepare = (
            (lambda b: b)
            if plain
            else (lambda b: self.precision.convert_input(fabric.to_device(b)))
        )
        self.last: dict[str, torch.Tensor] = {}
        self._g: torch.Generator | None = None

    def start(self) -> None:
        """Before the first step: every rank starts from rank 0's weights and buffers."""
        if self.world > 1:
            for t in self.task.state_dict().values():
                if isinstance(t, torch.Tensor):
                    torch.distributed.broadcast(t, src=0)

    def finish(self) -> None:
        """After the last step (or a clean stop); the task holds the trained weights."""
        if self.world > 1:
            self.assert_in_sync()

    # -- one step -----------------------------------------------------------------------
    def begin_step(self, seed: int, step: int) -> torch.Generator:
        """Reseed every RNG for ``step`` (exact resume), then ``task.on_step_start(step)``."""
        seed_step(seed, step, self.rank, self.fabric.device)
        self._g = step_generator(seed, step, generator=self._g)
        self.task.on_step_start(step)
        return self._g

    def critic_phase(self, data: BatchSource, g: torch.Generator, step: int) -> None:
        """``n_critic`` critic updates, the generator frozen (two-player tasks only)."""
        if not self.two_player:
            return
        _requires_grad(self.params["generator"], False)
        for _ in range(self.config.n_critic):
            batch = self._sample(data, g)
            with self.precision.forward_context():
                losses = self.task.critic_losses(batch)
            self._record("critic", losses)
            self.last["critic/total"] = self.update("critic", losses, step)
        _requires_grad(self.params["generator"], True)

    def generator_phase(self, data: BatchSource, g: torch.Generator, step: int) -> None:
        """One generator update, the critic frozen."""
        _requires_grad(self.params["critic"], False)
        batch = self._sample(data, g)
        with self.precision.forward_context():
            losses = self.task.generator_losses(batch)
        self._record("gen", losses)
        if self.params["generator"]:
            self.last["gen/total"] = self.update("generator", losses, step)
        _requires_grad(self.params["critic"], True)

    def _sample(self, data: BatchSource, g: torch.Generator) -> Any:
        return self.prepare(data.sample(g, rank=self.rank, world_size=self.world))

    def _record(self, prefix: str, losses: dict[str, torch.Tensor]) -> None:
        self.last.update({f"{prefix}/{k}": v.detach() for k, v in losses.items()})

    # -- one update ---------------------------------------------------------------------
    def update(self, player: str, losses: dict[str, torch.Tensor], step: int) -> torch.Tensor:
        """Minimize the sum of ``losses`` by one step of ``player``'s optimizer."""
        if not losses:
            raise UnpairedError(f"task '{self.name}' returned no {player} losses")
        params, opt = self.params[player], self.optimizers[player]
        total = (
            torch.stack([v.float() for v in losses.values()]).sum()
            if len(losses) > 1
            else next(iter(losses.values()))
        )
        opt.zero_grad(set_to_none=True)
        (total if self.scaler is None else self.scaler.scale(total)).backward()
        loss = total.detach() if self.world == 1 else self._all_reduce_grads(params, total)
        if self.scaler is not None:
            self.scaler.unscale_(opt)
        grads = [p.grad for p in params if p.grad is not None]
        norm = None
        if self.config.clip_grad is not None and grads:
            norm = self._grad_norm(grads)
        if self.config.check_finite and not self._finite(loss, grads, norm):
            _raise_non_finite(player, losses, step, self._loss_all_ranks(loss))
        if norm is not None:
            torch.nn.utils.clip_grads_with_norm_(params, self.config.clip_grad, norm)
        if self.scaler is None:
            opt.step()
        else:  # skips the step itself when AMP overflowed
            self.scaler.step(opt)
            self.scaler.update()
        return total.detach()

    def _grad_norm(self, grads: list[torch.Tensor]) -> torch.Tensor:
        return torch.nn.utils.get_total_norm(grads)

    def _loss_all_ranks(self, loss: torch.Tensor) -> torch.Tensor:
        return loss

    def _finite(
        self, loss: torch.Tensor, grads: list[torch.Tensor], norm: torch.Tensor | None
    ) -> bool:
        """Are the loss and (unless AMP's scaler handles them) the gradients finite?

        One host sync: on CPU reading two scalars is cheaper than combining them first;
        on an accelerator both are summed on the device and read once.
        """
        check = None
        if self.scaler is None and grads:
            check = norm if norm is not None else grad_check_value(grads, cpu=self.on_cpu)
        if self.on_cpu:
            return math.isfinite(loss.item()) and (check is None or math.isfinite(check.item()))
        flag = loss.float() if check is None else loss.float() + check.float()
        return math.isfinite(flag.item())

    def _all_reduce_grads(
        self, params: Sequence[nn.Parameter], total: torch.Tensor
    ) -> torch.Tensor:
        """Average the gradients over the ranks in place; returns the ranks' mean loss.

        One collective on one flat buffer holding every gradient and this rank's loss, so
        all ranks see the same gradients and the same loss, and the NaN guard takes the
        same decision everywhere (a rank stopping alone would leave the others waiting).
        """
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        flat = torch.cat([*(g.reshape(-1) for g in grads), total.detach().reshape(1).to(grads[0])])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        for g, synced in zip(grads, flat[:-1].split([g.numel() for g in grads]), strict=True):
            g.copy_(synced.view_as(g))
        return flat[-1]

    # -- state --------------------------------------------------------------------------
    def state_dicts(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The task's and the optimizers' state dicts (the standard, unsharded formats)."""
        return self.task.state_dict(), {k: o.state_dict() for k, o in self.optimizers.items()}

    def state(
        self, step: int, history: list[dict[str, Any]], finished: bool, seed: int
    ) -> dict[str, Any]:
        """The checkpoint: weights, optimizer (and scaler) states, the logged history."""
        task, optimizers = self.state_dicts()
        return {
            "version": 1,
            "name": self.name,
            "step": step,
            "finished": finished,
            "seed": seed,
            "config": dataclasses.asdict(self.config),
            "task": task,
            "optimizers": optimizers,
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "history": history,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.task.load_state_dict(state["task"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])

    # -- across ranks -------------------------------------------------------------------
    def assert_in_sync(self) -> None:
        """Raise if any parameter differs between rank 0 and another rank."""
        flat = torch.cat([p.detach().reshape(-1).double() for p in self.task.parameters()])
        ref = flat.clone()
        torch.distributed.broadcast(ref, src=0)
        diff = (flat - ref).abs().max() if flat.numel() else flat.new_zeros(())
        diff = self.fabric.all_reduce(diff, reduce_op="max")
        if diff.item() != 0.0:
            raise RuntimeError(
                f"parameters diverged across ranks (max difference {diff.item():.3g})"
            )

    def stop_everywhere(self, reason: int) -> int:
        """Agree across ranks on why to stop: 0 go on, 1 time budget, 2 signal (max wins)."""
        if self.world == 1:
            return reason
        flag = torch.tensor([float(reason)], device=self.fabric.device)
        return int(self.fabric.all_reduce(flag, reduce_op="max").item())


def grad_check_value(grads: Sequence[torch.Tensor], *, cpu: bool) -> torch.Tensor:
    """A scalar that is finite exactly when every entry of ``grads`` is (up to overflow).

    CPU: the sum of the per-tensor sums (a NaN or inf anywhere makes it non-finite);
    other devices: the L1 norm (one fused multi-tensor kernel). Either overflows only
    when the gradients add up to about 3e38, a divergence the guard may as well report.
    """
    if cpu:
        return torch.stack([g.sum() for g in grads]).sum()
    return torch.nn.utils.get_total_norm(grads, norm_type=1.0)


def _raise_non_finite(
    player: str, losses: dict[str, torch.Tensor], step: int, loss: torch.Tensor
) -> None:
    """Name what went wrong; ``loss`` is the loss over all ranks (this rank's if one)."""
    for k, v in losses.items():
        if not bool(torch.isfinite(v.detach()).all()):
            raise NonFiniteError(f"{player} loss '{k}'", step)
    if not math.isfinite(loss.item()):
        raise NonFiniteError(f"{player} loss (on another rank)", step)
    raise NonFiniteError(f"{player} gradient (of losses {', '.join(losses)})", step)


def _requires_grad(params: Sequence[nn.Parameter], flag: bool) -> None:
    for p in params:
        p.requires_grad_(flag)
