"""``metapose-cmu``: MetaPose (Usman et al., CVPR 2022) on CMU motion capture rendered to
random virtual multi-camera rigs: 3D pose from uncalibrated multi-view 2D without 3D
supervision, against triangulation and AniPose-style bundle adjustment.

Protocol:

- **Train** poses: subjects 01 and 02 at 30 fps (every ``train_stride``-th frame), minus
  the takes ``val_takes``, whose frames are the **validation** samples (used only through
  their 2D: S2's stage selection). **Test**: subject 03 (every ``test_stride``-th frame),
  or ``--set test_files=a.amc,b.bvh`` (ASF/AMC, BVH or C3D, as ``pose-cmu``).
- Every pose gets its own random rig of 4 cameras (:mod:`unpaired.multiview.rigs`:
  4-6 m, 1-2 m high, around the person, f 1000-1150 px); the 2-view setting keeps the
  first two cameras. **Exact** 2D is the full perspective projection; **noisy** 2D adds
  Gaussian noise of 1.5% of the person box, 7.5% outlier joints at 10%, left/right swaps
  with probability 0.03 per pair and view.
- Monocular init: this library's Forward2Dto3D lifter (:mod:`unpaired.aign.pose`) trained
  on the training poses; the S2 stages train on the training poses' multi-view 2D with the
  exact 2D as the annotation (the paper's "2D GT for training"), no 3D anywhere. Test 3D is
  used only for the scores. Methods and tables: :mod:`unpaired.recipes._metapose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch

from unpaired.data.mocap import list_takes, load_subject
from unpaired.errors import ConfigError
from unpaired.recipes._metapose import Lifter, Solvers
from unpaired.recipes._metapose_report import run_all
from unpaired.recipes.base import RunContext
from unpaired.recipes.pose_cmu import load_test_files
from unpaired.report import Report


@dataclass(frozen=True)
class Config:
    train_subjects: tuple[str, ...] = ("01", "02")
    test_subject: str = "03"
    test_files: tuple[str, ...] = ()  # ASF/AMC, BVH or C3D files to test on instead
    bvh_units: Literal["auto", "m", "cm", "mm", "in", "cmu"] = "auto"
    joint_map: str = ""
    fps: float = 30.0
    val_takes: tuple[str, ...] = ("01_14", "02_10")
    train_stride: int = 1
    test_stride: int = 3
    solvers: Solvers = field(default_factory=Solvers)
    lifter: Lifter = field(default_factory=Lifter)

    QUICK: ClassVar[dict] = {
        "train_stride": 6,
        "test_stride": 20,
        "solvers.settings": ("noisy",),
        "solvers.s2_max_stages": 2,
        "solvers.s2_train.steps": 100,
        "solvers.ba_frames": 4,
        "lifter.train.steps": 300,
    }


def load_poses(cfg: Config, ctx: RunContext) -> tuple[torch.Tensor, torch.Tensor, dict, str]:
    """Training poses, validation poses, test takes and a description of the test set."""
    if cfg.train_stride < 1 or cfg.test_stride < 1:
        raise ConfigError(
            f"train_stride and test_stride must be >= 1, got {cfg.train_stride}, {cfg.test_stride}"
        )
    root = ctx.data_root()
    found = {t.stem for s in cfg.train_subjects for t in list_takes(root, s)[1]}
    missing = [t for t in cfg.val_takes if t not in found]
    if missing or not cfg.val_takes:
        raise ConfigError(f"val_takes {missing or '()'} are not takes of the training subjects")
    train, val = [], []
    for s in cfg.train_subjects:
        for take, motion in load_subject(root, s, fps=cfg.fps).items():
            poses = motion.to_h36m17()[:: cfg.train_stride]
            (val if take in cfg.val_takes else train).append(poses)
    if cfg.test_files:
        takes = load_test_files(
            cfg.test_files, fps=cfg.fps, bvh_units=cfg.bvh_units, joint_map=cfg.joint_map
        )
        described = f"test files: {', '.join(takes)}"
    else:
        if cfg.test_subject in cfg.train_subjects:
            raise ConfigError(f"test_subject {cfg.test_subject} is also a training subject")
        takes = {
            k: m.to_h36m17() for k, m in load_subject(root, cfg.test_subject, fps=cfg.fps).items()
        }
        described = f"subject {cfg.test_subject} (held out)"
    takes = {k: v[:: cfg.test_stride] for k, v in takes.items() if len(v[:: cfg.test_stride])}
    return torch.cat(train), torch.cat(val), takes, described


def run(cfg: Config, ctx: RunContext) -> Report:
    train, val, takes, described = load_poses(cfg, ctx)
    tables, figures, metrics = run_all(ctx, cfg.solvers, cfg.lifter, train, val, takes)
    n_test = sum(len(v) for v in takes.values())
    return Report(
        title="metapose-cmu: multi-view 3D pose without 3D supervision on CMU motion capture",
        summary=(
            f"Train: subjects {', '.join(cfg.train_subjects)} ({len(train)} poses, validation "
            f"takes {', '.join(cfg.val_takes)}: {len(val)} poses, 2D only); test: {described} "
            f"({n_test} poses: frame stride {cfg.test_stride} at {cfg.fps:g} fps). Random 4-camera "
            f"rigs per pose; 2 views = its first two cameras. Init: {cfg.solvers.init}."
        ),
        tables=tables,
        figures=figures,
        metrics={
            "test": described,
            "frames": {"train": len(train), "val": len(val), "test": n_test},
            **metrics,
        },
        notes=[
            "No 3D ground truth is used for training or selection; S2 learns from 2D only.",
            "PMPJPE allows reflections (MetaPose's align_aba); metrics also hold pmpjpe_proper.",
            "The data used in this project was obtained from mocap.cs.cmu.edu. The database "
            "was created with funding from NSF EIA-0196217.",
        ],
    )
