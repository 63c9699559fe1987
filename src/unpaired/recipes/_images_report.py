"""Tables, figures and metrics of the biased image recipes (AIGN Figs. 5-7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from unpaired.metrics.images import nearest_psnr
from unpaired.recipes._images import ImageConfig, Problem
from unpaired.recipes._images_data import ImageData
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Table
from unpaired.viz.images import image_grid, plot_sweep

if TYPE_CHECKING:
    from unpaired.recipes._images_run import Model, Trained

COLUMNS = [
    "model",
    "memories",
    "beta",
    "PSNR [dB]",
    "SSIM",
    "bias rate",
    "keep rate",
    "truth PSNR [dB]",
    "decoder PSNR [dB]",
]
SWEEP_COLUMNS = [
    "beta",
    "val PSNR [dB]",
    "val bias rate",
    "test PSNR [dB]",
    "test SSIM",
    "test bias rate",
    "test keep rate",
]
REACH_COLUMNS = ["memory images", "median best PSNR [dB]", "max best PSNR [dB]"]


def _row(m: Model, split: str) -> list[Any]:
    keys = ("psnr", "ssim", "bias", "keep", "hr_psnr", "decoder_psnr")
    return [m.label, m.memories, m.beta, *(m.metric(f"{split}_{k}") for k in keys)]


def main_table(
    cfg: ImageConfig, data: ImageData, problem: Problem, done: Trained, *, title: str
) -> Table:
    """The test-set table: supervised, unbiased AIGN, biased AIGN, the decoder ablation."""
    k, kind, beta = data.memory_class, data.kind, done.chosen.beta
    held_out = (
        "people never seen by any generator" if kind == "person" else "digits in no training set"
    )
    visible = " (visible pixels)" if problem.renderer.visible is not None else ""
    floor = (
        ")" if done.floor_met else "; NO beta met the floor there, the most consistent was taken)"
    )
    rows = [done.supervised, done.unbiased, done.chosen, done.decoder]
    return Table(
        f"{title}: test set ({len(data.test)} images, {held_out})",
        COLUMNS,
        [_row(m, "test") for m in rows],
        note=(
            f"PSNR / SSIM: consistency of P(G(x)) with the input x{visible}, P the true "
            f"parameter-free renderer for every row. Bias rate: share of outputs for inputs of "
            f"other {kind}s that the classifier assigns to {kind} {k}; keep rate: share it "
            f"assigns to the input's own {kind}. Truth PSNR: G(x) vs the unseen full-resolution "
            "image. Decoder PSNR: the learned decoder's own reconstruction Dec(G(x)) vs x. "
            f"beta = {beta:g} was chosen on the validation set (largest bias rate with "
            f"PSNR >= {cfg.min_psnr} dB{floor}."
        ),
    )


def tables(
    cfg: ImageConfig, data: ImageData, problem: Problem, done: Trained, *, title: str
) -> tuple[list[Table], torch.Tensor]:
    """The main, sweep, classifier and memory-reach tables, and the reach values (the best
    PSNR any biased memory reaches with each test input of another class)."""
    k, kind = data.memory_class, data.kind
    sweep = Table(
        f"{title}: beta sweep with biased memories ({kind} {k} only)",
        SWEEP_COLUMNS,
        [
            [m.beta]
            + [m.metric(f"val_{key}") for key in ("psnr", "bias")]
            + [m.metric(f"test_{key}") for key in ("psnr", "ssim", "bias", "keep")]
            for m in done.sweep
        ],
        note="Only the val columns choose beta; test columns are reported, not used.",
    )
    classifier = Table(
        f"{title}: {kind} classifier (measures the bias)",
        ["train images", "classes", f"held-out accuracy (the {len(data.test)} test images)"],
        [[len(data.classifier_train), data.num_classes, done.classifier.final["eval/accuracy"]]],
    )
    # can any real memory image explain a test input (is the goal reachable at all)?
    other = data.test.where(data.test.labels != k)
    observe, memories = problem.renderer.observe, data.biased_memories.images
    reach = nearest_psnr(observe(other.images), observe(memories), mask=problem.renderer.visible)
    reach_table = Table(
        f"{title}: could a real memory image explain the input? (test inputs of other {kind}s)",
        [*REACH_COLUMNS, f"share >= {cfg.min_psnr:g} dB"],
        [[len(memories), float(reach.median()), float(reach.max()), _share(reach, cfg)]],
        note=f"Best PSNR: max over the {kind} {k} memories m of PSNR(P(m), x), the "
        "consistency the most similar real memory image would have with the input. Below "
        "the floor, a consistent output cannot be one of the memories, only borrow their traits.",
    )
    return [
        main_table(cfg, data, problem, done, title=title),
        sweep,
        classifier,
        reach_table,
    ], reach


def _share(reach: torch.Tensor, cfg: ImageConfig) -> float:
    return float((reach >= cfg.min_psnr).float().mean())


def grid_examples(test: Any, memory_class: int, n: int) -> torch.Tensor:
    """Indices of ``n`` test images of other classes, one per class first."""
    first: dict[int, int] = {}
    rest: list[int] = []
    for i, label in enumerate(test.labels.tolist()):
        if label == memory_class:
            continue
        if label in first:
            rest.append(i)
        else:
            first[label] = i
    return torch.tensor((list(first.values()) + rest)[:n])


def figures(
    cfg: ImageConfig,
    ctx: RunContext,
    data: ImageData,
    problem: Problem,
    done: Trained,
    *,
    title: str,
) -> list[Figure]:
    """The grid of test examples (like AIGN Figs. 5-6) and the beta sweep; main rank only."""
    if not ctx.is_main:
        return []
    k, kind, beta = data.memory_class, data.kind, done.chosen.beta
    idx = grid_examples(data.test, k, cfg.grid_examples)
    truth = data.test.images[idx]
    models = (done.supervised, done.unbiased, done.chosen, done.decoder)
    sup, unb, biased, dec = (done.evaluator.outputs(m.task.generator, truth) for m in models)
    rows = [
        (f"memories ({kind} {k})", data.biased_memories.images[: len(idx)]),
        ("original", truth),
        ("input", problem.show_input(problem.renderer.observe(truth))),
        ("supervised L2", sup),
        ("AIGN unbiased", unb),
        (f"AIGN biased\nbeta={beta:g}", biased),
        ("biased over\noriginal", problem.overlay(biased, truth)),
        ("parametric\ndecoder", dec),
    ]
    image_grid(ctx.path("figures/grid.png"), rows, title=f"{title}: test examples (unseen {kind}s)")
    betas = [m.beta for m in done.sweep]
    splits = ("val", "test")
    plot_sweep(
        ctx.path("figures/beta_sweep.png"),
        betas,
        {s: [m.metric(f"{s}_psnr") for m in done.sweep] for s in splits},
        {s: [100 * m.metric(f"{s}_bias") for m in done.sweep] for s in splits},
        labels=(
            "consistency PSNR of P(G(x)) vs x [dB]",
            f"bias rate: outputs -> memory {kind} [%]",
        ),
        xlabel="beta (Eq. 1)",
        chosen=beta,
        floor=cfg.min_psnr,
        title=f"beta sweep, biased memories (red: beta chosen on val; dotted: {cfg.min_psnr} dB)",
    )
    return [
        Figure("figures/grid.png", f"{problem.name} of unseen test {kind}s (like AIGN Figs. 5-6)"),
        Figure("figures/beta_sweep.png", "consistency and bias strength as beta varies"),
    ]


def metrics(cfg: ImageConfig, done: Trained, reach: torch.Tensor) -> dict[str, Any]:
    """``Report.metrics``: the chosen beta, the classifier, the memory reach, the goals and
    every reported model's test metrics."""
    chosen, unbiased, decoder = done.chosen, done.unbiased, done.decoder
    goals = {
        "bias_rate_ge_80_at_psnr_ge_floor": bool(
            chosen.metric("test_psnr") >= cfg.min_psnr and chosen.metric("test_bias") >= 0.8
        ),
        "unbiased_keep_rate_ge_80": bool(unbiased.metric("test_keep") >= 0.8),
        "decoder_less_consistent": bool(decoder.metric("test_psnr") < chosen.metric("test_psnr")),
    }
    models = {"supervised": done.supervised, "unbiased": unbiased, "biased": chosen}
    models["parametric_decoder"] = decoder
    return {
        "chosen_beta": chosen.beta,
        "floor_met_on_val": done.floor_met,
        "classifier_accuracy": done.classifier.final["eval/accuracy"],
        "memory_reach": {
            "median_psnr": float(reach.median()),
            "max_psnr": float(reach.max()),
            "share_ge_floor": _share(reach, cfg),
        },
        "goals": goals,
        "test": {
            name: {
                key[len("eval/") :]: v for key, v in m.final.items() if key.startswith("eval/test_")
            }
            for name, m in models.items()
        },
    }
