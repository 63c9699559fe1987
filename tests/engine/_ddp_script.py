"""Run by test_ddp.py: ``python _ddp_script.py OUT DEVICES PER_RANK_BATCH``.

Fabric's launcher starts the other rank by re-running this script; each rank saves its
final parameters to OUT/rank<r>.pt.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from unpaired.engine import Task, TensorSampler, TrainConfig, Unpaired, fit, make_fabric


class Critic2P(Task):
    """Two players, no dropout/batchnorm: DDP must match one process on the global batch."""

    def __init__(self) -> None:
        super().__init__()
        self.gen = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 4))
        self.critic = nn.Sequential(nn.Linear(4, 32), nn.LeakyReLU(), nn.Linear(32, 1))

    def critic_parameters(self):
        return list(self.critic.parameters())

    def generator_losses(self, batch):
        return {"adv": nn.functional.softplus(-self.critic(self.gen(batch["x"]))).mean()}

    def critic_losses(self, batch):
        with torch.no_grad():
            fake = self.gen(batch["x"])
        return {
            "bce": nn.functional.softplus(self.critic(fake)).mean()
            + nn.functional.softplus(-self.critic(batch["m"])).mean()
        }


def main() -> None:
    out, devices, batch = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    fabric = make_fabric(devices, accelerator="cpu")
    fabric.launch()
    torch.manual_seed(
        1000 + fabric.global_rank
    )  # different inits: the engine must broadcast rank 0's
    task = Critic2P()
    g = torch.Generator().manual_seed(0)
    data = Unpaired(
        {
            "x": TensorSampler(torch.randn(512, 4, generator=g), batch_size=batch),
            "m": TensorSampler(torch.randn(512, 4, generator=g) + 1.0, batch_size=batch),
        }
    )
    fit(
        task,
        data,
        TrainConfig(steps=40, n_critic=2, lr=5e-3),
        fabric=fabric,
        seed=3,
        progress=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    torch.save(task.state_dict(), out / f"rank{fabric.global_rank}.pt")


if __name__ == "__main__":
    main()
