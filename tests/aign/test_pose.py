"""aign.pose: the lifting task, its data sources, renderer, prior and scores."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _tiny import lifting_task

from unpaired.aign.pose import (
    LiftingTask,
    Memories,
    PairedViews,
    make_test_set,
    pose_prior,
    reproject,
)
from unpaired.data.pose2d import CameraDistribution
from unpaired.data.skeleton import bone_lengths
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.distances import MMD
from unpaired.geometry import unproject
from unpaired.models.pose import LiftingGenerator, PoseBasis, align_poses, pose_features


def _poses(n: int, seed: int = 0) -> torch.Tensor:
    return sample_poses(n, generator=torch.Generator().manual_seed(seed))


def test_paired_views_are_deterministic_root_relative_and_split_by_rank() -> None:
    source = PairedViews(_poses(200), batch_size=8, cameras=CameraDistribution())
    one = source.sample(torch.Generator().manual_seed(5), world_size=2)
    again = source.sample(torch.Generator().manual_seed(5), world_size=2)
    torch.testing.assert_close(one, again)
    assert one["x"].shape == (8, 17, 2) and one["pose"].shape == (8, 17, 3)
    torch.testing.assert_close(one["pose"][:, 0], torch.zeros(8, 3))
    assert torch.all((one["depth"] > 3.0) & (one["depth"] < 7.0))
    other = source.sample(torch.Generator().manual_seed(5), rank=1, world_size=2)
    assert not torch.allclose(one["x"], other["x"])


def test_memories_are_aligned_training_poses_with_jittered_bones() -> None:
    data = _poses(50)
    plain = Memories(data, batch_size=16).sample(torch.Generator().manual_seed(0))
    torch.testing.assert_close(plain[:, 0], torch.zeros(16, 3))
    hips = plain[:, 4] - plain[:, 1]  # left minus right hip: along +x after alignment
    assert torch.all(hips[:, 0] > 0) and hips[:, 2].abs().max() < 1e-5
    jittered = Memories(data, batch_size=16, length_std=0.05).sample(
        torch.Generator().manual_seed(0)
    )
    ratio = bone_lengths(jittered) / bone_lengths(plain)
    assert 0.01 < float((ratio - 1).abs().mean()) < 0.1


def test_perfect_prediction_has_zero_reconstruction_and_paired_loss() -> None:
    data = _poses(40)
    test = make_test_set(
        {"a": data[:20], "b": data[20:]},
        cameras=CameraDistribution(principal_jitter=0.0),
        noise=(5.0, 0.05),
        generator=torch.Generator().manual_seed(2),
    )
    assert test.take_names == ("a", "b") and test.take.tolist() == [0] * 20 + [1] * 20
    assert not torch.allclose(test.exact, test.noisy)
    assert test.take_means(test.take.float()) == [0.0, 1.0]
    with pytest.raises(ValueError, match="setting must be 'exact' or 'noisy'"):
        test.inputs("blurry")
    view = PairedViews(data, batch_size=20, cameras=CameraDistribution(principal_jitter=0.0))
    paired = view.sample(torch.Generator().manual_seed(3))
    root = unproject(paired["x"][:, :1], paired["depth"][:, None], paired["focal"], 500.0)
    truth = {
        "pose_3d": paired["pose"] + root,
        "focal": paired["focal"],
        "principal": torch.full((20, 2), 500.0),
    }
    rendered = reproject(truth, {"x": paired["x"]})
    torch.testing.assert_close(rendered.rendered, rendered.target, atol=1e-4, rtol=0)


def test_lifting_task_losses_by_stage() -> None:
    aign, batch = lifting_task()
    data = _poses(300)

    def task(**kw) -> LiftingTask:
        gen = LiftingGenerator(PoseBasis.fit(data), hidden=16, blocks=1)
        return LiftingTask(gen, eval_inputs=aign.eval_inputs, eval_target=aign.eval_target, **kw)

    assert set(task().generator_losses(batch)) == {"supervised/pose", "supervised/camera"}
    interp = task(recon_weight=1.0).generator_losses(batch)
    assert set(interp) == {"reconstruction", "supervised/pose", "supervised/camera"}
    assert "prior/pose" in aign.generator_losses(batch)
    assert set(aign.critic_losses(batch)) == {"prior/pose"}
    assert aign.critic_parameters() and all(
        id(p) not in {id(q) for q in aign.critic_parameters()} for p in aign.generator_parameters()
    )
    metrics = aign.evaluate()
    assert set(metrics) == {"torso", "mpjpe", "p_mpjpe", "n_mpjpe", "reproj_px"}
    assert all(math.isfinite(v) for v in metrics.values())
    mmd, _ = lifting_task(prior="mmd")
    loss = mmd.generator_losses(batch)["prior/pose"]
    assert math.isfinite(loss.item()) and not mmd.critic_parameters()


def test_pose_prior_on_features_compares_features_of_aligned_poses() -> None:
    a, b = _poses(12, seed=1), _poses(12, seed=2)
    prior = pose_prior(MMD(), weight=0.5, features="lengths")
    assert prior.prediction == "shape" and prior.weight == 0.5
    expected = MMD()(
        pose_features(align_poses(a), features="lengths"),
        pose_features(align_poses(b), features="lengths"),
    )
    torch.testing.assert_close(prior.distance(prior.transform(a), prior.transform(b)), expected)
    plain = pose_prior(MMD())
    torch.testing.assert_close(plain.transform(a), align_poses(a))
