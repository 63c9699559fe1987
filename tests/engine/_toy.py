"""A small two-player task with dropout, used by the engine tests."""

from __future__ import annotations

import torch
from torch import nn

from unpaired.engine import Task, TensorSampler, Unpaired


class ToyGAN(Task):
    def __init__(self, dim: int = 3, dropout: float = 0.2) -> None:
        super().__init__()
        self.gen = nn.Sequential(
            nn.Linear(dim, 16), nn.Dropout(dropout), nn.Tanh(), nn.Linear(16, dim)
        )
        self.critic = nn.Sequential(
            nn.Linear(dim, 16), nn.Dropout(dropout), nn.LeakyReLU(), nn.Linear(16, 1)
        )
        self.eval_x = torch.linspace(-1, 1, 8 * dim).reshape(8, dim)

    def critic_parameters(self):
        return list(self.critic.parameters())

    def generator_losses(self, batch):
        fake = self.gen(batch["x"])
        return {
            "adv": nn.functional.softplus(-self.critic(fake)).mean(),
            "recon": 0.1 * (fake - batch["x"]).pow(2).mean(),
        }

    def critic_losses(self, batch):
        with torch.no_grad():
            fake = self.gen(batch["x"])
        return {
            "bce": nn.functional.softplus(self.critic(fake)).mean()
            + nn.functional.softplus(-self.critic(batch["m"])).mean()
        }

    def evaluate(self):
        return {"out_mean": float(self.gen(self.eval_x).mean())}


def toy_data(n: int = 256, dim: int = 3, batch: int = 16) -> Unpaired:
    g = torch.Generator().manual_seed(123)
    x = torch.randn(n, dim, generator=g)
    m = torch.randn(n, dim, generator=g) * 0.5 + 2.0
    return Unpaired(
        {"x": TensorSampler(x, batch_size=batch), "m": TensorSampler(m, batch_size=batch)}
    )


def strip_time(rows):
    return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in rows]
