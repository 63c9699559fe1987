"""sfm-scenes: prior names, config checks, the recipe end to end (the task, renderer and
evaluation: tests/aign/test_sfm.py)."""

from __future__ import annotations

import math
import typing

import pytest
import torch

from unpaired.errors import ConfigError
from unpaired.recipes import get, sfm_scenes
from unpaired.recipes._names import SFM_PRIORS, SfMPriorName
from unpaired.recipes._sfm import make_prior
from unpaired.recipes.runner import resolve_config, run_recipe


def test_priors_take_their_names_from_the_table() -> None:
    """Table names and the class-name aliases the recipe accepted before ``_names`` build the
    same distance; closed-form depth priors compare 8x8 log-depth patches."""
    for alias, name in (("MMD", "mmd"), ("DualAdversarialDistance", "dual-linear")):
        a, b = make_prior("depth", alias, 1.0).distance, make_prior("depth", name, 1.0).distance
        assert type(a) is type(b) and vars(a) == vars(b)
    prior = make_prior("depth", "mmd", 1.0)
    assert prior.transform(torch.zeros(2, 1, 16, 32)).shape == (2 * 2 * 4, 64)
    motion = make_prior("motion", "sinkhorn", 1.0)
    assert motion.transform(torch.zeros(3, 6)).shape == (3, 12)
    assert make_prior("depth", "wgan-gp", 1.0).transform is None  # a critic sees the map


def test_a_bad_prior_name_fails_at_set_time_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"depth_prior.*one of 'mean'.*'adversarial'"):
        resolve_config(get("sfm-scenes"), overrides={"depth_prior": "FlowLRMF"})
    with pytest.raises(ConfigError, match=r"unknown SfM prior 'flow-lrmf'; choose one of mean"):
        make_prior("depth", "flow-lrmf", 1.0)


def test_every_listed_distance_builds_working_priors() -> None:
    """Each name of ``SFM_PRIORS`` builds depth and motion priors that give a finite
    generator loss with a gradient; flow LRMF (needs more than ``(a, b)``) is not listed."""
    names = list(SFM_PRIORS)
    assert {"adversarial", "mmd", "dual-rbf", "sinkhorn", "MMD"} <= set(names)
    assert "flow-lrmf" not in names and "FlowLRMF" not in names
    assert set(names) == set(typing.get_args(SfMPriorName))
    gen = torch.Generator().manual_seed(0)
    log_depth = torch.randn(2, 1, 16, 32, generator=gen, requires_grad=True)
    depth_mem = torch.randn(2, 1, 16, 32, generator=gen)
    motion = (0.1 * torch.randn(4, 6, generator=gen)).requires_grad_()
    motion_mem = 0.1 * torch.randn(4, 6, generator=gen)
    for name in names:
        for kind, pred, mem in (("depth", log_depth, depth_mem), ("motion", motion, motion_mem)):
            prior = make_prior(kind, name, 1.0)
            a, b = (x if prior.transform is None else prior.transform(x) for x in (pred, mem))
            loss = prior.distance.generator_loss(a, b)
            assert loss.dim() == 0 and torch.isfinite(loss), (name, kind)
            (grad,) = torch.autograd.grad(loss, pred, allow_unused=True)
            assert grad is not None and torch.isfinite(grad).all(), (name, kind)


def test_config_rejects_shared_streets() -> None:
    spec = get("sfm-scenes")
    with pytest.raises(ConfigError, match="different streets"):
        resolve_config(spec, overrides={"eval_seed": 1})
    with pytest.raises(ConfigError, match="different streets"):
        resolve_config(spec, overrides={"memory_seeds": "4,9"})
    assert resolve_config(spec, quick=True).eval_seed == sfm_scenes.TEST_SEED


@pytest.mark.slow
def test_recipe_runs_end_to_end(tmp_path) -> None:
    tiny = {
        "train_seeds": "1",
        "memory_seeds": "5",
        "train_frames": 8,
        "memory_frames": 6,
        "eval_frames": 8,
        "height": 16,
        "width": 48,
        "depth_channels": "4,8",
        "ego_channels": "4,8",
        "scratch.steps": 6,
        "scratch.eval_every": 3,
        "scratch.log_every": 3,
        "pretrain.steps": 4,
        "pretrain.eval_every": 2,
        "pretrain.log_every": 2,
        "finetune.steps": 4,
        "finetune.eval_every": 2,
        "finetune.log_every": 2,
    }
    outcome = run_recipe("sfm-scenes", out=tmp_path, overrides=tiny, threads=1, progress=False)
    assert outcome.status == "completed"
    report = outcome.report
    scratch, camera, depth = report.tables
    assert [r[0] for r in scratch.rows] == ["AIGN", "depth-AIGN", "smooth-IGN", "IGN"]
    labels = [r[0] for r in camera.rows]
    assert "Pretrain" in labels and "Pret.+SelfSup" in labels
    assert any("geometric" in label and "ORACLE" in label for label in labels)
    assert any(label.startswith("constant motion") for label in labels)
    for row in camera.rows[2:]:  # every row but the geometric ones has every column
        assert all(math.isfinite(v) for v in row[1:]), row
    assert all(math.isfinite(v) for row in depth.rows for v in row[1:])
    assert len(depth.rows) == 6
    for fig in ("sfm_scratch_curves.png", "sfm_qualitative.png"):
        assert (tmp_path / "figures" / fig).stat().st_size > 10_000
    goals = report.metrics["goals"]
    assert goals["selfsup_over_pretrain_trl_err"] > 0
    # every declared claim finds its metric (recipes/_claims_table.py)
    assert [v.label for v in outcome.verdicts if v.detail.startswith("no metric")] == []
