"""Tables, goals and figures of the ``sfm-scenes`` recipe (AIGN Table 3, Figs. 3 and 4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from unpaired.aign.sfm import LOG_DEPTH_RANGE, SfMTask, evaluate_predictions
from unpaired.data.flow import PairSet
from unpaired.evaluation import (
    constant_motion_metrics,
    geometric_baseline,
    mean_motion,
    straight_ahead,
    summarize_curve,
)
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Table
from unpaired.viz.curves import plot_curves
from unpaired.viz.sfm import plot_depth_and_flow

CAMERA_KEYS = ("trl_err", "rot_err", "trl_mag", "trl_ang", "ate5")
DEPTH_KEYS = ("log_l1", "abs_rel", "sq_rel", "rmse", "log_rmse", "delta1", "delta2", "delta3")
#: The panels of the Fig. 3 analogue: logged key -> title.
CURVES = {
    "eval/depth_log_l1": "depth error: L1 of log depth (no scaling)",
    "eval/log_scale": "depth scale: log(median pred / median true)",
    "eval/trl_err": "translation error (m)",
    "eval/rot_err": "rotation error (rad)",
    "eval/trl_ang": "translation angle error (rad)",
    "eval/photometric": "photometric error (Eq. 3)",
}


@dataclass
class Baselines:
    """The training-free rows of Table 3 (:mod:`unpaired.evaluation.sfm`)."""

    geometric_free: dict[str, float]
    geometric_oracle: dict[str, float]
    geometric_failed: int
    constant: dict[str, float]
    straight_oracle: dict[str, float]


def baselines(train: PairSet, test: PairSet) -> Baselines:
    """Geometric (scale-free and oracle-scale), mean-training-motion and straight-ahead
    at the true speed, on the test sequence."""
    free, oracle, failed = geometric_baseline(test)
    constant = constant_motion_metrics(*mean_motion(train.motion), test)
    return Baselines(
        free, oracle, failed, constant, constant_motion_metrics(*straight_ahead(test), test)
    )


def predictions(
    models: Mapping[str, SfMTask], test: PairSet
) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], dict[str, dict[str, float]]]:
    """Every model's ``(log_depth, motion)`` on the test sequence (its evaluated generator,
    eval mode) and :func:`~unpaired.aign.sfm.evaluate_predictions` of them."""
    preds, metrics = {}, {}
    for name, task in models.items():
        task.eval()
        pred = task.predict_all(test.inputs)
        preds[name] = (pred["log_depth"], pred["motion"])
        metrics[name] = evaluate_predictions(*preds[name], test)
    return preds, metrics


def camera_table(metrics: Mapping[str, Mapping[str, float]], base: Baselines, n: int) -> Table:
    """Table 3: camera motion errors of the baselines and every model."""

    def row(label: str, m: Mapping[str, float]) -> list[Any]:
        return [label, *(m.get(c) for c in CAMERA_KEYS)]

    scratch = [
        row(f"{k.removesuffix(' (scratch)')} (from scratch)", m)
        for k, m in metrics.items()
        if k.endswith(" (scratch)")
    ]
    return Table(
        "Camera motion on the test sequence (AIGN Table 3)",
        ["model", "trl err (m)", "rot err (rad)", "trl mag (m)", "trl ang (rad)", "ATE-5 (m)"],
        [
            row("geometric: essential matrix + RANSAC (scale-free)", base.geometric_free),
            row("geometric + ORACLE scale (true |T|)", base.geometric_oracle),
            row("constant motion (mean of training motions)", base.constant),
            row("straight ahead at the ORACLE true speed", base.straight_oracle),
            row("Pretrain", metrics["Pretrain"]),
            row("Pret.+SelfSup", metrics["Pret.+SelfSup"]),
            *scratch,
        ],
        note=(
            "Errors averaged over the test pairs; trl ang skips stopped pairs (no direction). "
            "Monocular geometry knows the translation only up to scale: its scale-free row "
            "reports only rot err and trl ang; the ORACLE rows are given the true translation "
            f"magnitude (trl mag 0 by construction). Geometric estimate failed on "
            f"{base.geometric_failed} of {n} pairs (skipped). ATE-5: 5-frame snippets, "
            "least-squares scale per snippet (Zhou et al. 2017)."
        ),
    )


def depth_table(metrics: Mapping[str, Mapping[str, float]]) -> Table:
    """Depth errors of every model (no scaling, plus two median-scaled columns)."""
    return Table(
        "Depth on the test sequence (true depth capped at 80 m)",
        ["model", *DEPTH_KEYS, "log_l1 (median-scaled)", "abs_rel (median-scaled)", "log scale"],
        [
            [
                name,
                *(m[f"depth_{key}"] for key in DEPTH_KEYS),
                m["depth_med_log_l1"],
                m["depth_med_abs_rel"],
                m["log_scale"],
            ]
            for name, m in metrics.items()
        ],
        note=(
            "No scaling (the AIGN paper's convention, log_l1 = its L1 in log depth) except the "
            "two median-scaled columns (per image, Zhou et al.). log scale = mean log(median "
            "predicted / median true depth): 0 is the true scale."
        ),
    )


def scratch_summary(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], eval_every: int
) -> tuple[Table, dict[str, dict[str, Any]]]:
    """The Fig. 3 curves in numbers: final and minimum depth error, the step of the
    minimum, their ratio, the final scale, translation and photometric errors."""
    rows, summary = [], {}
    for name, history in histories.items():
        depth = summarize_curve(history, "eval/depth_log_l1")
        trl = summarize_curve(history, "eval/trl_err")
        scale = summarize_curve(history, "eval/log_scale").final
        photo = summarize_curve(history, "eval/photometric").final
        ratio = depth.final_over_min
        row = [depth.final, depth.minimum, depth.argmin, ratio, scale, trl.final, trl.minimum]
        rows.append([name, *row, photo])
        summary[name] = {
            "depth_final": depth.final,
            "depth_min": depth.minimum,
            "depth_min_step": depth.argmin,
            "final_over_min": ratio,
            "log_scale_final": scale,
        }
    table = Table(
        "Self-supervised from scratch (AIGN Fig. 3): curves on the test sequence",
        [
            "model",
            "final depth log_l1",
            "min depth log_l1",
            "step of min",
            "final / min",
            "final log scale",
            "final trl err",
            "min trl err",
            "final photometric",
        ],
        rows,
        note=f"Curves evaluated every {eval_every} iterations; depth without scaling; "
        "log scale 0 = true scale.",
    )
    return table, summary


def goals(
    metrics: Mapping[str, Mapping[str, float]], base: Baselines, summary: Mapping[str, Any]
) -> dict[str, Any]:
    """The recipe's goals: finetuning helps, beats geometry, priors keep AIGN stable."""
    fine = metrics["Pret.+SelfSup"]
    return {
        "selfsup_over_pretrain_trl_err": fine["trl_err"] / metrics["Pretrain"]["trl_err"],
        "selfsup_beats_geometric_oracle_trl_err": fine["trl_err"]
        < base.geometric_oracle["trl_err"],
        "selfsup_beats_geometric_trl_ang": fine["trl_ang"] < base.geometric_free["trl_ang"],
        "aign_final_within_10pct_of_min": summary["AIGN"]["final_over_min"] <= 1.1,
        "ign_grows": summary["IGN"]["final_over_min"] > 1.1,
    }


def figures(
    ctx: RunContext,
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    test: PairSet,
    preds: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
) -> list[Figure]:
    """Fig. 3 (test-sequence curves of the from-scratch models) and Fig. 4 (depth and
    geometric flow with and without priors) analogues; main rank only."""
    if not ctx.is_main:
        return []
    plot_curves(
        histories,
        ctx.path("figures/sfm_scratch_curves.png"),
        title="Self-supervised SfM from scratch, test sequence (AIGN Fig. 3)",
        keys=list(CURVES),
        labels=CURVES,
        hlines={"eval/log_scale": 0.0},
        xlabel="iteration",
    )
    n = len(test)
    picks = sorted({n // 6, n // 2, (5 * n) // 6})
    shown = {k: preds[k] for k in ("AIGN (scratch)", "IGN (scratch)", "Pret.+SelfSup")}
    plot_depth_and_flow(
        ctx.path("figures/sfm_qualitative.png"),
        test,
        picks,
        shown,
        title="Depth and geometric flow with and without priors (AIGN Fig. 4 analogue)",
        log_depth_range=LOG_DEPTH_RANGE,
    )
    return [
        Figure("figures/sfm_scratch_curves.png", "Fig. 3 analogue: test-sequence curves"),
        Figure("figures/sfm_qualitative.png", "Fig. 4 analogue: depth and geometric flow"),
    ]
