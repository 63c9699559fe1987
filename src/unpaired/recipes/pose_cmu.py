"""``pose-cmu``: 3D human pose lifting on CMU motion capture, a held-out subject (AIGN
Sec. 3.1, Tables 1 and 2).

Protocol (the Human3.6M protocol of the paper, transposed to the CMU data we have):

- **Train** on subjects 01 and 02 (every take at 30 fps), **test** on subject 03 (four
  takes); in full mode also a leave-one-subject-out table (exact 2D).
- **Test 2D** = projections of the test 3D poses by random virtual cameras of a *new rig*
  (:data:`TEST_CAMERAS`: pitch 15-45 deg, 3-5 m, f 900-1300 px) while the paired training
  views come from the training rig (:data:`TRAIN_CAMERAS`: pitch -5-20 deg, 4-6 m,
  f 1000-1200 px); yaw is uniform in both. Two settings: **exact** 2D (Table 1) and
  **noisy** 2D (Table 2): Gaussian pixel noise (std 5 px) plus left/right swaps (each
  pair with probability 0.05), applied to the training views too.
- **Ladder** (:mod:`unpaired.recipes._pose`): Martinez MLP, Forward2Dto3D (Sup1+2),
  3D interpreter (+Sup3), AIGN (+Sup4) with the logistic prior, and AIGN with the MMD and
  dual adversarial priors. Sup3 and Sup4 see only the test 2D (unlabelled), as in the
  paper ("AIGNs do not discriminate between training and test phases"); the test 3D is
  used only to evaluate. Memories are training-subject poses.
- **Tuning** happened only with ``--set split=validation``: the "test" is then takes
  ``val_takes`` of subject 02, retargeted to a new body (bone lengths scaled by fixed
  factors ~ N(1, 0.06)), and those takes leave the training set.
- ``--set test_files=a.amc,b.bvh`` evaluates on any ASF/AMC (the ASF is the one listed,
  else the only ``.asf`` in the AMC's folder, else ``<subject>.asf``), BVH or C3D files
  (unit and up axis detected, ``--set bvh_units=`` overrides; ``--set joint_map=FILE.yaml``
  for rigs the joint rules cannot read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import torch

from unpaired.aign.pose import TestSet, make_test_set
from unpaired.data.mocap import (
    find_asf,
    list_subjects,
    list_takes,
    load_bvh,
    load_c3d,
    load_subject,
    load_take,
)
from unpaired.data.pose2d import retarget
from unpaired.errors import ConfigError, DataError, DataNotFoundError
from unpaired.recipes._pose import (
    LABELS,
    TEST_CAMERAS,
    TRAIN_CAMERAS,
    CameraRig,
    Ladder,
    run_ladder,
)
from unpaired.recipes._pose_report import run_settings, scores
from unpaired.recipes.base import RunContext
from unpaired.report import Report, Table

#: The paper's ratios (Table 1, averages): AIGN / 3D interpreter, AIGN / Forward2Dto3D.
PAPER_RATIOS = (79.0 / 88.6, 79.0 / 128.9)


@dataclass(frozen=True)
class Config:
    train_subjects: tuple[str, ...] = ("01", "02")
    test_subject: str = "03"
    test_files: tuple[str, ...] = ()  # ASF/AMC, BVH or C3D files to test on instead
    bvh_units: Literal["auto", "m", "cm", "mm", "in", "cmu"] = "auto"  # one BVH/C3D unit
    joint_map: str = ""  # YAML joint map for BVH/C3D rigs the rules cannot read (docs/POSE.md)
    fps: float = 30.0
    split: Literal["test", "validation"] = "test"
    val_takes: tuple[str, ...] = ("02_01", "02_03", "02_05", "02_07", "02_09")
    val_retarget_std: float = 0.06
    settings: tuple[Literal["exact", "noisy"], ...] = ("exact", "noisy")
    martinez: bool = True
    extra_priors: tuple[Literal["mmd", "dual"], ...] = ("mmd", "dual")
    loso: bool = False  # leave-one-subject-out table (exact 2D; split=test, no test_files)
    train_cameras: CameraRig = TRAIN_CAMERAS
    test_cameras: CameraRig = TEST_CAMERAS
    ladder: Ladder = field(default_factory=Ladder)

    QUICK: ClassVar[dict] = {
        "settings": ("exact",),
        "ladder.supervised.steps": 800,
        "ladder.supervised.eval_every": 200,
        "ladder.finetune.steps": 400,
        "ladder.finetune.eval_every": 100,
    }


def _stack(takes: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat(list(takes.values()))


def _subject_takes(root: Path, subject: str, fps: float) -> dict[str, torch.Tensor]:
    return {k: m.to_h36m17() for k, m in load_subject(root, subject, fps=fps).items()}


def load_test_files(
    paths: Sequence[str], *, fps: float, bvh_units: str, joint_map: str = ""
) -> dict[str, torch.Tensor]:
    """``{take name: (T, 17, 3) poses}`` of ASF/AMC, BVH and C3D files (``test_files``)."""
    files = [Path(p).expanduser() for p in paths]
    for f in files:
        if f.suffix.lower() not in (".amc", ".asf", ".bvh", ".c3d"):
            raise ConfigError(f"test_files: {f} is not an .amc, .asf, .bvh or .c3d file")
        if not f.is_file():
            raise DataNotFoundError(f"test_files: {f} not found")
    listed_asf = [f for f in files if f.suffix.lower() == ".asf"]
    takes: dict[str, torch.Tensor] = {}
    for f in files:
        if f.suffix.lower() == ".asf":
            continue
        if f.suffix.lower() in (".bvh", ".c3d"):
            load = load_bvh if f.suffix.lower() == ".bvh" else load_c3d
            motion = load(f, fps=fps, units=bvh_units, joint_map=joint_map or None)  # type: ignore[arg-type]
        else:
            motion = load_take(
                find_asf(f, listed_asf, hint="list the .asf in test_files"), f, fps=fps
            )
        poses = motion.to_h36m17()
        if len(poses) == 0:
            raise DataError(f"{f}: no frames")
        name = f.stem if f.stem not in takes else f"{f.stem}_{len(takes)}"
        takes[name] = poses
    if not takes:
        raise ConfigError("test_files lists no .amc or .bvh motion")
    return takes


def load_split(
    cfg: Config, root: Path, generator: torch.Generator
) -> tuple[torch.Tensor, dict[str, torch.Tensor], str]:
    """Training poses, test takes and a description of the test set, from the data
    directory ``root``; ``generator`` draws the validation split's new body."""
    if cfg.split == "validation":
        found = {t.stem for s in cfg.train_subjects for t in list_takes(root, s)[1]}
        missing = [t for t in cfg.val_takes if t not in found]
        if missing or not cfg.val_takes:
            raise ConfigError(
                f"val_takes {missing or '()'} are not takes of the training subjects "
                f"{', '.join(cfg.train_subjects)}"
            )
    train = {s: _subject_takes(root, s, cfg.fps) for s in cfg.train_subjects}
    if cfg.split == "validation":
        test = {t: takes[t] for takes in train.values() for t in cfg.val_takes if t in takes}
        stacked = retarget(_stack(test), std=cfg.val_retarget_std, generator=generator)
        test = dict(zip(test, stacked.split([len(v) for v in test.values()]), strict=True))
        poses = [p for takes in train.values() for t, p in takes.items() if t not in test]
        described = f"validation: takes {', '.join(test)} retargeted to a new body"
        return torch.cat(poses), test, described
    poses = torch.cat([_stack(takes) for takes in train.values()])
    if cfg.test_files:
        test = load_test_files(
            cfg.test_files, fps=cfg.fps, bvh_units=cfg.bvh_units, joint_map=cfg.joint_map
        )
        return poses, test, f"test files: {', '.join(test)}"
    if cfg.test_subject in cfg.train_subjects:
        raise ConfigError(f"test_subject {cfg.test_subject} is also a training subject")
    test = _subject_takes(root, cfg.test_subject, cfg.fps)
    return poses, test, f"subject {cfg.test_subject} (held out)"


def _views(cfg: Config, ctx: RunContext, test: dict[str, torch.Tensor], stream: str) -> TestSet:
    return make_test_set(
        test,
        cameras=cfg.test_cameras.distribution(),
        noise=(cfg.ladder.noise_px, cfg.ladder.swap_prob),
        generator=ctx.generator(stream),
    )


def _loso(cfg: Config, ctx: RunContext, fold03: dict) -> tuple[Table, dict]:
    """Leave-one-subject-out (exact 2D): train on two subjects, test on the third."""
    root = ctx.data_root()
    subjects = sorted(set(cfg.train_subjects) | {cfg.test_subject})
    available = set(list_subjects(root))
    subjects = [s for s in subjects if s in available]
    models = ("forward2dto3d", "interpreter", "aign")
    results: dict[str, dict] = {}
    for held in subjects:
        if held == cfg.test_subject:
            results[held] = fold03
            continue
        train = torch.cat([_stack(_subject_takes(root, s, cfg.fps)) for s in subjects if s != held])
        test = _views(cfg, ctx, _subject_takes(root, held, cfg.fps), f"pose-cmu/loso{held}")
        fold = run_ladder(
            ctx,
            f"loso{held}-exact",
            train,
            test,
            "exact",
            cfg.ladder,
            cameras=cfg.train_cameras.distribution(),
            models=models,
        )
        results[held] = scores(fold, test)
    rows = []
    for m in models:
        values = [results[s][m]["torso_take_mean"] for s in subjects]
        rows.append([LABELS[m], *values, sum(values) / len(values)])
    table = Table(
        "Leave one subject out (exact 2D): torso-aligned error (mm), mean over the held-out "
        "subject's takes",
        ["model", *(f"test {s}" for s in subjects), "mean"],
        rows,
        note="Each column trains on the other subjects and finetunes on the held-out "
        "subject's 2D only.",
    )
    return table, {s: {m: r["torso_take_mean"] for m, r in results[s].items()} for s in subjects}


def run(cfg: Config, ctx: RunContext) -> Report:
    if not cfg.settings:
        raise ConfigError("settings must name at least one of exact, noisy")
    train, test_takes, described = load_split(
        cfg, ctx.data_root(), ctx.generator("pose-cmu/retarget")
    )
    test = _views(cfg, ctx, test_takes, "pose-cmu/test-views")
    done = run_settings(
        ctx,
        cfg,
        train,
        test,
        title=lambda setting: (
            f"{setting} 2D inputs ({'Table 1' if setting == 'exact' else 'Table 2'} analogue), "
            f"test = {described}: torso-aligned error per take (mm)"
        ),
        note="take mean: unweighted mean over takes (the paper's Average); "
        "(all): mean over all test frames.",
        goal_title="Goal: AIGN < 3D interpreter < Forward2Dto3D (torso-aligned, take mean)",
        reference_rows=[["paper (Table 1)", *PAPER_RATIOS, True]],
    )
    tables, figures = done.tables, done.figures
    metrics: dict = {
        "test": described,
        "frames": {"train": len(train), "test": len(test.target)},
        **done.metrics,
    }
    fold03 = done.metrics.get("exact", {}).get("models", {})
    if cfg.loso and cfg.split == "test" and not cfg.test_files and fold03:
        table, loso = _loso(cfg, ctx, fold03)
        tables.append(table)
        metrics["loso"] = loso
    cams = cfg.train_cameras, cfg.test_cameras
    return Report(
        title="pose-cmu: AIGN 3D pose lifting on CMU motion capture",
        summary=(
            f"Train: subjects {', '.join(cfg.train_subjects)} ({len(train)} poses at "
            f"{cfg.fps:g} fps); test: {described} ({len(test.target)} poses). Training "
            f"cameras pitch {cams[0].pitch_deg} deg, distance {cams[0].distance} m, focal "
            f"{cams[0].focal} px; test cameras pitch {cams[1].pitch_deg} deg, distance "
            f"{cams[1].distance} m, focal {cams[1].focal} px. Noisy 2D: {cfg.ladder.noise_px:g} "
            f"px Gaussian noise, left/right swaps with probability {cfg.ladder.swap_prob:g}."
        ),
        tables=tables,
        figures=figures,
        metrics=metrics,
        notes=[
            "Sup3/Sup4 use the test 2D only (no labels); test 3D is used only for evaluation.",
            "P-MPJPE aligns with proper rotations only (a mirrored pose is not forgiven).",
            "The data used in this project was obtained from mocap.cs.cmu.edu. The database "
            "was created with funding from NSF EIA-0196217.",
        ],
    )
