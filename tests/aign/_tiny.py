"""Tiny AIGN tasks with one batch each, for the family's contract test (and any test that
needs a task that trains in a few milliseconds). Each builder returns ``(task, batch)``."""

from __future__ import annotations

from typing import Any

import torch

from unpaired.aign.core import AIGN
from unpaired.aign.pose import LiftingTask, Memories, PairedViews, make_test_set, pose_prior
from unpaired.aign.sfm import SfMGenerator, SfMTask, depth_prior, motion_prior
from unpaired.data.pose2d import CameraDistribution
from unpaired.data.synthetic.scenes import street_motions, street_pair_set
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.distances import MMD, AdversarialDistance
from unpaired.models.pose import LiftingGenerator, PoseBasis, PoseCritic
from unpaired.models.sfm import DepthCritic, MotionCritic


def lifting_task(*, prior: str = "logistic") -> tuple[LiftingTask, dict[str, Any]]:
    """AIGN pose lifting (Sup1+2+3+4) with a logistic critic (two players) or MMD."""
    g = torch.Generator().manual_seed(0)
    poses = sample_poses(64, generator=g)
    test = make_test_set(
        {"t": poses[:16]}, cameras=CameraDistribution(), noise=(5.0, 0.05), generator=g
    )
    if prior == "logistic":
        distance = pose_prior(AdversarialDistance(PoseCritic(hidden=8, layers=1), loss="logistic"))
    else:
        distance = pose_prior(MMD(), features="lengths")
    task = LiftingTask(
        LiftingGenerator(PoseBasis.fit(poses, num_components=8), hidden=8, blocks=1),
        {"pose": distance},
        beta=0.1,
        recon_weight=1.0,
        eval_inputs=test.exact,
        eval_target=test.target,
    )
    batch = {
        "x": test.exact[:8],
        "paired": PairedViews(poses, batch_size=8, cameras=CameraDistribution()).sample(g),
        "memories": {"pose": Memories(poses, batch_size=8).sample(g)},
    }
    return task, batch


def generic_aign() -> tuple[AIGN, dict[str, Any]]:
    """The plain AIGN of Eq. 1: a linear generator, a fixed linear renderer, a critic."""
    torch.manual_seed(0)
    gen = torch.nn.Linear(3, 2)
    task = AIGN(
        gen,
        lambda p, b: p["output"] @ torch.ones(2, 3),
        {"output": AdversarialDistance(torch.nn.Linear(2, 1), loss="logistic")},
    )
    return task, {"x": torch.randn(8, 3), "memories": {"output": torch.randn(8, 2)}}


def sfm_task(*, ema: float = 0.0, depth_lr_scale: float = 1.0) -> tuple[SfMTask, dict[str, Any]]:
    """The SfM AIGN with both critics and the smoothness term, on 4 pairs at 16 x 48."""
    torch.manual_seed(0)
    pairs = street_pair_set([3], n_frames=5, height=16, width=48)
    net = SfMGenerator(
        depth_channels=(4, 8), ego_channels=(4, 8), init_depth=10.0, angle_scale=0.05
    )
    task = SfMTask(
        net,
        pairs,
        priors={
            "depth": depth_prior(
                AdversarialDistance(DepthCritic(channels=(4, 8, 8)), loss="logistic"),
                on_patches=False,
            ),
            "motion": motion_prior(
                AdversarialDistance(MotionCritic(hidden=(8,)), loss="logistic"), 0.5
            ),
        },
        beta=0.1,
        smoothness=0.2,
        ema=ema,
        depth_lr_scale=depth_lr_scale,
    )
    memories = {"depth": pairs.depth.log(), "motion": street_motions([5])[:4]}
    batch = {"x": pairs.inputs, "intrinsics": pairs.intrinsics, "memories": memories}
    return task, batch
