"""``strategy="fsdp"``: train a sharded replica of the task (PyTorch FSDP2 through Fabric).

Fabric's :class:`~lightning_fabric.strategies.ModelParallelStrategy` runs
:func:`shard_task` on the task: :func:`torch.distributed.fsdp.fully_shard` splits every
parameter, its gradient and its optimizer state across the ranks (each rank keeps
1/world of them), and ``generator_losses``, ``critic_losses`` and ``evaluate`` are
registered as forward methods, so the full weights are gathered for each call and
freed after it, and the gradients are reduce-scattered (averaged) during backward.
That is the whole difference from ``ddp``: same per-rank batch slices, same seeding,
same averaged update.

The caller's task stays a plain module: the engine trains a sharded *copy* and loads
the gathered weights back into the caller's task at the end, so recipe code after
``fit`` runs unchanged. Checkpoints hold the gathered weights and optimizer states in
the standard (unsharded) formats, the same keys as a ``ddp`` or single-process run, so
a checkpoint resumes under any strategy.
"""

from __future__ import annotations

import copy
import math
from itertools import chain
from typing import Any

import torch
from lightning_fabric import Fabric
from lightning_fabric.strategies import ModelParallelStrategy
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import fully_shard, register_fsdp_forward_method
from torch.distributed.tensor import DTensor

from unpaired.engine.players import Players, grad_check_value
from unpaired.engine.task import Task

#: The task methods that use the weights; each gathers them for the call.
FORWARD_METHODS = ("generator_losses", "critic_losses", "evaluate")


def shard_task(task: Task, mesh: DeviceMesh) -> Task:
    """Fabric's ``parallelize_fn``: shard every parameter of ``task`` over the ranks."""
    fully_shard(task, mesh=mesh["data_parallel"])
    for method in FORWARD_METHODS:
        register_fsdp_forward_method(task, method)
    return task


def fsdp_strategy(world_size: int) -> ModelParallelStrategy:
    """The Fabric strategy for ``strategy="fsdp"``: data parallel over all ranks, sharded."""
    return ModelParallelStrategy(
        parallelize_fn=shard_task, data_parallel_size=world_size, tensor_parallel_size=1
    )


def is_sharded(fabric: Fabric) -> bool:
    return isinstance(fabric.strategy, ModelParallelStrategy)


class ShardedPlayers(Players):
    """:class:`Players` on a sharded replica of the task (see the module docstring)."""

    collective_state = True

    def __init__(self, fabric: Fabric, task: Task, config: Any, name: str) -> None:
        super().__init__(fabric, task, config, name)
        self.user_task = task
        self._optimizer_states: dict[str, dict[str, Any]] | None = None
        self._loss = torch.zeros(())

    def load(self, state: dict[str, Any]) -> None:
        """Load the weights into the caller's task; optimizer states wait for :meth:`start`."""
        self.task.load_state_dict(state["task"])
        self._optimizer_states = state["optimizers"]

    def start(self) -> None:
        super().start()  # rank 0's weights everywhere, then shard a copy
        replica = copy.deepcopy(self.user_task)
        self.fabric.setup_module(replica)  # runs shard_task on it
        self.task = replica
        self.params = {
            "generator": replica.generator_parameters(),
            "critic": replica.critic_parameters(),
        }
        self.optimizers = replica.configure_optimizers(self.config)
        for k, saved in (self._optimizer_states or {}).items():
            opt = self.optimizers[k]
            by_name = _optimizer_state_by_name(saved, _names(replica, opt))
            set_optimizer_state_dict(
                replica, opt, by_name, options=StateDictOptions(full_state_dict=True)
            )

    def finish(self) -> None:
        """Gather the trained weights into the caller's task (on every rank)."""
        full = get_model_state_dict(self.task, options=StateDictOptions(full_state_dict=True))
        self.user_task.load_state_dict(full)
        self.task = self.user_task
        self.assert_in_sync()

    def _all_reduce_grads(self, params: Any, total: torch.Tensor) -> torch.Tensor:
        return total.detach()  # FSDP reduce-scattered the gradients during backward

    def _grad_norm(self, grads: list[torch.Tensor]) -> torch.Tensor:
        norm = torch.nn.utils.get_total_norm(grads)
        return norm.full_tensor() if isinstance(norm, DTensor) else norm

    def _finite(
        self, loss: torch.Tensor, grads: list[torch.Tensor], norm: torch.Tensor | None
    ) -> bool:
        """Every rank checks its shard and its loss; one all-reduce makes the decision common."""
        local = [g.to_local() if isinstance(g, DTensor) else g for g in grads]
        check = loss.new_zeros(())
        if norm is not None:
            check = norm
        elif local:
            check = grad_check_value(local, cpu=self.on_cpu)
        flags = torch.stack([loss.float().reshape(()), check.float().reshape(())])
        torch.distributed.all_reduce(flags)
        self._loss = flags[0]
        return math.isfinite(flags.sum().item())

    def _loss_all_ranks(self, loss: torch.Tensor) -> torch.Tensor:
        return self._loss

    def state_dicts(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Gathered on rank 0 (a collective); other ranks get empty dicts."""
        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        task = get_model_state_dict(self.task, options=options)
        optimizers = {
            k: _optimizer_state_by_index(get_optimizer_state_dict(self.task, o, options=options))
            for k, o in self.optimizers.items()
        }
        return task, optimizers


def _names(module: torch.nn.Module, opt: torch.optim.Optimizer) -> list[str]:
    """Parameter names in the order of ``opt``'s parameter groups."""
    name_of = {id(p): n for n, p in module.named_parameters()}
    return [name_of[id(p)] for g in opt.param_groups for p in g["params"]]


def _optimizer_state_by_index(by_name: dict[str, Any]) -> dict[str, Any]:
    """A full optimizer state keyed by parameter name -> the standard ``state_dict()`` format."""
    if not by_name:
        return {}
    names = list(chain.from_iterable(g["params"] for g in by_name["param_groups"]))
    index = {n: i for i, n in enumerate(names)}
    return {
        "state": {index[n]: v for n, v in by_name["state"].items()},
        "param_groups": [
            {**g, "params": [index[n] for n in g["params"]]} for g in by_name["param_groups"]
        ],
    }


def _optimizer_state_by_name(by_index: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The inverse of :func:`_optimizer_state_by_index` for parameters ``names``."""
    return {
        "state": {names[i]: v for i, v in by_index["state"].items()},
        "param_groups": [
            {**g, "params": [names[i] for i in g["params"]]} for g in by_index["param_groups"]
        ],
    }
