"""``metapose-synthetic``: the ``metapose-cmu`` comparison on procedural skeletons
(embedded data, part of ``unpaired demo``): MetaPose S1 / S1+IR / S2 against
triangulation and AniPose-style bundle adjustment, on random multi-camera rigs.

Training, validation (2D only) and test poses are independent draws of
:func:`unpaired.data.synthetic.skeletons.sample_poses` (every pose its own body, mixed
styles); everything else is :mod:`unpaired.recipes._metapose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from unpaired.data.synthetic.skeletons import STYLES, sample_poses
from unpaired.errors import ConfigError
from unpaired.recipes._metapose import Lifter, Solvers
from unpaired.recipes._metapose_report import run_all
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config:
    n_train: int = 8000
    n_val: int = 500
    n_test_per_style: int = 100
    solvers: Solvers = field(default_factory=Solvers)
    lifter: Lifter = field(default_factory=Lifter)

    QUICK: ClassVar[dict] = {
        "n_train": 1000,
        "n_val": 100,
        "n_test_per_style": 10,
        "solvers.settings": ("noisy",),
        "solvers.s2_hidden": 64,
        "solvers.s2_max_stages": 1,
        "solvers.s2_train.steps": 40,
        "solvers.ir_steps": 50,
        "solvers.ba_frames": 1,
        "solvers.ba_rounds": 3,
        "lifter.hidden": 64,
        "lifter.train.steps": 60,
    }


def run(cfg: Config, ctx: RunContext) -> Report:
    if cfg.n_train < cfg.lifter.components or cfg.n_val < 1 or cfg.n_test_per_style < 1:
        raise ConfigError(
            f"need n_train >= lifter.components ({cfg.lifter.components}), n_val >= 1 and "
            f"n_test_per_style >= 1, got {cfg.n_train}, {cfg.n_val}, {cfg.n_test_per_style}"
        )
    g = ctx.generator("metapose-synthetic/poses")
    train = sample_poses(cfg.n_train, generator=g, random_yaw=True)
    val = sample_poses(cfg.n_val, generator=g, random_yaw=True)
    takes = {
        s: sample_poses(cfg.n_test_per_style, style=s, generator=g, random_yaw=True) for s in STYLES
    }
    tables, figures, metrics = run_all(ctx, cfg.solvers, cfg.lifter, train, val, takes)
    return Report(
        title="metapose-synthetic: multi-view 3D pose without 3D supervision, procedural skeletons",
        summary=(
            f"{cfg.n_train} procedural training poses (2D only for S2), {cfg.n_val} validation "
            f"poses (2D only), test {cfg.n_test_per_style} poses per style; random 4-camera rigs, "
            f"2 views = the first two cameras. Init: {cfg.solvers.init}."
        ),
        tables=tables,
        figures=figures,
        metrics=metrics,
        notes=["No 3D ground truth is used for training or selection; S2 learns from 2D only."],
    )
