"""``align-toy``: learn an affine map T that aligns a 2D point cloud A to B.

The thesis' starting slide ("find T that minimizes distinguishability", i.e.
``min_T d(T(A), B) + R(T)``) on the smallest problem that still has a right answer:
B is a rotated, scaled and shifted copy of A's *distribution* (an independent sample,
so no point of A has a partner in B). A is an asymmetric mixture of three anisotropic
Gaussians with unequal weights, so the true affine map is the only one that matches
the distributions. ``d`` is the adversarial logistic distance with a small MLP critic
(AIGN Eq. 1 without a renderer).

Metrics: the error of T against the true map T* (RMS of T(a) - T*(a) over held-out
source points, relative to the spread of B) and the distance curve (the critic's
Jensen-Shannon estimate ``log 4 - critic loss`` on held-out points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn

from unpaired.distances import AdversarialDistance
from unpaired.engine import Task, TensorSampler, TrainConfig, Unpaired
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table

_MEANS = ((0.0, 0.0), (2.5, 0.4), (0.6, 2.0))
_WEIGHTS = (0.5, 0.3, 0.2)
_SCALES = ((0.45, 0.15), (0.2, 0.35), (0.3, 0.1))


@dataclass(frozen=True)
class Config:
    n_points: int = 4000  # per set (A and B each), plus as many held out for evaluation
    angle_deg: float = 40.0  # true rotation
    scale: float = 1.3  # true isotropic scale
    shift: tuple[float, float] = (1.5, -1.0)  # true translation
    batch_size: int = 256
    critic_hidden: int = 64
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=3000,
            lr=5e-3,
            critic_lr=2e-3,
            betas=(0.5, 0.9),
            log_every=25,
            eval_every=50,
            checkpoint_every=500,
        )
    )

    QUICK: ClassVar[dict] = {"train.steps": 1500, "n_points": 2000}


def sample_source(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) points from the asymmetric three-cluster mixture A."""
    comp = torch.multinomial(torch.tensor(_WEIGHTS), n, replacement=True, generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    means = torch.tensor(_MEANS)[comp]
    scales = torch.tensor(_SCALES)[comp]
    return means + noise * scales


def true_map(cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """T*(x) = W x + b: rotation by ``angle_deg``, scale, then shift."""
    t = math.radians(cfg.angle_deg)
    rot = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return cfg.scale * rot, torch.tensor(cfg.shift)


class Affine(nn.Module):
    """T(x) = W x + b, initialised to the identity."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.eye(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T + self.bias


def mlp_critic(dim: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(dim, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )


class AlignTask(Task):
    """min_T d(T(A), B) with an adversarial distance ``d``."""

    def __init__(
        self,
        distance: AdversarialDistance,
        eval_a: torch.Tensor,
        eval_b: torch.Tensor,
        target_a: torch.Tensor,
    ) -> None:
        super().__init__()
        self.transform = Affine(eval_a.shape[1])
        self.distance = distance
        self.register_buffer("eval_a", eval_a)
        self.register_buffer("eval_b", eval_b)
        self.register_buffer("target_a", target_a)  # T*(eval_a)
        self.spread = float((eval_b - eval_b.mean(0)).pow(2).sum(1).mean().sqrt())

    def critic_parameters(self) -> list[nn.Parameter]:
        return list(self.distance.parameters())

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"adversarial": self.distance(self.transform(batch["a"]), batch["b"])}

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            moved = self.transform(batch["a"])
        return {"critic": self.distance.critic_loss(moved, batch["b"])}

    @torch.no_grad()
    def error(self, moved: torch.Tensor | None = None) -> float:
        """RMS(T(a) - T*(a)) / spread(B) on held-out points (``moved`` defaults to T(a))."""
        moved = self.transform(self.eval_a) if moved is None else moved
        return float((moved - self.target_a).pow(2).sum(1).mean().sqrt() / self.spread)

    def evaluate(self) -> dict[str, float]:
        moved = self.transform(self.eval_a)
        js = math.log(4.0) - float(self.distance.critic_loss(moved, self.eval_b))
        return {"error": self.error(), "js_estimate": js}


def _scatter(path, a, b, moved, title: str) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(*a[:800].T, s=3, alpha=0.4, label="A (source)")
    ax.scatter(*b[:800].T, s=3, alpha=0.4, label="B (target)")
    ax.scatter(*moved[:800].T, s=3, alpha=0.4, label="T(A)")
    ax.legend(markerscale=4, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(cfg: Config, ctx: RunContext) -> Report:
    g = ctx.generator("align-toy/data")
    w, b = true_map(cfg)
    a_train = sample_source(cfg.n_points, g)
    b_train = sample_source(cfg.n_points, g) @ w.T + b  # an independent sample: unpaired
    a_eval = sample_source(cfg.n_points, g)
    b_eval = sample_source(cfg.n_points, g) @ w.T + b

    distance = AdversarialDistance(mlp_critic(2, cfg.critic_hidden), loss="logistic")
    task = AlignTask(distance, a_eval, b_eval, a_eval @ w.T + b)
    identity_error = task.error(task.eval_a)
    data = Unpaired(
        {
            "a": TensorSampler(a_train, batch_size=cfg.batch_size),
            "b": TensorSampler(b_train, batch_size=cfg.batch_size),
        }
    )
    result = ctx.fit("minmax-logistic", task, data, cfg.train)

    errors = [r["eval/error"] for r in result.history if "eval/error" in r]
    tail = errors[-max(1, len(errors) // 5) :]
    oscillation = float(torch.tensor(tail).std()) if len(tail) > 1 else 0.0
    final = result.final
    figures = []
    if ctx.is_main:
        with torch.no_grad():
            moved = task.transform(task.eval_a).cpu()
        _scatter(
            ctx.path("figures/alignment.png"),
            a_eval,
            b_eval,
            moved,
            f"adversarial (logistic) alignment, error {final['eval/error']:.3f}",
        )
        figures.append(Figure("figures/alignment.png", "A, B and T(A) after training"))
    table = Table(
        "Affine alignment of 2D clouds (held-out points)",
        [
            "model",
            "steps",
            "final error",
            "min error",
            "oscillation (std, last 20%)",
            "final JS estimate",
        ],
        [
            ["identity (no alignment)", 0, identity_error, identity_error, 0.0, None],
            [
                "min-max logistic",
                result.steps,
                final["eval/error"],
                min(errors),
                oscillation,
                final["eval/js_estimate"],
            ],
        ],
        note="error = RMS(T(a) - T*(a)) / spread(B); 0 means the true map is recovered.",
    )
    return Report(
        title="align-toy: adversarial affine alignment",
        summary=(
            f"T* = rotate {cfg.angle_deg} deg, scale {cfg.scale}, shift {tuple(cfg.shift)}; "
            f"{cfg.n_points} unpaired points per set."
        ),
        tables=[table],
        figures=figures,
        metrics={
            "identity": {"final_error": identity_error},
            "minmax-logistic": {
                "final_error": final["eval/error"],
                "min_error": min(errors),
                "oscillation": oscillation,
                "js_estimate": final["eval/js_estimate"],
            },
        },
    )
