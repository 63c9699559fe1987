"""``align-toy``: dual vs min-max vs closed-form distances aligning 2D point clouds.

The thesis' alignment problem ``min_T d(T(A), B) + R(T)`` (slide "How to find a good
F?") on the smallest problems with a right answer, in two settings:

**Linear critic, shift T** (slides "Stable Alignment using Dual Adversarial Distance:
Experiments", panels *Linear dual* and *Linear min-max*). With a linear logistic
discriminator ``f(x) = w^T x + beta``, the L2-regularized adversarial loss is 0 exactly
when the *means* of T(A) and B coincide (``w = 0`` is optimal iff the per-set means are
equal), so a linear critic can only align means. The matching family is therefore the
translations ``T(x) = x + s``: B is A's distribution shifted by ``linear_shift``, and
the comparison is between two ways of solving the *same* inner problem:

* ``linear-dual``: the dual adversarial distance (linear kernel, L2 weight ``lam``):
  the inner max is solved exactly every step, ``min_T`` is a plain minimization;
* ``linear-minmax``: the same logistic critic with the same ``lam / 2 ||w||^2``, trained
  by alternating gradient steps (the engine's critic player);
* ``linear-mean``: the difference of means (the closed form both should reach).

With a linear kernel the dual's optimal ``w`` is proportional to the difference of the
(alpha-weighted) means, so the dual moves T the way the difference of means does. Near
the solution the min-max game is close to the bilinear ``min_s max_w w^T s`` of the
talk's "f(x, y) = xy" slide: gradient play rotates around the solution instead of
converging to it (how much depends on ``lam``: a strongly regularized, i.e. weak, critic
damps the rotation; see ``benchmarks/alignment.py``).

**Expressive critics, affine T** (the *Kernel dual* panel and the other distances). B
is a rotated (``angle_deg``), scaled and shifted copy of A's distribution; A is an
asymmetric mixture of three anisotropic Gaussians, so the true affine map is the only
affine map that matches the distributions. Methods: ``minmax-logistic`` (AIGN Eq. 1's
logistic critic, a 2-layer MLP, min-max), ``dual-rbf`` (the kernel dual: the dual
adversarial distance with an RBF kernel) and ``mmd`` with the *same* RBF kernel
(bandwidth ``rbf_bandwidth``), ``mmd-median`` (the median-heuristic bandwidth, about 2
here: too smooth to resolve the clusters quickly), ``sinkhorn``, ``energy``,
``sliced``, ``emd``, ``wgan-gp`` (same budget as every min-max method: one critic step
per step), and the second-moment distances ``coral`` and ``gaussian-lrmf`` (which
cannot identify a rotation: matching a mean and a covariance leaves an orthogonal
ambiguity).

Every set is an independent sample (no point of A has a partner in B). Each method is
trained on ``seeds`` independent data sets and initialisations (R replicas trained side
by side, :class:`~unpaired.alignment.KnownMapReplicas`). The error of T is
``RMS(T(a) - T*(a)) / spread(B)`` on held-out source points (0: the true map is recovered). Reported per method: steps
until the error first reaches ``threshold``, steps until it stays below it, the final
error, and the oscillation (std of the error over the last 20% of evaluations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.alignment import Affine, AlignTask, KnownMapReplicas, Shift
from unpaired.data.synthetic.clouds import three_clusters
from unpaired.distances import mlp_critic
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import summarize_convergence
from unpaired.recipes._align_report import toy_figures, toy_tables
from unpaired.recipes._names import alignment_distance, make_distance
from unpaired.recipes.base import RunContext
from unpaired.report import Report

#: Methods of the linear-critic / shift problem, with their table labels.
LINEAR = {
    "linear-dual": "linear dual (dual adversarial, linear kernel)",
    "linear-minmax": "linear min-max (linear logistic critic)",
    "linear-mean": "difference of means",
}
#: Methods of the affine problem (``recipes._names`` distances, see :func:`_method_task`).
AFFINE = {
    "minmax-logistic": "min-max logistic",
    "dual-rbf": "kernel dual (dual adversarial, RBF)",
    "mmd": "MMD (RBF)",
    "mmd-median": "MMD (RBF, median-heuristic bandwidth)",
    "sinkhorn": "Sinkhorn divergence",
    "energy": "energy distance",
    "sliced": "sliced Wasserstein",
    "emd": "EMD (exact OT)",
    "wgan-gp": "WGAN-GP critic (min-max)",
    "coral": "CORAL",
    "gaussian-lrmf": "Gaussian LRMF",
}
METHODS: tuple[str, ...] = (
    "minmax-logistic",
    *LINEAR,
    *[m for m in AFFINE if m != "minmax-logistic"],
)
#: The slides' three panels (plus MMD), drawn large.
SLIDE_PANELS = ("linear-dual", "linear-minmax", "dual-rbf", "mmd")


@dataclass(frozen=True)
class Config:
    n_points: int = 4000  # per set (A and B each), plus as many held out for evaluation
    angle_deg: float = 40.0  # true rotation (affine problem)
    scale: float = 1.3  # true isotropic scale (affine problem)
    shift: tuple[float, float] = (1.5, -1.0)  # true translation (affine problem)
    linear_shift: tuple[float, float] = (2.0, 1.5)  # true translation (shift problem)
    methods: tuple[str, ...] = METHODS  # which methods to train (minmax-logistic first)
    seeds: int = 3  # independent data sets + initialisations per method
    batch_size: int = 128
    critic_hidden: int = 64
    lam: float = 0.1  # L2 weight of the linear critic: the dual's lambda and min-max's
    rbf_bandwidth: float = 1.0  # RBF kernel of the kernel dual and MMD (same kernel for both)
    threshold: float = 0.1  # error level for "steps to reach / to stay below"
    eval_points: int = 256  # held-out points per set for the distance curve (seed 0)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000,
            lr=3e-3,
            critic_lr=2e-3,
            betas=(0.5, 0.9),
            log_every=25,
            eval_every=25,
            checkpoint_every=500,
        )
    )

    QUICK: ClassVar[dict] = {  # <= 60 s: fewer steps at a larger step size
        "train.steps": 800,
        "train.lr": 5e-3,
        "n_points": 2000,
        "seeds": 1,
        "methods": ("minmax-logistic", *LINEAR, "dual-rbf", "mmd"),
    }

    def __post_init__(self) -> None:  # a bad value fails at --set time, not mid-run
        _check(self)


def true_map(cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """T*(x) = W x + b of the affine problem: rotation by ``angle_deg``, scale, shift."""
    t = math.radians(cfg.angle_deg)
    rot = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return cfg.scale * rot, torch.tensor(cfg.shift)


@dataclass
class ToyData:
    """One seed's sets: training A, B (n, 2), held-out A (n, 2) and T*(held-out A)."""

    a: torch.Tensor
    b: torch.Tensor
    eval_a: torch.Tensor
    eval_b: torch.Tensor
    target: torch.Tensor


def make_data(cfg: Config, problem: str, generator: torch.Generator) -> ToyData:
    """Sets for the ``"linear"`` (shift) or ``"affine"`` problem."""
    if problem == "linear":
        w, b = torch.eye(2), torch.tensor(cfg.linear_shift)
    else:
        w, b = true_map(cfg)
    n = cfg.n_points
    a = three_clusters(n, generator)
    b_train = three_clusters(n, generator) @ w.T + b  # an independent sample: unpaired
    eval_a = three_clusters(n, generator)
    eval_b = three_clusters(n, generator) @ w.T + b
    return ToyData(a, b_train, eval_a, eval_b, eval_a @ w.T + b)


def _method_task(cfg: Config, method: str, data: ToyData) -> AlignTask:
    k = cfg.eval_points
    kw: dict[str, Any] = {"eval_a": data.eval_a[:k], "eval_b": data.eval_b[:k]}
    if method == "linear-dual":
        dual = make_distance("dual-linear", options={"lam": cfg.lam})
        return AlignTask(Shift(2), dual, **kw)
    if method == "linear-minmax":
        critic = make_distance("adversarial", critic=lambda: mlp_critic(2, layers=0))
        return AlignTask(Shift(2), critic, critic_l2=cfg.lam, **kw)
    if method == "linear-mean":
        return AlignTask(Shift(2), make_distance("mean"), **kw)
    rbf = {"bandwidth": cfg.rbf_bandwidth}  # the kernel dual and MMD share one RBF kernel
    if method == "minmax-logistic":
        dist = alignment_distance("adversarial", 2, critic_hidden=cfg.critic_hidden)
    elif method in ("dual-rbf", "mmd"):
        dist = make_distance(method, options=rbf)
    elif method == "mmd-median":
        dist = make_distance("mmd")
    else:
        dist = alignment_distance(method, 2, critic_hidden=cfg.critic_hidden)
    return AlignTask(Affine(2), dist, **kw)


def _identity_error(d: ToyData) -> float:
    spread = (d.eval_b - d.eval_b.mean(0)).pow(2).sum(1).mean().sqrt()
    return float((d.eval_a - d.target).pow(2).sum(1).mean().sqrt() / spread)


def _check(cfg: Config) -> None:
    unknown = [m for m in cfg.methods if m not in METHODS]
    if unknown:
        raise ConfigError(
            f"unknown align-toy method(s) {unknown}; choose from {', '.join(METHODS)}"
        )
    if len(set(cfg.methods)) != len(cfg.methods):
        raise ConfigError(f"methods must be distinct, got {cfg.methods}")
    if cfg.seeds < 1 or cfg.n_points < 8 or cfg.eval_points < 8:
        raise ConfigError("need seeds >= 1, n_points >= 8 and eval_points >= 8")


PROBLEMS = {
    "linear": "Shift problem, linear critics (the slides' linear dual vs linear min-max)",
    "affine": "Affine problem, expressive distances (kernel dual, MMD, min-max, ...)",
}


def _train(cfg: Config, ctx: RunContext, method: str, data: list[ToyData]) -> dict[str, Any]:
    """Train ``method`` on every seed's data side by side; its convergence summaries."""
    task = KnownMapReplicas(
        [_method_task(cfg, method, d) for d in data],
        [(d.eval_a, d.target, d.eval_b) for d in data],
    )
    sources = {
        f"r{i}": Unpaired(
            {
                "a": TensorSampler(d.a, batch_size=cfg.batch_size),
                "b": TensorSampler(d.b, batch_size=cfg.batch_size),
            }
        )
        for i, d in enumerate(data)
    }
    fit = ctx.fit(method, task, Unpaired(sources), cfg.train)
    rows = [r for r in fit.history if "eval/error" in r]
    steps = [r["step"] for r in rows]
    keys = [f"eval/error_s{i}" if cfg.seeds > 1 else "eval/error" for i in range(cfg.seeds)]
    curves = [[r[k] for r in rows] for k in keys]
    return {
        "label": LINEAR.get(method) or AFFINE[method],
        "problem": "linear" if method in LINEAR else "affine",
        "task": task,
        "rows": rows,
        "summaries": [summarize_convergence(steps, c, cfg.threshold) for c in curves],
        "final_distance": fit.final.get("eval/distance"),
        "curve": (steps, curves),
    }


def run(cfg: Config, ctx: RunContext) -> Report:
    datasets = {
        problem: [
            make_data(cfg, problem, ctx.generator(f"align-toy/{problem}/{s}"))
            for s in range(cfg.seeds)
        ]
        for problem in PROBLEMS
    }
    results = {
        m: _train(cfg, ctx, m, datasets["linear" if m in LINEAR else "affine"]) for m in cfg.methods
    }
    identity = {p: [_identity_error(d) for d in sets] for p, sets in datasets.items()}
    tables, metrics = toy_tables(results, identity, threshold=cfg.threshold, titles=PROBLEMS)
    figures = []
    if ctx.is_main:
        held_out = {p: (sets[0].eval_a, sets[0].eval_b) for p, sets in datasets.items()}
        figures = toy_figures(
            ctx.path,
            results,
            held_out,
            threshold=cfg.threshold,
            first=SLIDE_PANELS,
            titles=PROBLEMS,
        )
    return Report(
        title="align-toy: dual vs min-max vs closed-form distances on 2D clouds",
        summary=(
            f"Shift problem: B = A' + {tuple(cfg.linear_shift)}, T(x) = x + s, linear critics "
            f"(lambda = {cfg.lam}). Affine problem: T* = rotate {cfg.angle_deg} deg, scale "
            f"{cfg.scale}, shift {tuple(cfg.shift)}, T(x) = Wx + b. {cfg.n_points} unpaired "
            f"points per set, {cfg.seeds} seed(s), {cfg.train.steps} steps, batch "
            f"{cfg.batch_size}; error = RMS(T(a) - T*(a)) / spread(B) on held-out points, "
            f"threshold {cfg.threshold}."
        ),
        tables=tables,
        figures=figures,
        metrics=metrics,
    )
