"""Devices, precision and the distributed strategy: the Fabric every fit runs on.

One process per device; ``devices`` is the number of processes *per node* and
``num_nodes`` the number of machines, so the world size is ``devices * num_nodes``.
Fabric starts the processes itself on one machine, or joins the ones a launcher
started (``torchrun``, SLURM's ``srun``): see docs/ENGINE.md, "Several machines".
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from lightning_fabric import Fabric
from lightning_fabric.utilities.exceptions import MisconfigurationException

from unpaired.engine.fsdp import fsdp_strategy
from unpaired.errors import ConfigError

Precision = Literal["32-true", "64-true", "bf16-mixed", "16-mixed"]
Strategy = Literal["ddp", "fsdp"]

PRECISIONS: tuple[str, ...] = get_args(Precision)
STRATEGIES: tuple[str, ...] = get_args(Strategy)


def check_device_options(
    devices: int,
    precision: str,
    accelerator: str = "auto",
    *,
    num_nodes: int = 1,
    strategy: str = "ddp",
) -> str:
    """Validate the device options up front; returns the concrete accelerator name.

    Raises:
        ConfigError: one line naming the bad value.
    """
    if devices < 1:
        raise ConfigError(f"devices must be >= 1, got {devices}")
    if num_nodes < 1:
        raise ConfigError(f"num_nodes must be >= 1, got {num_nodes}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    if accelerator == "auto":
        accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    if precision == "16-mixed" and accelerator == "cpu":
        raise ConfigError("precision 16-mixed needs a GPU; use bf16-mixed on CPU")
    if precision == "16-mixed" and strategy == "fsdp":
        raise ConfigError("strategy fsdp takes 32-true, 64-true or bf16-mixed, not 16-mixed")
    return accelerator


def make_fabric(
    devices: int = 1,
    *,
    precision: Precision = "32-true",
    accelerator: str = "auto",
    num_nodes: int = 1,
    strategy: Strategy = "ddp",
) -> Fabric:
    """A Fabric for ``devices`` processes on each of ``num_nodes`` machines. Call ``.launch()``.

    ``strategy="ddp"``: every rank holds the whole task (:mod:`unpaired.engine.players`);
    ``"fsdp"``: the parameters, gradients and optimizer states are sharded over the
    ranks (:mod:`unpaired.engine.fsdp`, Fabric's ``ModelParallelStrategy`` with FSDP2,
    CPU or GPU). A single process uses Fabric's single-device strategy either way.
    """
    accelerator = check_device_options(
        devices, precision, accelerator, num_nodes=num_nodes, strategy=strategy
    )
    world = devices * num_nodes
    try:
        return Fabric(
            accelerator=accelerator,
            devices=devices,
            num_nodes=num_nodes,
            strategy="auto"
            if world == 1
            else fsdp_strategy(world)
            if strategy == "fsdp"
            else "ddp",
            precision=precision,
        )
    except (ValueError, MisconfigurationException) as e:  # e.g. more devices than there are
        raise ConfigError(f"cannot use these devices: {e}") from None


def launch(fabric: Fabric) -> Fabric:
    """``fabric.launch()``: start (or join) the processes and set up their process group.

    Raises:
        ConfigError: the options do not match the launcher, e.g. ``devices x num_nodes``
            differs from ``torchrun``'s world size or ``--devices`` from SLURM's
            ``--ntasks-per-node`` (one line, Lightning's own explanation).
    """
    try:
        fabric.launch()
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return fabric
