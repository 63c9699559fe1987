"""Run by test_ddp.py: ``python _ddp_script.py OUT DEVICES PER_RANK_BATCH [options]``.

Fabric's launcher starts the other rank by re-running this script; each rank saves its
final parameters to OUT/rank<r>.pt, and rank 0 writes the run's checkpoints and log
under OUT/run. Options: ``--strategy fsdp``; ``--fault K`` (SIGTERM to rank 0 after step
K: the ranks agree to stop at the next logged step); ``--resume``; ``--nan`` (the last
rank's generator loss turns NaN at step 5, its gradients stay finite; each rank writes
the error it stopped with to OUT/rank<r>.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path

import torch
from torch import nn

from unpaired.engine import (
    Interrupted,
    Task,
    TensorSampler,
    TrainConfig,
    Unpaired,
    fit,
    make_fabric,
)
from unpaired.errors import NonFiniteError

sys.path.insert(0, str(Path(__file__).parent))
from _faults import fault_at


class Critic2P(Task):
    """Two players, no dropout/batchnorm: DDP must match one process on the global batch."""

    def __init__(self, nan_on_rank: int | None = None) -> None:
        super().__init__()
        self.gen = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 4))
        self.critic = nn.Sequential(nn.Linear(4, 32), nn.LeakyReLU(), nn.Linear(32, 1))
        self.nan_on_rank, self.step = nan_on_rank, 0

    def on_step_start(self, step: int) -> None:
        self.step = step

    def critic_parameters(self):
        return list(self.critic.parameters())

    def generator_losses(self, batch):
        losses = {"adv": nn.functional.softplus(-self.critic(self.gen(batch["x"]))).mean()}
        nan = self.nan_on_rank is not None and self.step >= 5
        if nan and torch.distributed.get_rank() == self.nan_on_rank:
            losses["logged"] = torch.tensor(float("nan"))  # a NaN with no gradient
        return losses

    def critic_losses(self, batch):
        with torch.no_grad():
            fake = self.gen(batch["x"])
        return {
            "bce": nn.functional.softplus(self.critic(fake)).mean()
            + nn.functional.softplus(-self.critic(batch["m"])).mean()
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("devices", type=int)
    ap.add_argument("batch", type=int)
    ap.add_argument("--strategy", default="ddp")
    ap.add_argument("--fault", type=int, default=None)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--nan", action="store_true")
    args = ap.parse_args()
    fabric = make_fabric(args.devices, accelerator="cpu", strategy=args.strategy)
    fabric.launch()
    # Different inits: the engine must broadcast rank 0's.
    torch.manual_seed(1000 + fabric.global_rank)
    task = Critic2P(nan_on_rank=args.devices - 1 if args.nan else None)
    g = torch.Generator().manual_seed(0)
    data = Unpaired(
        {
            "x": TensorSampler(torch.randn(512, 4, generator=g), batch_size=args.batch),
            "m": TensorSampler(torch.randn(512, 4, generator=g) + 1.0, batch_size=args.batch),
        }
    )
    out, rank = args.out, fabric.global_rank
    out.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(steps=40, n_critic=2, lr=5e-3, clip_grad=5.0, checkpoint_every=20)
    fault = fault_at(args.fault, signal.SIGTERM) if args.fault else contextlib.nullcontext()
    try:
        with fault:
            fit(
                task,
                data,
                config,
                out=out / "run",
                fabric=fabric,
                seed=3,
                resume=args.resume,
                progress=False,
            )
    except NonFiniteError as e:
        (out / f"rank{rank}.json").write_text(json.dumps({"step": e.step, "what": e.what}))
        return
    except Interrupted as e:
        (out / f"rank{rank}.json").write_text(json.dumps({"step": e.step}))
        return
    torch.save(task.state_dict(), out / f"rank{rank}.pt")


if __name__ == "__main__":
    main()
