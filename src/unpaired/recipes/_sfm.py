"""Training of the ``sfm-scenes`` recipe (AIGN Sec. 2.2 and 3.2): the models, in order.

* :func:`train_scratch`: AIGN, depth-AIGN, smooth-IGN and IGN, self-supervised from
  scratch on the training streets (Fig. 3);
* :func:`train_pretrained`: supervised pretraining on the training streets, then
  self-supervised finetuning on the test sequence's own unlabelled pairs (Table 3);
* :func:`make_prior`: a depth or camera-motion prior from a distance name
  (:data:`~unpaired.recipes._names.SFM_PRIORS`).

The task, renderer and evaluation are :mod:`unpaired.aign.sfm`; the tables and figures
:mod:`unpaired.recipes._sfm_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from unpaired.aign.core import Fixed, Paired, Prior
from unpaired.aign.sfm import SfMGenerator, SfMTask, depth_prior, motion_prior
from unpaired.data.flow import PairSet
from unpaired.distances import AdversarialDistance
from unpaired.engine import FitResult, TensorSampler, TrainConfig, Unpaired
from unpaired.models.sfm import DepthCritic, MotionCritic
from unpaired.recipes._names import SFM_PRIORS, family_distance
from unpaired.recipes.base import RunContext

#: The from-scratch models (Fig. 3) and what each one has: priors, smoothness.
SCRATCH = {
    "AIGN": {"depth_prior": True, "motion_prior": True},
    "depth-AIGN": {"depth_prior": True, "motion_prior": False},
    "smooth-IGN": {"depth_prior": False, "motion_prior": False, "smooth": True},
    "IGN": {"depth_prior": False, "motion_prior": False},
}


@dataclass
class Memories:
    """The priors' memories: log depth maps (N, 1, H, W) and motions (M, 6) of streets
    that are neither training nor test streets."""

    depth: torch.Tensor
    motion: torch.Tensor


def make_prior(kind: str, name: str, weight: float) -> Prior:
    """The depth (``kind="depth"``) or camera-motion (``"motion"``) prior of Sec. 2.2 with
    the distance ``name`` of :data:`~unpaired.recipes._names.SFM_PRIORS`: a critic-based
    name gets the paper's critics (:class:`DepthCritic` on whole log-depth maps,
    :class:`MotionCritic` on ``[R | T]``); a closed-form distance compares 8x8 log-depth
    patches and the 12 numbers of ``[R | T]``."""
    if kind == "depth":
        distance = family_distance(SFM_PRIORS, name, kind="SfM prior", critic=DepthCritic)
        critic = isinstance(distance, AdversarialDistance)
        return depth_prior(distance, weight, on_patches=not critic)
    if kind == "motion":
        distance = family_distance(SFM_PRIORS, name, kind="SfM prior", critic=MotionCritic)
        return motion_prior(distance, weight)
    raise ValueError(f"kind must be 'depth' or 'motion', got {kind!r}")


def generator(cfg: Any) -> SfMGenerator:
    """A new :class:`SfMGenerator` of the recipe's sizes (from the global RNG: build it
    inside ``ctx.seeded(name)``)."""
    return SfMGenerator(
        depth_channels=cfg.depth_channels,
        ego_channels=cfg.ego_channels,
        init_depth=cfg.init_depth,
        angle_scale=cfg.angle_scale,
    )


def self_supervised(
    cfg: Any,
    net: SfMGenerator,
    eval_pairs: PairSet,
    *,
    depth_prior: bool,
    motion_prior: bool,
    smooth: bool = False,
    finetune: bool = False,
) -> SfMTask:
    """A self-supervised SfM task: from scratch, or (``finetune``) with the finetuning
    weights and the depth network's reduced learning rate. Builds the priors' critics
    after ``net`` (from the global RNG)."""
    beta = cfg.finetune_beta if finetune else cfg.beta
    motion_weight = cfg.finetune_motion_prior_weight if finetune else cfg.motion_prior_weight
    priors = {}
    if depth_prior:
        priors["depth"] = make_prior("depth", cfg.depth_prior, 1.0)
    if motion_prior:
        priors["motion"] = make_prior("motion", cfg.motion_prior, motion_weight)
    return SfMTask(
        net,
        eval_pairs,
        priors=priors,
        beta=beta,
        smoothness=cfg.smoothness if smooth else 0.0,
        blur_sigma=cfg.blur_sigma,
        depth_lr_scale=cfg.finetune_depth_lr_scale if finetune else 1.0,
        ema=cfg.ema,
    )


def unlabelled(
    inputs: torch.Tensor, intrinsics: torch.Tensor, memories: Memories, *, batch_size: int
) -> Unpaired:
    """Self-supervised batches: unlabelled inputs, the intrinsics and both memories."""
    return Unpaired(
        {
            "x": TensorSampler(inputs, batch_size=batch_size),
            "intrinsics": Fixed(intrinsics),
            "memories": Unpaired(
                {
                    "depth": TensorSampler(memories.depth, batch_size=batch_size),
                    "motion": TensorSampler(memories.motion, batch_size=batch_size),
                }
            ),
        }
    )


def train_scratch(
    cfg: Any, ctx: RunContext, train: PairSet, test: PairSet, memories: Memories
) -> dict[str, tuple[SfMTask, FitResult]]:
    """The from-scratch models of :data:`SCRATCH` (checkpoints ``scratch-<name>``), every
    one from the same initial weights: each is built in ``ctx.seeded("scratch")``, so the
    generators (and the critics a model shares with another) start alike."""
    data = unlabelled(train.inputs, test.intrinsics, memories, batch_size=cfg.batch_size)
    out = {}
    for name, kw in SCRATCH.items():
        with ctx.seeded("scratch"):  # every model starts from the same weights
            task = self_supervised(cfg, generator(cfg), test, **kw)
        out[name] = (task, ctx.fit(f"scratch-{name}", task, data, cfg.scratch))
    return out


def pretrain(cfg: Any, ctx: RunContext, train: PairSet, test: PairSet) -> tuple[SfMTask, FitResult]:
    """Supervised pretraining on ``train``'s true log depth and motion (checkpoint
    ``pretrain``, initial weights from ``ctx.seeded("pretrain")``), evaluated on ``test``."""
    with ctx.seeded("pretrain"):
        pre = pretrained(generator(cfg), test)
    targets = {
        "log_depth": train.depth.log(),
        "motion_unit": train.motion / pre.generator.egomotion.scale,
    }
    extras = {"intrinsics": test.intrinsics}
    batches = Paired(train.inputs, targets, batch_size=cfg.batch_size, extras=extras)
    return pre, ctx.fit("pretrain", pre, batches, cfg.pretrain)


def pretrained(net: SfMGenerator, test: PairSet) -> SfMTask:
    """The supervised task of :func:`pretrain` around ``net`` (also: a loaded pretrained
    generator, evaluated without training)."""
    return SfMTask(
        net, test, recon_weight=0.0, beta=0.0, supervised={"log_depth": 1.0, "motion_unit": 1.0}
    )


def finetune(
    cfg: Any,
    ctx: RunContext,
    pre: SfMTask,
    test: PairSet,
    memories: Memories,
    *,
    name: str = "pretrain-selfsup",
    build: Callable[[], SfMGenerator] | None = None,
) -> tuple[SfMTask, FitResult]:
    """Self-supervised finetuning of ``pre``'s generator on ``test``'s unlabelled pairs
    (checkpoint ``name``): Eq. 3 and the camera-motion prior, the depth prior only when
    the depth network is not frozen. The critics come from ``ctx.seeded(name)``, after a
    generator of the recipe's sizes (``build``: another constructor, e.g. of a loaded
    network's architecture) whose weights are then overwritten by ``pre``'s."""
    with ctx.seeded(name):  # the critics; the generator is overwritten
        fine = self_supervised(
            cfg,
            generator(cfg) if build is None else build(),
            test,
            depth_prior=cfg.finetune_depth_lr_scale > 0,  # a frozen depth net needs no prior
            motion_prior=True,
            finetune=True,
        )
    fine.generator.load_state_dict(pre.generator.state_dict())
    data = unlabelled(test.inputs, test.intrinsics, memories, batch_size=cfg.batch_size)
    return fine, ctx.fit(name, fine, data, cfg.finetune)


def train_pretrained(
    cfg: Any, ctx: RunContext, train: PairSet, test: PairSet, memories: Memories
) -> tuple[tuple[SfMTask, FitResult], tuple[SfMTask, FitResult]]:
    """Supervised pretraining on the training streets (:func:`pretrain`), then
    self-supervised finetuning on the test sequence's unlabelled pairs from the
    pretrained weights (:func:`finetune`)."""
    pre, pre_fit = pretrain(cfg, ctx, train, test)
    return (pre, pre_fit), finetune(cfg, ctx, pre, test, memories)


def pretrain_config() -> TrainConfig:
    """Default schedule of the supervised pretraining on procedural streets (both recipes)."""
    return TrainConfig(steps=600, lr=3e-4, log_every=50, eval_every=200, checkpoint_every=300)


def finetune_config() -> TrainConfig:
    """Default schedule of the self-supervised finetuning (both recipes)."""
    return TrainConfig(
        steps=1000,
        lr=3e-4,
        critic_lr=2e-4,
        betas=(0.5, 0.999),
        log_every=50,
        eval_every=100,
        checkpoint_every=500,
    )
