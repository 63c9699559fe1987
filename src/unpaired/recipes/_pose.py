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

Data: **Sup1 + Sup2** (:class:`PairedViews`) are training poses (world frame, metres)
seen by random virtual cameras, a fraction first perturbed (Sup1, Wu et al.'s synthetic
augmentation). **Sup3** is the test 2D; **Sup4**'s memories (:class:`Memories`) are
training poses, never a test pose. Test 3D is used only by ``evaluate``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn

from unpaired.aign import AIGN, Prior, Rendered
from unpaired.data.pose2d import (
    CameraDistribution,
    corrupt_2d,
    normalize_2d,
    perturb_skeleton,
    project_poses,
    sample_cameras,
    view_poses,
)
from unpaired.data.skeleton import (
    H36M17_BONES,
    MIRROR_PERMUTATION,
    NUM_JOINTS,
    ROOT,
    bone_vectors,
    from_bone_vectors,
)
from unpaired.distances import Distance
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.metrics.pose import face_front, mpjpe, n_mpjpe, p_mpjpe, torso_aligned_error
from unpaired.models.pose import (
    CriticFeatures,
    LiftingGenerator,
    MartinezLifter,
    PoseBasis,
    PoseCritic,
    align_poses,
    pose_features,
)
from unpaired.recipes._names import POSE_PRIORS, family_distance
from unpaired.recipes.base import RunContext
from unpaired.renderers.projection import project
from unpaired.report import Figure, Table

Setting = Literal["exact", "noisy"]
PriorKind = Literal["logistic", "mmd", "dual"]
#: Metric keys (as logged under ``eval/``) and their column names, the paper's first.
METRICS: dict[str, str] = {
    "torso": "torso-aligned",
    "mpjpe": "MPJPE",
    "p_mpjpe": "P-MPJPE",
    "n_mpjpe": "N-MPJPE",
}
#: Row labels of the models, in table order.
LABELS: dict[str, str] = {
    "martinez": "Martinez MLP (Sup1+2)",
    "forward2dto3d": "Forward2Dto3D (Sup1+2)",
    "interpreter": "3D interpreter (Sup1+2+3)",
    "aign": "AIGN (Sup1+2+3+4, logistic prior)",
    "aign-mmd": "AIGN, MMD prior",
    "aign-dual": "AIGN, dual adversarial prior",
}
_PRIOR_MODEL = {"logistic": "aign", "mmd": "aign-mmd", "dual": "aign-dual"}


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Cameras:
    """A uniform virtual camera distribution (:class:`CameraDistribution`): ranges of the
    pitch (camera above the person looking down is positive) and roll in degrees, the
    distance of the person's root in metres and the focal length in pixels. Yaw is
    uniform over the full circle, images are 1000 x 1000 px."""

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
TRAIN_CAMERAS = Cameras()
#: Test rig: new cameras, mounted higher, closer, with other lenses.
TEST_CAMERAS = Cameras(pitch_deg=(15.0, 45.0), distance=(3.0, 5.0), focal=(900.0, 1300.0))


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


# --------------------------------------------------------------------------- data


class PairedViews:
    """Sup1 + Sup2 paired views, drawn fresh from the step's generator.

    Each row is a training pose (N, J, 3) (world frame, y up, metres), perturbed with
    probability ``sup1_fraction`` (:func:`perturb_skeleton`), seen by a random camera from
    ``cameras`` and, with ``noise`` = (pixel std, swap probability), corrupted like a
    detector (:func:`corrupt_2d`). ``sample`` returns ``{"x": (B, J, 2) pixels, "pose":
    (B, J, 3) root-relative camera-frame pose, "focal": (B,), "depth": (B,) root depth}``.
    """

    def __init__(
        self,
        poses: torch.Tensor,
        *,
        batch_size: int,
        cameras: CameraDistribution,
        sup1_fraction: float = 0.5,
        length_std: float = 0.05,
        angle_std: float = math.radians(10.0),
        noise: tuple[float, float] | None = None,
    ) -> None:
        self.poses = poses
        self.batch_size = batch_size
        self.cameras = cameras
        self.sup1_fraction = sup1_fraction
        self.length_std = length_std
        self.angle_std = angle_std
        self.noise = noise

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, torch.Tensor]:
        n = self.batch_size * world_size
        poses = self.poses[torch.randint(len(self.poses), (n,), generator=generator)]
        perturbed = perturb_skeleton(
            poses, length_std=self.length_std, angle_std=self.angle_std, generator=generator
        )
        use = torch.rand(n, generator=generator) < self.sup1_fraction
        poses = torch.where(use[:, None, None], perturbed, poses)
        view = view_poses(poses, distribution=self.cameras, generator=generator)
        x = view.pose_2d
        if self.noise is not None:
            x = corrupt_2d(x, sigma=self.noise[0], swap_prob=self.noise[1], generator=generator)
        part = slice(rank * self.batch_size, (rank + 1) * self.batch_size)
        return {
            "x": x[part],
            "pose": (view.pose_3d - view.pose_3d[:, ROOT : ROOT + 1])[part],
            "focal": view.cameras.focal[part],
            "depth": view.pose_3d[part, ROOT, 2],
        }


class Memories:
    """Memories of the prior (Sup4): training poses (N, J, 3), drawn independently of the
    inputs, each bone scaled by ``~ N(1, length_std)`` (a few training subjects do not
    cover every body), root-centred and facing front (:func:`align_poses`)."""

    def __init__(self, poses: torch.Tensor, *, batch_size: int, length_std: float = 0.0) -> None:
        self.poses = poses
        self.batch_size = batch_size
        self.length_std = length_std

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> torch.Tensor:
        n = self.batch_size * world_size
        poses = self.poses[torch.randint(len(self.poses), (n,), generator=generator)]
        if self.length_std > 0:
            poses = perturb_skeleton(
                poses, length_std=self.length_std, angle_std=0.0, generator=generator
            )
        return align_poses(poses[rank * self.batch_size : (rank + 1) * self.batch_size])


def retarget(poses: torch.Tensor, *, std: float, generator: torch.Generator) -> torch.Tensor:
    """Poses (N, J, 3) of one skeleton moved to a new body: every bone (left and right
    twins alike) scaled by one factor ``~ N(1, std)`` for the whole set. The validation
    split uses it so that its "new subject" does not share the training bone lengths."""
    factors = 1.0 + std * torch.randn(NUM_JOINTS, generator=generator, dtype=poses.dtype)
    factors = factors[torch.minimum(torch.arange(NUM_JOINTS), torch.tensor(MIRROR_PERMUTATION))]
    factors[ROOT] = 1.0
    return from_bone_vectors(bone_vectors(poses) * factors[:, None])


@dataclass(frozen=True)
class TestSet:
    """Test poses seen by fixed random cameras: ``exact`` 2D (B, J, 2), ``noisy`` 2D,
    ``target`` root-relative camera-frame 3D (B, J, 3), ``take`` (B,) index into
    ``take_names``."""

    exact: torch.Tensor
    noisy: torch.Tensor
    target: torch.Tensor
    take: torch.Tensor
    take_names: tuple[str, ...]

    def inputs(self, setting: str) -> torch.Tensor:
        return self.exact if setting == "exact" else self.noisy


def make_test_set(
    takes: Mapping[str, torch.Tensor],
    *,
    cameras: CameraDistribution,
    noise: tuple[float, float],
    generator: torch.Generator,
) -> TestSet:
    """Project every test pose ``{take: (T, J, 3)}`` through its own random camera; the
    noisy inputs corrupt the exact ones (``noise`` = (pixel std, swap probability))."""
    poses = torch.cat(list(takes.values()))
    take = torch.cat([torch.full((len(p),), k) for k, p in enumerate(takes.values())])
    view = project_poses(
        poses, sample_cameras(len(poses), distribution=cameras, generator=generator)
    )
    noisy = corrupt_2d(view.pose_2d, sigma=noise[0], swap_prob=noise[1], generator=generator)
    target = view.pose_3d - view.pose_3d[:, ROOT : ROOT + 1]
    return TestSet(view.pose_2d, noisy, target, take, tuple(takes))


# --------------------------------------------------------------------------- task


def reproject(predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> Rendered:
    """The AIGN pose renderer (Eq. 2), compared in normalised 2D units: the reprojection
    and the input keypoints are both centred on the input root and divided by the input's
    RMS radius, so the loss does not depend on the person's size in pixels."""
    x = batch["x"]
    _, center, scale = normalize_2d(x)
    rendered = project(predictions["pose_3d"], predictions["focal"], predictions["principal"])
    norm = scale[:, None, None]
    return Rendered((rendered - center[:, None]) / norm, (x - center[:, None]) / norm)


class RelativePose(nn.Module):
    """Wraps a lifter returning root-relative poses (B, J, 3) as ``{"pose_rel": ...}``."""

    def __init__(self, lifter: nn.Module) -> None:
        super().__init__()
        self.lifter = lifter

    def forward(self, keypoints: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"pose_rel": self.lifter(keypoints)}


def pose_errors(pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sample errors (B,) in mm of root-relative poses (B, J, 3) (keys of
    :data:`METRICS`): the paper's torso-aligned error, MPJPE, P-MPJPE (proper rotations
    only: a mirrored pose is not forgiven) and N-MPJPE."""
    return {
        "torso": torso_aligned_error(pred, target, reduction="none"),
        "mpjpe": mpjpe(pred, target, root=ROOT, reduction="none"),
        "p_mpjpe": p_mpjpe(pred, target, reduction="none"),
        "n_mpjpe": n_mpjpe(pred, target, reduction="none"),
    }


def reprojection_px(outputs: Mapping[str, torch.Tensor], keypoints: torch.Tensor) -> torch.Tensor:
    """Per-sample mean distance (B,) in pixels between the reprojected prediction (Eq. 2)
    and the input keypoints (B, J, 2): what Sup3 minimizes."""
    rendered = project(outputs["pose_3d"], outputs["focal"], outputs["principal"])
    return (rendered - keypoints).norm(dim=-1).mean(-1)


class LiftingTask(AIGN):
    """AIGN for pose lifting plus the paired Sup1+2 terms.

    Batches: ``{"x": test 2D (B, J, 2), "memories": {"pose": (M, J, 3)}, "paired": a
    PairedViews batch}`` (a part may be missing when its terms are off). Paired terms:
    ``paired_weight * mean ||pose_rel_j - target_j||^2`` (metres) and, for generators
    that predict a camera, ``paired_weight * camera_weight * [(log f - log f*)^2 +
    (log z - log z*)^2]`` (the focal length and root depth of a synthetic view are known).
    ``evaluate`` reports the errors on the evaluation set (mm).
    """

    def __init__(
        self,
        generator: nn.Module,
        priors: Mapping[str, Prior] | None = None,
        *,
        beta: float = 0.0,
        recon_weight: float = 0.0,
        paired_weight: float = 1.0,
        camera_weight: float = 0.1,
        eval_inputs: torch.Tensor,
        eval_target: torch.Tensor,
    ) -> None:
        super().__init__(
            generator, reproject, priors, beta=beta, recon_weight=recon_weight, reconstruction="mse"
        )
        self.paired_weight = paired_weight
        self.camera_weight = camera_weight
        self.eval_inputs = eval_inputs
        self.eval_target = eval_target

    def generator_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        unpaired = self.recon_weight > 0 or (self.beta > 0 and bool(self.prior_specs))
        losses = super().generator_losses(batch) if unpaired else {}
        paired = batch.get("paired")
        if self.paired_weight > 0 and paired is not None:
            out = self.predict(paired["x"])
            error = (out["pose_rel"] - paired["pose"]).pow(2).sum(-1).mean()
            losses["supervised/pose"] = self.paired_weight * error
            if self.camera_weight > 0 and "focal" in out:
                camera = (out["focal"].log() - paired["focal"].log()).pow(2) + (
                    out["depth"].log() - paired["depth"].log()
                ).pow(2)
                losses["supervised/camera"] = (
                    self.paired_weight * self.camera_weight * camera.mean()
                )
        return losses

    @torch.no_grad()
    def outputs(self, *, chunk: int = 4096) -> dict[str, torch.Tensor]:
        """The generator's outputs on the evaluation inputs (eval mode, on the CPU)."""
        device = next(self.generator.parameters()).device
        was = self.generator.training
        self.generator.eval()
        try:
            parts = [self.predict(p.to(device)) for p in self.eval_inputs.split(chunk)]
        finally:
            self.generator.train(was)
        return {k: torch.cat([p[k].cpu() for p in parts]) for k in parts[0]}

    def predictions(self) -> torch.Tensor:
        """Root-relative predictions (B, J, 3) on the evaluation inputs."""
        return self.outputs()["pose_rel"]

    def evaluate(self) -> dict[str, float]:
        out = self.outputs()
        metrics = {
            k: float(v.mean()) for k, v in pose_errors(out["pose_rel"], self.eval_target).items()
        }
        if "focal" in out:
            metrics["reproj_px"] = float(reprojection_px(out, self.eval_inputs).mean())
        return metrics


class _OnFeatures(Distance):
    """A distance between :func:`pose_features` of predicted poses and of memories."""

    def __init__(self, distance: Distance, features: CriticFeatures) -> None:
        super().__init__()
        self.distance = distance
        self.features = features

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance(
            pose_features(a, features=self.features), pose_features(b, features=self.features)
        )


def make_prior(kind: PriorKind, cfg: Ladder) -> Prior:
    """The Sup4 prior on the predicted canonical 3D skeleton (``shape``, compared after
    :func:`align_poses`): the paper's logistic critic (:class:`PoseCritic` on
    ``cfg.critic_features``), or MMD / the dual adversarial distance (RBF kernels, median
    bandwidth) on the same features."""
    distance = family_distance(
        POSE_PRIORS,
        kind,
        kind="pose prior",
        critic=lambda: PoseCritic(
            hidden=cfg.critic_hidden, layers=cfg.critic_layers, features=cfg.critic_features
        ),
        options={"mmd": {"kernel": "rbf"}, "dual-rbf": {"lam": cfg.dual_lam}},
    )
    if kind != "logistic":  # the critic sees the features itself; the others compare them
        distance = _OnFeatures(distance, cfg.critic_features)
    weight = {"logistic": 1.0, "mmd": cfg.mmd_weight, "dual": cfg.dual_weight}[kind]
    return Prior(distance, weight, prediction="shape", transform=align_poses)


# --------------------------------------------------------------------------- ladder


@dataclass
class LadderResult:
    """The trained tasks of one setting, by model key (see :data:`LABELS`), their
    per-sample errors on the test set (mm) and mean reprojection errors (px; None for a
    model without a camera)."""

    tasks: dict[str, LiftingTask]
    errors: dict[str, dict[str, torch.Tensor]]
    reproj: dict[str, float | None]


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


@dataclass
class Settings:
    """What :func:`run_settings` returns: the tables (one per setting, then the goal
    table of ratios), the skeleton figures and ``metrics[setting] = {"models": scores,
    "ratios": ratios}``."""

    tables: list[Table]
    figures: list[Figure]
    metrics: dict[str, dict[str, Any]]


def run_settings(
    ctx: RunContext,
    settings: Sequence[str],
    train_poses: torch.Tensor,
    test: TestSet,
    cfg: Ladder,
    *,
    cameras: CameraDistribution,
    models: Sequence[str],
    title: Callable[[str], str],
    note: str,
    goal_title: str,
    reference_rows: Sequence[list] = (),
) -> Settings:
    """:func:`run_ladder` for each setting (checkpoint prefix = the setting), each with
    its table (``title(setting)``, ``note``), scores (:func:`scores`), ratios
    (:func:`ratios`) and ``figures/skeletons_<setting>.png``; then one goal table of the
    ratios (``goal_title``), ``reference_rows`` (e.g. the paper's) appended."""
    done = Settings([], [], {})
    ratio_rows = []
    for setting in dict.fromkeys(settings):
        result = run_ladder(
            ctx, setting, train_poses, test, setting, cfg, cameras=cameras, models=models
        )
        done.tables.append(ladder_table(title(setting), result, test, note=note))
        models_scores = scores(result, test)
        r = ratios(models_scores)
        done.metrics[setting] = {"models": models_scores, "ratios": r}
        ratio_rows.append(
            [setting, r["aign_over_interpreter"], r["aign_over_forward2dto3d"], r["ordering_holds"]]
        )
        figure = skeleton_figure(ctx, f"skeletons_{setting}", result, test, title=f"{setting} 2D")
        if figure is not None:
            done.figures.append(figure)
    columns = ["setting", "AIGN / 3D interpreter", "AIGN / Forward2Dto3D", "ordering holds"]
    done.tables.append(Table(goal_title, columns, [*ratio_rows, *reference_rows]))
    return done


# --------------------------------------------------------------------------- report


def take_means(per_sample: torch.Tensor, test: TestSet) -> list[float]:
    """Mean of per-sample errors (B,) within each test take."""
    return [float(per_sample[test.take == k].mean()) for k in range(len(test.take_names))]


def summary(errors: Mapping[str, torch.Tensor], test: TestSet) -> dict[str, Any]:
    """Per-take torso-aligned errors, their unweighted mean (the paper's "Average"), and
    every metric's mean over all frames."""
    per_take = take_means(errors["torso"], test)
    return {
        "torso_per_take": dict(zip(test.take_names, per_take, strict=True)),
        "torso_take_mean": sum(per_take) / len(per_take),
        **{k: float(v.mean()) for k, v in errors.items()},
    }


def scores(result: LadderResult, test: TestSet) -> dict[str, dict[str, Any]]:
    """:func:`summary` of every model of a ladder, with its reprojection error (px)."""
    return {
        m: {**summary(e, test), "reproj_px": result.reproj[m]} for m, e in result.errors.items()
    }


def ladder_table(title: str, result: LadderResult, test: TestSet, *, note: str = "") -> Table:
    """One row per model: torso-aligned error per take, its mean over takes, every metric
    averaged over all frames (mm), and the mean reprojection error of the input 2D (px)."""
    columns = [
        "model",
        *test.take_names,
        "take mean",
        *(f"{name} (all)" for name in METRICS.values()),
        "reproj. px",
    ]
    rows = []
    for model, errors in result.errors.items():
        s = summary(errors, test)
        rows.append(
            [
                LABELS[model],
                *s["torso_per_take"].values(),
                s["torso_take_mean"],
                *(s[k] for k in METRICS),
                result.reproj[model],
            ]
        )
    return Table(title, columns, rows, note=note)


def ratios(metrics: Mapping[str, Mapping[str, Any]], key: str = "torso_take_mean") -> dict:
    """The paper's ratios AIGN / 3D interpreter (0.89) and AIGN / Forward2Dto3D (0.61)
    and whether AIGN < 3D interpreter < Forward2Dto3D holds, on ``key``."""
    aign, interp, f2d = (metrics[m][key] for m in ("aign", "interpreter", "forward2dto3d"))
    return {
        "aign_over_interpreter": aign / interp,
        "aign_over_forward2dto3d": aign / f2d,
        "ordering_holds": bool(aign < interp < f2d),
    }


def plot_skeletons(
    path: Path,
    preds: Mapping[str, torch.Tensor],
    target: torch.Tensor,
    frames: Sequence[int],
    *,
    title: str,
) -> None:
    """PNG: for each frame (rows) and model (columns), the predicted skeleton (colour) over
    the true one (black), both torso-aligned (root-centred, facing the viewer)."""
    fig = plt.figure(figsize=(3.0 * len(preds), 3.0 * len(frames)))
    truth = face_front(target[list(frames)])
    for c, (model, pred) in enumerate(preds.items()):
        aligned = face_front(pred[list(frames)])
        for r in range(len(frames)):
            ax = fig.add_subplot(len(frames), len(preds), r * len(preds) + c + 1, projection="3d")
            for pose, color in ((truth[r], "k"), (aligned[r], f"C{c}")):
                for j, p in H36M17_BONES:
                    # camera frame (x right, y down, z forward) -> plot x, depth, up
                    xs, ys, zs = pose[[j, p], 0], pose[[j, p], 2], -pose[[j, p], 1]
                    ax.plot(xs, ys, zs, color=color, lw=1.5)
            ax.set_xlim(-0.9, 0.9)
            ax.set_ylim(-0.9, 0.9)
            ax.set_zlim(-0.9, 0.9)
            ax.view_init(elev=10, azim=-60)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_zticks([])
            if r == 0:
                ax.set_title(LABELS[model].split(" (")[0], fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def skeleton_figure(
    ctx: RunContext, name: str, result: LadderResult, test: TestSet, *, title: str
) -> Figure | None:
    """Write ``figures/<name>.png`` (main rank only): three test frames spread over the
    test set, Forward2Dto3D, 3D interpreter and AIGN against the truth."""
    if not ctx.is_main:
        return None
    models = [m for m in ("forward2dto3d", "interpreter", "aign") if m in result.tasks]
    n = len(test.target)
    frames = [n // 6, n // 2, 5 * n // 6]
    preds = {m: result.tasks[m].predictions() for m in models}
    plot_skeletons(ctx.path(f"figures/{name}.png"), preds, test.target, frames, title=title)
    return Figure(f"figures/{name}.png", f"{title}: predicted (colour) vs true (black) skeletons")
