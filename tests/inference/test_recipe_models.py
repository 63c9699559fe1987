"""Every model a recipe trains can be loaded and applied (embedded recipes, tiny sizes)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import unpaired
from unpaired.data.synthetic.scenes import render_sequence
from unpaired.data.tum import write_tum
from unpaired.engine.records import list_models
from unpaired.inference import predict_files
from unpaired.recipes.runner import run_recipe

POSE = {
    "n_train": 300, "n_test_per_style": 10, "settings": ("exact",), "extra_priors": (),
    "ladder.hidden": 16, "ladder.supervised.steps": 5, "ladder.finetune.steps": 5,
}  # fmt: skip
SFM = {
    "train_seeds": "1", "memory_seeds": "5", "train_frames": 8, "memory_frames": 6,
    "eval_frames": 8, "height": 16, "width": 48, "depth_channels": "4,8", "ego_channels": "4,8",
    "scratch.steps": 2, "pretrain.steps": 2, "finetune.steps": 2,
}  # fmt: skip


@pytest.mark.slow
def test_pose_synthetic_models_lift_a_keypoint_file(tmp_path: Path) -> None:
    run_recipe("pose-synthetic", out=tmp_path / "run", overrides=POSE, threads=1, progress=False)
    names = list_models(tmp_path / "run")
    assert {"exact-martinez", "exact-forward2dto3d", "exact-interpreter", "exact-aign"} <= set(
        names
    )
    kp = (500 + 60 * np.random.default_rng(0).standard_normal((20, 17, 2))).astype(np.float32)
    np.save(tmp_path / "kp.npy", kp)
    for name in names:
        model = unpaired.load(tmp_path / "run", name)
        assert model.config["recipe"] == "pose-synthetic"
        predict_files(model, tmp_path / "kp.npy", tmp_path / name, figures=0)
        poses = np.load(tmp_path / name / "poses.npy")
        assert poses.shape == (20, 17, 3) and np.isfinite(poses).all()


@pytest.mark.slow
def test_sfm_scenes_models_give_depth_and_a_trajectory_on_a_tum_sequence(tmp_path: Path) -> None:
    run_recipe("sfm-scenes", out=tmp_path / "run", overrides=SFM, threads=1, progress=False)
    names = list_models(tmp_path / "run")
    assert {"pretrain", "pretrain-selfsup", "scratch-AIGN"} <= set(names)
    tum = write_tum(render_sequence(0, n_frames=6, height=32, width=96), tmp_path / "street")
    for name in names:
        summary = predict_files(unpaired.load(tmp_path / "run", name), tum, tmp_path / name)
        assert summary["frames"] == 6
        depth = np.load(tmp_path / name / "depth" / "1.000000.npy")
        assert depth.shape == (16, 48) and np.isfinite(depth).all()
        rows = (tmp_path / name / "trajectory.txt").read_text().splitlines()[1:]
        assert len(rows) == 6 and all(math.isfinite(float(v)) for r in rows for v in r.split())
