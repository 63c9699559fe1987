"""sfm-scenes: prior names, config checks, the recipe end to end (the task, renderer and
evaluation: tests/aign/test_sfm.py)."""

from __future__ import annotations

import math

import pytest
import torch

import unpaired.distances as distances
from unpaired.errors import ConfigError
from unpaired.recipes import get, sfm_scenes
from unpaired.recipes._sfm import distance_names, make_distance, make_prior
from unpaired.recipes.runner import resolve_config, run_recipe


def test_priors_accept_any_exported_distance(monkeypatch) -> None:
    class MeanGap(distances.Distance):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a.mean(0) - b.mean(0)).pow(2).sum()

    monkeypatch.setattr(distances, "MeanGap", MeanGap, raising=False)
    monkeypatch.setattr(distances, "__all__", [*distances.__all__, "MeanGap"])
    prior = make_prior("depth", "MeanGap", 1.0)
    assert isinstance(prior.distance, MeanGap)
    # Closed-form depth priors compare 8x8 log-depth patches.
    assert prior.transform(torch.zeros(2, 1, 16, 32)).shape == (2 * 2 * 4, 64)
    motion = make_prior("motion", "MeanGap", 1.0)
    assert motion.transform(torch.zeros(3, 6)).shape == (3, 12)
    with pytest.raises(ConfigError, match="'nope' is not usable here; choose one of adversarial"):
        make_distance("nope", lambda: torch.nn.Linear(1, 1))


def test_every_listed_distance_builds_working_priors() -> None:
    """Each name of ``distance_names`` builds depth and motion priors that give a finite
    generator loss; distances that need more than ``(a, b)`` are refused with the list."""
    names = distance_names()
    assert {"adversarial", "MMD", "DualAdversarialDistance", "Sinkhorn"} <= set(names)
    assert "FlowLRMF" not in names and "AdversarialDistance" not in names
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
    with pytest.raises(ConfigError, match=r"'FlowLRMF' is not usable here.*MMD"):
        make_prior("depth", "FlowLRMF", 1.0)


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
