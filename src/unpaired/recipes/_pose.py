"""What ``pose-cmu`` and ``pose-synthetic`` share: the AIGN pose-lifting ladder (Sec. 3.1).

One *setting* (exact or noisy 2D inputs, Tables 1 and 2) trains, in order:

- ``Martinez MLP``: a supervised residual MLP (Martinez et al. 2017) on Sup1+2.
- ``Forward2Dto3D``: the AIGN generator (:class:`LiftingGenerator`: PCA weights, focal,
  Euler angles, depth) trained on Sup1+2 only.
- ``3D interpreter``: Forward2Dto3D's weights, finetuned with Sup1+2 plus the
  reprojection loss on the unlabelled test 2D (Sup3).
- ``AIGN``: the 3D interpreter's weights, finetuned with Sup1+2+3 plus the prior on the
  predicted 3D skeleton against memories of training poses (Sup4), for each prior kind
  (the paper's logistic critic; MMD and the dual adversarial distance of the thesis).

Data: **Sup1 + Sup2** (:class:`~unpaired.aign.pose.PairedViews`) are training poses
(world frame, metres) seen by random virtual cameras, a fraction first perturbed (Sup1,
Wu et al.'s synthetic augmentation). **Sup3** is the test 2D; **Sup4**'s memories
(:class:`~unpaired.aign.pose.Memories`) are training poses, never a test pose. Test 3D is
used only by ``evaluate``. The task, data sources and scores are :mod:`unpaired.aign.pose`;
this module is the configuration and the training order, :mod:`unpaired.recipes._pose_report`
the settings' tables and figures.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from unpaired.aign.core import Prior
from unpaired.aign.pose import (
    LiftingTask,
    Memories,
    PairedViews,
    RelativePose,
    TestSet,
    pose_errors,
    pose_prior,
    reprojection_px,
)
from unpaired.data.pose2d import CameraDistribution
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.models.pose import (
    CriticFeatures,
    LiftingGenerator,
    MartinezLifter,
    PoseBasis,
    PoseCritic,
)
from unpaired.recipes._names import POSE_PRIORS, family_distance
from unpaired.recipes.base import RunContext

PriorKind = Literal["logistic", "mmd", "dual"]
_PRIOR_MODEL = {"logistic": "aign", "mmd": "aign-mmd", "dual": "aign-dual"}

#: Row labels of the models, in table order.
LABELS: dict[str, str] = {
    "martinez": "Martinez MLP (Sup1+2)",
    "forward2dto3d": "Forward2Dto3D (Sup1+2)",
    "interpreter": "3D interpreter (Sup1+2+3)",
    "aign": "AIGN (Sup1+2+3+4, logistic prior)",
    "aign-mmd": "AIGN, MMD prior",
    "aign-dual": "AIGN, dual adversarial prior",
}


@dataclass
class LadderResult:
    """The trained tasks of one setting, by model key (see :data:`LABELS`), their
    per-sample errors on the test set (mm) and mean reprojection errors (px; None for a
    model without a camera)."""

    tasks: dict[str, LiftingTask]
    errors: dict[str, dict[str, torch.Tensor]]
    reproj: dict[str, float | None]


@dataclass(frozen=True)
class CameraRig:
    """The configuration form (degrees) of a uniform virtual camera distribution
    (:class:`~unpaired.data.pose2d.CameraDistribution`): ranges of the pitch (camera above
    the person looking down is positive) and roll in degrees, the distance of the person's
    root in metres and the focal length in pixels. Yaw is uniform over the full circle,
    images are 1000 x 1000 px."""

    pitch_deg: tuple[float, float] = (-5.0, 20.0)
    roll_deg: tuple[float, float] = (-3.0, 3.0)
    distance: tuple[float, float] = (4.0, 6.0)
    focal: tuple[float, float] = (1000.0, 1200.0)

    def distribution(self) -> CameraDistribution:
        return CameraDistribution(
            pitch=(math.radians(self.pitch_deg[0]), math.radians(self.pitch_deg[1])),
            roll=(math.radians(self.roll_deg[0]), math.radians(self.roll_deg[1])),
            distance=self.distance,
            focal=self.focal,
        )


#: Training rig (Sup1, Sup2): close to the Human3.6M cameras.
TRAIN_CAMERAS = CameraRig()
#: Test rig: new cameras, mounted higher, closer, with other lenses.
TEST_CAMERAS = CameraRig(pitch_deg=(15.0, 45.0), distance=(3.0, 5.0), focal=(900.0, 1300.0))


@dataclass(frozen=True)
class Ladder:
    """Models and training of the ladder; the defaults were chosen on the validation split
    (held-out takes of a training subject, see docs/POSE.md), never on the test subject."""

    hidden: int = 256  # width of the residual MLP trunks (generator and Martinez)
    blocks: int = 2
    components: int = 32  # PCA components: the paper's 60/96 ratio of 3 x 17
    martinez_dropout: float = 0.25
    batch_size: int = 256
    sup1_fraction: float = 0.5  # share of perturbed skeletons among the paired views
    length_std: float = 0.05  # Sup1 bone length perturbation (relative std)
    angle_std_deg: float = 10.0  # Sup1 bone direction perturbation (std, degrees)
    noise_px: float = 5.0  # noisy setting: Gaussian pixel noise (std)
    swap_prob: float = 0.05  # noisy setting: left/right swap probability per joint pair
    paired_weight: float = 1.0  # weight of the Sup1+2 terms (also while finetuning)
    camera_weight: float = 0.1  # weight of the focal/depth part of the Sup1+2 terms
    recon_weight: float = 1.0  # weight of the reprojection loss (normalised 2D units)
    beta: float = 0.03  # weight of the prior (Eq. 1)
    critic_features: CriticFeatures = "lengths"  # what the prior looks at
    critic_hidden: int = 128
    critic_layers: int = 2
    memory_length_std: float = 0.02  # bone length jitter of the memories
    mmd_weight: float = 1.0  # the MMD prior's weight relative to beta
    dual_weight: float = 1.0  # the dual adversarial prior's weight relative to beta
    dual_lam: float = 1.0  # the dual adversarial distance's regularisation (its lam)
    supervised: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000, lr=1e-3, betas=(0.9, 0.999), log_every=50, eval_every=500
        )
    )
    finetune: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000,
            lr=1e-4,
            critic_lr=1e-4,
            betas=(0.5, 0.999),
            log_every=50,
            eval_every=250,
        )
    )

    def noise(self, setting: str) -> tuple[float, float] | None:
        return (self.noise_px, self.swap_prob) if setting == "noisy" else None


def make_prior(kind: PriorKind, cfg: Ladder) -> Prior:
    """The Sup4 prior (:func:`~unpaired.aign.pose.pose_prior`), its distance named by
    :data:`~unpaired.recipes._names.POSE_PRIORS`: the paper's logistic critic
    (:class:`PoseCritic` on ``cfg.critic_features``), or MMD / the dual adversarial distance
    (RBF kernels, median bandwidth) on the same features."""
    distance = family_distance(
        POSE_PRIORS,
        kind,
        kind="pose prior",
        critic=lambda: PoseCritic(
            hidden=cfg.critic_hidden, layers=cfg.critic_layers, features=cfg.critic_features
        ),
        options={"mmd": {"kernel": "rbf"}, "dual-rbf": {"lam": cfg.dual_lam}},
    )
    if kind == "logistic":  # the critic computes the features itself
        return pose_prior(distance)
    weight = {"mmd": cfg.mmd_weight, "dual": cfg.dual_weight}[kind]
    return pose_prior(distance, weight=weight, features=cfg.critic_features)


def run_ladder(
    ctx: RunContext,
    prefix: str,
    train_poses: torch.Tensor,
    test: TestSet,
    setting: str,
    cfg: Ladder,
    *,
    cameras: CameraDistribution,
    models: Sequence[str],
) -> LadderResult:
    """Train the ladder models ``models`` (keys of :data:`LABELS`) of one setting with
    ``ctx.fit`` (checkpoint names ``<prefix>-<model>``); each of Forward2Dto3D -> 3D
    interpreter -> AIGN starts from the previous one's weights. New networks draw their
    initial weights from ``ctx.seeded(<prefix>-<model>)``, so a model starts the same
    whichever other models the run trains."""
    x = test.inputs(setting)
    paired = PairedViews(
        train_poses,
        batch_size=cfg.batch_size,
        cameras=cameras,
        sup1_fraction=cfg.sup1_fraction,
        length_std=cfg.length_std,
        angle_std=math.radians(cfg.angle_std_deg),
        noise=cfg.noise(setting),
    )
    inputs = TensorSampler(x, batch_size=cfg.batch_size)
    memories = Memories(train_poses, batch_size=cfg.batch_size, length_std=cfg.memory_length_std)

    def task(generator: nn.Module, *, recon: bool, prior: Prior | None = None) -> LiftingTask:
        return LiftingTask(
            generator,
            None if prior is None else {"pose": prior},
            beta=cfg.beta if prior is not None else 0.0,
            recon_weight=cfg.recon_weight if recon else 0.0,
            paired_weight=cfg.paired_weight,
            camera_weight=cfg.camera_weight,
            eval_inputs=x,
            eval_target=test.target,
        )

    tasks: dict[str, LiftingTask] = {}
    if "martinez" in models:
        with ctx.seeded(f"{prefix}-martinez"):
            lifter = MartinezLifter(
                hidden=cfg.hidden, blocks=cfg.blocks, dropout=cfg.martinez_dropout
            )
        tasks["martinez"] = task(RelativePose(lifter), recon=False)
        ctx.fit(
            f"{prefix}-martinez", tasks["martinez"], Unpaired({"paired": paired}), cfg.supervised
        )
    basis = PoseBasis.fit(train_poses, num_components=cfg.components)
    with ctx.seeded(f"{prefix}-forward2dto3d"):
        generator = LiftingGenerator(basis, hidden=cfg.hidden, blocks=cfg.blocks)
    tasks["forward2dto3d"] = task(generator, recon=False)
    ctx.fit(
        f"{prefix}-forward2dto3d",
        tasks["forward2dto3d"],
        Unpaired({"paired": paired}),
        cfg.supervised,
    )
    if "interpreter" in models or any(m.startswith("aign") for m in models):
        tasks["interpreter"] = task(copy.deepcopy(generator), recon=True)
        ctx.fit(
            f"{prefix}-interpreter",
            tasks["interpreter"],
            Unpaired({"x": inputs, "paired": paired}),
            cfg.finetune,
        )
    for kind, model in _PRIOR_MODEL.items():
        if model not in models:
            continue
        start = copy.deepcopy(tasks["interpreter"].generator)
        with ctx.seeded(f"{prefix}-{model}"):
            prior = make_prior(kind, cfg)  # type: ignore[arg-type]
        tasks[model] = task(start, recon=True, prior=prior)
        data = Unpaired({"x": inputs, "paired": paired, "memories": Unpaired({"pose": memories})})
        ctx.fit(f"{prefix}-{model}", tasks[model], data, cfg.finetune)
    keep = {m: tasks[m] for m in LABELS if m in tasks and m in models}
    errors, reproj = {}, {}
    for m, t in keep.items():
        out = t.outputs()
        errors[m] = pose_errors(out["pose_rel"], test.target)
        reproj[m] = float(reprojection_px(out, x).mean()) if "focal" in out else None
    return LadderResult(keep, errors, reproj)


def ladder_models(martinez: bool, extra_priors: Sequence[str]) -> tuple[str, ...]:
    """The model keys (:data:`LABELS`) a recipe trains: the Martinez MLP if asked, the
    three ladder models, and AIGN with each extra prior (``"mmd"``, ``"dual"``)."""
    extra = tuple(f"aign-{p}" for p in extra_priors)
    return ("martinez",) * martinez + ("forward2dto3d", "interpreter", "aign") + extra
