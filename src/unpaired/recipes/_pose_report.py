"""The settings of the pose-lifting ladder (``pose-cmu``, ``pose-synthetic``): each
setting's ladder (:func:`~unpaired.recipes._pose.run_ladder`), its scores, tables and figures."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from unpaired.aign.pose import METRICS, TestSet
from unpaired.recipes._pose import (
    LABELS,
    CameraRig,
    Ladder,
    LadderResult,
    ladder_models,
    run_ladder,
)
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Table
from unpaired.viz.skeleton import plot_skeletons


def summary(errors: Mapping[str, torch.Tensor], test: TestSet) -> dict[str, Any]:
    """Per-take torso-aligned errors, their unweighted mean (the paper's "Average"), and
    every metric's mean over all frames."""
    per_take = test.take_means(errors["torso"])
    return {
        "torso_per_take": dict(zip(test.take_names, per_take, strict=True)),
        "torso_take_mean": sum(per_take) / len(per_take),
        **{k: float(v.mean()) for k, v in errors.items()},
    }


def scores(result: LadderResult, test: TestSet) -> dict[str, dict[str, Any]]:
    """:func:`summary` of every model of a ladder, with its reprojection error (px)."""
    return {
        m: {**summary(e, test), "reproj_px": result.reproj[m]} for m, e in result.errors.items()
    }


def ladder_table(title: str, result: LadderResult, test: TestSet, *, note: str = "") -> Table:
    """One row per model: torso-aligned error per take, its mean over takes, every metric
    averaged over all frames (mm), and the mean reprojection error of the input 2D (px)."""
    columns = [
        "model",
        *test.take_names,
        "take mean",
        *(f"{name} (all)" for name in METRICS.values()),
        "reproj. (px)",
    ]
    rows = []
    for model, errors in result.errors.items():
        s = summary(errors, test)
        rows.append(
            [
                LABELS[model],
                *s["torso_per_take"].values(),
                s["torso_take_mean"],
                *(s[k] for k in METRICS),
                result.reproj[model],
            ]
        )
    return Table(title, columns, rows, note=note)


def ratios(metrics: Mapping[str, Mapping[str, Any]], key: str = "torso_take_mean") -> dict:
    """The paper's ratios AIGN / 3D interpreter (0.89) and AIGN / Forward2Dto3D (0.61)
    and whether AIGN < 3D interpreter < Forward2Dto3D holds, on ``key``."""
    aign, interp, f2d = (metrics[m][key] for m in ("aign", "interpreter", "forward2dto3d"))
    return {
        "aign_over_interpreter": aign / interp,
        "aign_over_forward2dto3d": aign / f2d,
        "ordering_holds": bool(aign < interp < f2d),
    }


def skeleton_figure(
    ctx: RunContext, name: str, result: LadderResult, test: TestSet, *, title: str
) -> Figure | None:
    """Write ``figures/<name>.png`` (main rank only): three test frames spread over the
    test set, Forward2Dto3D, 3D interpreter and AIGN against the truth."""
    if not ctx.is_main:
        return None
    models = [m for m in ("forward2dto3d", "interpreter", "aign") if m in result.tasks]
    n = len(test.target)
    frames = [n // 6, n // 2, 5 * n // 6]
    preds = {LABELS[m].split(" (")[0]: result.tasks[m].predictions() for m in models}
    plot_skeletons(ctx.path(f"figures/{name}.png"), preds, test.target, frames, title=title)
    return Figure(f"figures/{name}.png", f"{title}: predicted (colour) vs true (black) skeletons")


@dataclass
class Settings:
    """What :func:`run_settings` returns: the tables (one per setting, then the goal
    table of ratios), the skeleton figures and ``metrics[setting] = {"models": scores,
    "ratios": ratios}``."""

    tables: list[Table]
    figures: list[Figure]
    metrics: dict[str, dict[str, Any]]


class LadderRecipe(Protocol):
    """The config fields :func:`run_settings` reads (``pose-cmu``, ``pose-synthetic``)."""

    settings: tuple[str, ...]
    martinez: bool
    extra_priors: tuple[str, ...]
    train_cameras: CameraRig
    ladder: Ladder


def run_settings(
    ctx: RunContext,
    cfg: LadderRecipe,
    train_poses: torch.Tensor,
    test: TestSet,
    *,
    title: Callable[[str], str],
    note: str,
    goal_title: str,
    reference_rows: Sequence[list] = (),
) -> Settings:
    """:func:`run_ladder` of the models of ``cfg`` (:func:`ladder_models`) for each of
    ``cfg.settings`` (checkpoint prefix = the setting), each with its table
    (``title(setting)``, ``note``), scores (:func:`scores`), ratios (:func:`ratios`) and
    ``figures/skeletons_<setting>.png``; then one goal table of the ratios
    (``goal_title``), ``reference_rows`` (e.g. the paper's) appended."""
    done = Settings([], [], {})
    ratio_rows = []
    cameras = cfg.train_cameras.distribution()
    models = ladder_models(cfg.martinez, cfg.extra_priors)
    for setting in dict.fromkeys(cfg.settings):
        result = run_ladder(
            ctx, setting, train_poses, test, setting, cfg.ladder, cameras=cameras, models=models
        )
        done.tables.append(ladder_table(title(setting), result, test, note=note))
        models_scores = scores(result, test)
        r = ratios(models_scores)
        done.metrics[setting] = {"models": models_scores, "ratios": r}
        ratio_rows.append(
            [setting, r["aign_over_interpreter"], r["aign_over_forward2dto3d"], r["ordering_holds"]]
        )
        figure = skeleton_figure(ctx, f"skeletons_{setting}", result, test, title=f"{setting} 2D")
        if figure is not None:
            done.figures.append(figure)
    columns = ["setting", "AIGN / 3D interpreter", "AIGN / Forward2Dto3D", "ordering holds"]
    done.tables.append(Table(goal_title, columns, [*ratio_rows, *reference_rows]))
    return done
