"""aign.sfm: the SfM task, its renderer, priors and evaluation."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import sfm_task

from unpaired.aign import reconstruction_loss
from unpaired.aign.sfm import (
    CURVE_KEYS,
    WarpRenderer,
    depth_patches,
    depth_prior,
    evaluate_predictions,
    motion_prior,
)
from unpaired.data.synthetic.scenes import street_pair_set
from unpaired.distances import MMD, AdversarialDistance
from unpaired.engine import TrainConfig
from unpaired.models.sfm import DepthCritic


@pytest.fixture(scope="module")
def pairs():
    return street_pair_set([3], n_frames=6, height=32, width=96)


def test_true_depth_and_motion_score_perfectly(pairs) -> None:
    m = evaluate_predictions(pairs.depth.log(), pairs.motion, pairs)
    for key in ("depth_log_l1", "depth_abs_rel", "log_scale", "trl_err", "rot_err", "trl_mag"):
        assert abs(m[key]) < 1e-3, key
    assert m["depth_delta1"] == 1.0
    assert m["photometric"] < 0.1
    wrong = evaluate_predictions(pairs.depth.log() + math.log(2.0), 2 * pairs.motion, pairs)
    assert wrong["log_scale"] == pytest.approx(math.log(2.0), abs=1e-4)
    # log 2 per pixel, less where predictions are clamped to the 80 m evaluation cap
    assert 0.6 < wrong["depth_log_l1"] <= math.log(2.0) + 1e-4
    assert wrong["depth_med_log_l1"] < 1e-3  # median scaling removes a global scale


def test_reconstruction_cannot_see_scale_but_the_depth_prior_can(pairs) -> None:
    """Scale ambiguity (Sec. 3.2): depth x s with translation x s renders the same image;
    a depth prior scores the two differently."""
    batch = {"x": pairs.inputs, "intrinsics": pairs.intrinsics}
    true = {"log_depth": pairs.depth.log(), "motion": pairs.motion}
    scaled_motion = pairs.motion.clone()
    scaled_motion[:, 3:] *= 3.0
    scaled = {"log_depth": pairs.depth.log() + math.log(3.0), "motion": scaled_motion}
    for renderer in (WarpRenderer(), WarpRenderer(blur_sigma=1.5)):
        losses = []
        for pred in (true, scaled):
            r = renderer(pred, batch)
            losses.append(reconstruction_loss(r.rendered, r.target, kind="l1", mask=r.mask))
        torch.testing.assert_close(losses[0], losses[1], rtol=1e-4, atol=1e-5)
    prior = depth_prior(AdversarialDistance(DepthCritic(), loss="logistic"), on_patches=False)
    critic_in = [prior.distance.critic(p["log_depth"]) for p in (true, scaled)]
    assert not torch.allclose(critic_in[0], critic_in[1])
    with pytest.raises(ValueError, match="blur_sigma"):
        WarpRenderer(blur_sigma=-1.0)


def test_task_losses_players_and_evaluation() -> None:
    task, batch = sfm_task()
    losses = task.generator_losses(batch)
    assert set(losses) == {"reconstruction", "prior/depth", "prior/motion", "smoothness"}
    assert all(torch.isfinite(v) and v.dim() == 0 for v in losses.values())
    assert set(task.critic_losses(batch)) == {"prior/depth", "prior/motion"}
    critic = {id(p) for p in task.critic_parameters()}
    assert critic and not critic & {id(p) for p in task.generator_parameters()}
    metrics = task.evaluate()
    assert set(metrics) == set(CURVE_KEYS)
    assert all(math.isfinite(v) for v in metrics.values())
    # the smoothness term is computed from the same predictions, nothing is cached
    assert not any(k.startswith("_last") for k in vars(task))


def test_closed_form_priors_compare_patches_and_motion_matrices() -> None:
    depth = depth_prior(MMD(), on_patches=True)
    assert depth.transform is depth_patches and depth.prediction == "log_depth"
    assert depth.transform(torch.zeros(2, 1, 16, 32)).shape == (2 * 2 * 4, 64)
    motion = motion_prior(MMD(), 0.5)
    assert motion.weight == 0.5 and motion.transform(torch.zeros(3, 6)).shape == (3, 12)


def test_weight_average_and_depth_learning_rate() -> None:
    task, batch = sfm_task(ema=0.5, depth_lr_scale=0.0)
    opt = task.configure_optimizers(TrainConfig(steps=1, lr=1e-3))
    lrs = [g["lr"] for g in opt["generator"].param_groups]
    assert lrs == [1e-3, 0.0] and "critic" in opt
    task.train()
    task.generator_losses(batch)  # first update copies the weights
    for avg, w in zip(task.averaged.parameters(), task.generator.parameters(), strict=True):
        torch.testing.assert_close(avg, w.detach())
    assert int(task.ema_updates) == 1 and task.eval_generator is task.averaged
