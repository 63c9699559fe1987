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
by side, see :class:`~unpaired.alignment.Replicas`). The error of T is ``RMS(T(a) - T*(a)) / spread(B)``
on held-out source points (0: the true map is recovered). Reported per method: steps
until the error first reaches ``threshold``, steps until it stays below it, the final
error, and the oscillation (std of the error over the last 20% of evaluations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from unpaired.alignment import Affine, AlignTask, KnownMapReplicas, Shift
from unpaired.distances import mlp_critic
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.recipes._align import mean_std, pm, pm_steps, summarize
from unpaired.recipes._names import alignment_distance, make_distance
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table

_MEANS = ((0.0, 0.0), (2.5, 0.4), (0.6, 2.0))
_WEIGHTS = (0.5, 0.3, 0.2)
_SCALES = ((0.45, 0.15), (0.2, 0.35), (0.3, 0.1))

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


def sample_source(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) points from the asymmetric three-cluster mixture A."""
    comp = torch.multinomial(torch.tensor(_WEIGHTS), n, replacement=True, generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    means = torch.tensor(_MEANS)[comp]
    scales = torch.tensor(_SCALES)[comp]
    return means + noise * scales


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
    a = sample_source(n, generator)
    b_train = sample_source(n, generator) @ w.T + b  # an independent sample: unpaired
    eval_a = sample_source(n, generator)
    eval_b = sample_source(n, generator) @ w.T + b
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


def _transform_at(method: str, row: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed 0's T (W, b) at a logged row (the parameters are logged as eval/T<j>)."""
    if method in LINEAR:
        return torch.eye(2), torch.tensor([row["eval/T0"], row["eval/T1"]])
    w = torch.tensor([[row["eval/T0"], row["eval/T1"]], [row["eval/T2"], row["eval/T3"]]])
    return w, torch.tensor([row["eval/T4"], row["eval/T5"]])


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


def run(cfg: Config, ctx: RunContext) -> Report:
    datasets = {
        problem: [
            make_data(cfg, problem, ctx.generator(f"align-toy/{problem}/{s}"))
            for s in range(cfg.seeds)
        ]
        for problem in ("linear", "affine")
    }
    results: dict[str, dict[str, Any]] = {}
    for method in cfg.methods:
        data = datasets["linear" if method in LINEAR else "affine"]
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
        key = (lambda i: f"eval/error_s{i}") if cfg.seeds > 1 else (lambda i: "eval/error")
        summaries = [
            summarize(steps, [r[key(i)] for r in rows], cfg.threshold) for i in range(cfg.seeds)
        ]
        results[method] = {
            "task": task,
            "rows": rows,
            "summaries": summaries,
            "final_distance": fit.final.get("eval/distance"),
            "curve": (steps, [[r[key(i)] for r in rows] for i in range(cfg.seeds)]),
        }

    identity = {p: [_identity_error(d) for d in sets] for p, sets in datasets.items()}
    tables, metrics = _tables(cfg, results, identity)
    figures = _figures(cfg, ctx, results, datasets) if ctx.is_main else []
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


def _label(method: str) -> str:
    return LINEAR.get(method) or AFFINE[method]


def _tables(
    cfg: Config, results: dict[str, dict[str, Any]], identity: dict[str, list[float]]
) -> tuple[list[Table], dict[str, Any]]:
    columns = [
        "model",
        f"steps to reach error <= {cfg.threshold}",
        "steps to stay below",
        "final error",
        "min error",
        "oscillation (std, last 20%)",
        "final distance (seed 0)",
    ]
    metrics: dict[str, Any] = {}
    tables = []
    for problem, names, title in (
        (
            "linear",
            LINEAR,
            "Shift problem, linear critics (the slides' linear dual vs linear min-max)",
        ),
        ("affine", AFFINE, "Affine problem, expressive distances (kernel dual, MMD, min-max, ...)"),
    ):
        chosen = [m for m in cfg.methods if m in names]
        if not chosen:
            continue
        ident = identity[problem]
        rows: list[list[Any]] = [
            ["identity (no alignment)", "-", "-", pm(ident), pm(ident), "0", None]
        ]
        metrics[f"identity-{problem}" if problem == "linear" else "identity"] = {
            "final_error": mean_std(ident)[0]
        }
        for m in chosen:
            ss = results[m]["summaries"]
            rows.append(
                [
                    _label(m),
                    pm_steps([s.reach for s in ss]),
                    pm_steps([s.settle for s in ss]),
                    pm([s.final for s in ss]),
                    pm([s.best for s in ss]),
                    pm([s.oscillation for s in ss], 2),
                    results[m]["final_distance"],
                ]
            )
            metrics[m] = {
                "final_error": mean_std([s.final for s in ss])[0],
                "final_error_std": mean_std([s.final for s in ss])[1],
                "min_error": mean_std([s.best for s in ss])[0],
                "oscillation": mean_std([s.oscillation for s in ss])[0],
                "final_errors": [s.final for s in ss],
                "oscillations": [s.oscillation for s in ss],
                "reach_steps": [s.reach for s in ss],
                "settle_steps": [s.settle for s in ss],
                "final_distance": results[m]["final_distance"],
            }
        tables.append(
            Table(
                title,
                columns,
                rows,
                note=(
                    "Over seeds: mean ± std (steps: over the k/R seeds that got there; "
                    "'stay below' = from then on until the last step). error = "
                    "RMS(T(a) - T*(a)) / spread(B) on held-out points; 0 = true map recovered. "
                    "Distances are in each method's own units (adversarial: the critic's "
                    "estimate on held-out points)."
                ),
            )
        )
    return tables, metrics


def _snapshots(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows near 1/32, 1/16, ..., 1/2 and all of training (most change happens early)."""
    last = rows[-1]["step"]
    picks = [
        min(rows, key=lambda r, f=f: abs(r["step"] - f * last))
        for f in (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2)
    ]
    return list({r["step"]: r for r in [*picks, rows[-1]]}.values())


def _trajectories(
    cfg: Config, path: Path, results: dict[str, dict[str, Any]], datasets: dict[str, list[ToyData]]
) -> None:
    order = [m for m in (*SLIDE_PANELS, *METHODS) if m in results]
    order = list(dict.fromkeys(order))
    ncol = min(4, len(order))
    nrow = math.ceil(len(order) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.5 * nrow), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, m in zip(axes.flat, order, strict=False):
        d = datasets["linear" if m in LINEAR else "affine"][0]
        a, b = d.eval_a[:400], d.eval_b[:400]
        ax.scatter(*b.T, s=2, c="0.75", label="B")
        rows = results[m]["rows"]
        snaps = [{"step": 0, **_identity_row(m)}, *_snapshots(rows)]
        for j, r in enumerate(snaps):
            w, s = _transform_at(m, r)
            ax.scatter(*(a @ w.T + s).T, s=1.5, color=cmap(j / max(1, len(snaps) - 1)), alpha=0.5)
        centers = torch.stack(
            [
                a.mean(0) @ _transform_at(m, r)[0].T + _transform_at(m, r)[1]
                for r in [{"step": 0, **_identity_row(m)}, *rows]
            ]
        )
        ax.plot(*centers.T, color="crimson", lw=0.8, label="mean of T(A)")
        ax.set_title(_label(m), fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(order) :]:
        ax.axis("off")
    fig.suptitle(
        "T(A) over training, seed 0 (snapshots at step 0, 1/32, 1/16, 1/8, 1/4, 1/2 and all of "
        "training, light to dark; red: path of its mean; grey: B)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _identity_row(method: str) -> dict[str, float]:
    if method in LINEAR:
        return {"eval/T0": 0.0, "eval/T1": 0.0}
    return dict(zip([f"eval/T{j}" for j in range(6)], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], strict=True))


def _convergence(cfg: Config, path: Path, results: dict[str, dict[str, Any]]) -> None:
    panels = [
        (names, title)
        for names, title in ((LINEAR, "shift problem (linear critics)"), (AFFINE, "affine problem"))
        if any(m in names for m in cfg.methods)
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (names, title) in zip(axes[0], panels, strict=True):
        ax.set_prop_cycle(color=plt.get_cmap("tab20").colors)
        for m in [m for m in cfg.methods if m in names]:
            steps, curves = results[m]["curve"]
            c = torch.tensor(curves)
            (line,) = ax.plot(steps, c.median(0).values, label=m, lw=1)
            if c.shape[0] > 1:
                ax.fill_between(
                    steps, c.min(0).values, c.max(0).values, color=line.get_color(), alpha=0.15
                )
        ax.axhline(cfg.threshold, color="k", ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("error (median over seeds; band: min to max)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(cfg: Config, path: Path, results: dict[str, dict[str, Any]]) -> None:
    names = list(cfg.methods)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    x = torch.arange(len(names)).tolist()
    reach = [[s.reach for s in results[m]["summaries"]] for m in names]
    means = [mean_std([r for r in rs if r is not None]) for rs in reach]
    axes[0].bar(
        x,
        [0 if math.isnan(mu) else mu for mu, _ in means],
        yerr=[0 if math.isnan(sd) else sd for _, sd in means],
        color="tab:blue",
    )
    for xi, rs in zip(x, reach, strict=True):
        missed = sum(r is None for r in rs)
        if missed:
            axes[0].text(
                xi,
                0,
                f"{missed}/{len(rs)}\nnever",
                ha="center",
                va="bottom",
                fontsize=6,
                color="crimson",
            )
    axes[0].set_ylabel(f"steps to reach error <= {cfg.threshold}")
    osc = [mean_std([s.oscillation for s in results[m]["summaries"]]) for m in names]
    axes[1].bar(x, [mu for mu, _ in osc], yerr=[sd for _, sd in osc], color="tab:orange")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("oscillation: std of error, last 20% of steps")
    for ax in axes:
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
    fig.suptitle(f"mean ± std over {cfg.seeds} seed(s)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _final_clouds(
    path: Path, results: dict[str, dict[str, Any]], datasets: dict[str, list[ToyData]]
) -> None:
    names = list(results)
    ncol = min(5, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, m in zip(axes.flat, names, strict=False):
        d = datasets["linear" if m in LINEAR else "affine"][0]
        with torch.no_grad():
            moved = results[m]["task"].tasks[0].transform(d.eval_a[:600])
        ax.scatter(*d.eval_a[:600].T, s=2, alpha=0.4, label="A")
        ax.scatter(*d.eval_b[:600].T, s=2, alpha=0.4, label="B")
        ax.scatter(*moved.T, s=2, alpha=0.4, label="T(A)")
        ax.set_title(f"{m}: error {results[m]['summaries'][0].final:.3f}", fontsize=8)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    axes.flat[0].legend(markerscale=4, fontsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _figures(
    cfg: Config,
    ctx: RunContext,
    results: dict[str, dict[str, Any]],
    datasets: dict[str, list[ToyData]],
) -> list[Figure]:
    _trajectories(cfg, ctx.path("figures/trajectories.png"), results, datasets)
    _convergence(cfg, ctx.path("figures/convergence.png"), results)
    _bars(cfg, ctx.path("figures/steps_oscillation.png"), results)
    _final_clouds(ctx.path("figures/alignment.png"), results, datasets)
    return [
        Figure(
            "figures/trajectories.png",
            "T(A) over training, one panel per method (slides: linear dual, linear min-max, kernel dual)",
        ),
        Figure("figures/convergence.png", "error vs step (median over seeds, band: min to max)"),
        Figure(
            "figures/steps_oscillation.png",
            "steps to reach the error threshold, and oscillation (std of the error over the last 20% of steps)",
        ),
        Figure("figures/alignment.png", "A, B and T(A) after training (seed 0)"),
    ]
