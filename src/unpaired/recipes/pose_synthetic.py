"""``pose-synthetic``: the ``pose-cmu`` comparison on procedural skeletons (embedded data,
part of ``unpaired demo``).

Training poses come from :func:`unpaired.data.synthetic.skeletons.sample_poses` (every pose
its own body: global scale and bone factors vary), seen by the training camera rig. The
test "subject" is a new body (every bone of every test pose scaled by one fixed factor
~ N(1, ``test_retarget_std``)), one column per pose style (the Human3.6M activities'
analogue), seen by the new test rig (higher, closer, other lenses; see
:mod:`unpaired.recipes._pose`). The ladder is the same as ``pose-cmu``'s: Martinez MLP,
Forward2Dto3D (Sup1+2), 3D interpreter (+Sup3), AIGN (+Sup4), trained by this recipe on
the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch

from unpaired.aign.pose import make_test_set
from unpaired.data.pose2d import retarget
from unpaired.data.synthetic.skeletons import STYLES, sample_poses
from unpaired.errors import ConfigError
from unpaired.recipes._pose import (
    TEST_CAMERAS,
    TRAIN_CAMERAS,
    CameraRig,
    Ladder,
    ladder_models,
)
from unpaired.recipes._pose_report import run_settings
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config:
    n_train: int = 20000  # training poses (Sup1+2 and memories)
    n_test_per_style: int = 400  # test poses per style (one table column each)
    test_retarget_std: float = 0.06  # the test body's bone factors ~ N(1, std)
    settings: tuple[Literal["exact", "noisy"], ...] = ("exact", "noisy")
    martinez: bool = True
    extra_priors: tuple[Literal["mmd", "dual"], ...] = ("mmd", "dual")
    train_cameras: CameraRig = TRAIN_CAMERAS
    test_cameras: CameraRig = TEST_CAMERAS
    ladder: Ladder = field(default_factory=Ladder)

    QUICK: ClassVar[dict] = {
        "n_train": 3000,
        "n_test_per_style": 100,
        "settings": ("exact",),
        "ladder.hidden": 128,
        "ladder.batch_size": 64,
        "ladder.supervised.steps": 400,
        "ladder.supervised.eval_every": 100,
        "ladder.finetune.steps": 200,
        "ladder.finetune.eval_every": 50,
        "ladder.finetune.lr": 2e-4,
        "ladder.finetune.critic_lr": 2e-4,
    }


def run(cfg: Config, ctx: RunContext) -> Report:
    if not cfg.settings:
        raise ConfigError("settings must name at least one of exact, noisy")
    if cfg.n_train < cfg.ladder.components or cfg.n_test_per_style < 1:
        raise ConfigError(
            f"need n_train >= ladder.components ({cfg.ladder.components}) and "
            f"n_test_per_style >= 1, got {cfg.n_train} and {cfg.n_test_per_style}"
        )
    g = ctx.generator("pose-synthetic/poses")
    train = sample_poses(cfg.n_train, generator=g)
    by_style = {s: sample_poses(cfg.n_test_per_style, style=s, generator=g) for s in STYLES}
    moved = retarget(torch.cat(list(by_style.values())), std=cfg.test_retarget_std, generator=g)
    test_takes = dict(zip(STYLES, moved.split(cfg.n_test_per_style), strict=True))
    test = make_test_set(
        test_takes,
        cameras=cfg.test_cameras.distribution(),
        noise=(cfg.ladder.noise_px, cfg.ladder.swap_prob),
        generator=ctx.generator("pose-synthetic/test-views"),
    )
    done = run_settings(
        ctx,
        cfg.settings,
        train,
        test,
        cfg.ladder,
        cameras=cfg.train_cameras.distribution(),
        models=ladder_models(cfg.martinez, cfg.extra_priors),
        title=lambda setting: (
            f"{setting} 2D inputs, procedural test body: torso-aligned error per style (mm)"
        ),
        note="take mean: unweighted mean over styles; (all): mean over all test poses.",
        goal_title="AIGN < 3D interpreter < Forward2Dto3D? (torso-aligned, mean over styles)",
    )
    tables, figures, metrics = done.tables, done.figures, done.metrics
    return Report(
        title="pose-synthetic: AIGN 3D pose lifting on procedural skeletons",
        summary=(
            f"{cfg.n_train} procedural training poses; test: a new body, "
            f"{cfg.n_test_per_style} poses per style, seen by the test camera rig "
            f"(pitch {cfg.test_cameras.pitch_deg} deg, distance {cfg.test_cameras.distance} m, "
            f"focal {cfg.test_cameras.focal} px) while training views use pitch "
            f"{cfg.train_cameras.pitch_deg} deg, distance {cfg.train_cameras.distance} m."
        ),
        tables=tables,
        figures=figures,
        metrics=metrics,
    )
