"""AIGN for 3D human pose lifting (AIGN Sec. 2.1 and 3.1, Tables 1 and 2).

A generator lifts 2D keypoints (B, J, 2) to a 3D skeleton and a camera; the renderer is
the perspective projection of Eq. 2 (:func:`reproject`); the prior compares the predicted
canonical skeleton with *memories* of 3D poses that are never paired with an input
(:func:`pose_prior`). The paper's supervision levels are the batch parts of
:class:`LiftingTask`:

- **Sup1 + Sup2** (:class:`PairedViews`, batch part ``"paired"``): training poses seen by
  random virtual cameras, a fraction first perturbed (Wu et al.'s synthetic augmentation,
  :func:`~unpaired.data.pose2d.sup1_augment`);
- **Sup3** (``"x"``): unlabelled 2D keypoints, held to the reprojection loss;
- **Sup4** (``"memories"``, :class:`Memories`): 3D poses for the prior.

:class:`TestSet` (:func:`make_test_set`) holds test poses seen by fixed random cameras,
exact and detector-like noisy; :func:`pose_errors` scores predictions (mm).

Everything here takes tensors and objects (no recipe, no run context): a new pose method
(MetaPose's lifter, a user's own generator) builds a :class:`LiftingTask` directly.

Example:
    >>> import torch
    >>> from unpaired.aign.pose import LiftingTask, Memories, PairedViews, make_test_set, pose_prior
    >>> from unpaired.data.pose2d import CameraDistribution
    >>> from unpaired.data.synthetic.skeletons import sample_poses
    >>> from unpaired.distances import MMD
    >>> from unpaired.models.pose import LiftingGenerator, PoseBasis
    >>> g = torch.Generator().manual_seed(0)
    >>> poses = sample_poses(64, generator=g)
    >>> test = make_test_set({"take": poses[:16]}, cameras=CameraDistribution(),
    ...                      noise=(5.0, 0.05), generator=g)
    >>> task = LiftingTask(
    ...     LiftingGenerator(PoseBasis.fit(poses, num_components=8), hidden=16, blocks=1),
    ...     {"pose": pose_prior(MMD(), features="lengths")}, beta=0.1, recon_weight=1.0,
    ...     eval_inputs=test.exact, eval_target=test.target)
    >>> batch = {"x": test.exact[:8],
    ...          "paired": PairedViews(poses, batch_size=8, cameras=CameraDistribution()).sample(g),
    ...          "memories": {"pose": Memories(poses, batch_size=8).sample(g)}}
    >>> sorted(task.generator_losses(batch))
    ['prior/pose', 'reconstruction', 'supervised/camera', 'supervised/pose']
    >>> sorted(task.evaluate())
    ['mpjpe', 'n_mpjpe', 'p_mpjpe', 'reproj_px', 'torso']

Train it with :func:`unpaired.engine.fit` (or a recipe's ``ctx.fit``) on
``Unpaired({"x": TensorSampler(test.exact, batch_size=B), "paired": PairedViews(...),
"memories": Unpaired({"pose": Memories(...)})})``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.aign.core import AIGN, Prior, Rendered
from unpaired.data.pose2d import (
    CameraDistribution,
    corrupt_2d,
    normalize_2d,
    perturb_skeleton,
    project_poses,
    sample_cameras,
    sup1_augment,
)
from unpaired.data.skeleton import H36M17_JOINTS, ROOT
from unpaired.distances.base import Distance
from unpaired.evaluation.predict import predict
from unpaired.geometry import project
from unpaired.metrics.pose import mpjpe, n_mpjpe, p_mpjpe, torso_aligned_error
from unpaired.models.pose import CriticFeatures, align_poses, pose_features
from unpaired.models.record import Export, recordable

#: Metric keys of :func:`pose_errors` (as logged under ``eval/``) and their column names,
#: the paper's first.
METRICS: dict[str, str] = {
    "torso": "torso-aligned",
    "mpjpe": "MPJPE",
    "p_mpjpe": "P-MPJPE",
    "n_mpjpe": "N-MPJPE",
}


# --------------------------------------------------------------------------- data


class PairedViews:
    """Sup1 + Sup2 paired views, drawn fresh from the step's generator.

    Each row is a training pose (N, J, 3) (world frame, y up, metres), perturbed with
    probability ``sup1_fraction`` (:func:`~unpaired.data.pose2d.sup1_augment`), seen by a
    random camera from ``cameras`` and, with ``noise`` = (pixel std, swap probability),
    corrupted like a detector (:func:`~unpaired.data.pose2d.corrupt_2d`). ``sample``
    returns ``{"x": (B, J, 2) pixels, "pose": (B, J, 3) root-relative camera-frame pose,
    "focal": (B,), "depth": (B,) root depth}``.
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
        check_shape("poses", poses, ("N", "J", 3))
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
        view = sup1_augment(
            poses,
            length_std=self.length_std,
            angle_std=self.angle_std,
            fraction=self.sup1_fraction,
            distribution=self.cameras,
            generator=generator,
        )
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
        check_shape("poses", poses, ("N", "J", 3))
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
        """The 2D inputs of a setting: ``"exact"`` or ``"noisy"``."""
        if setting not in ("exact", "noisy"):
            raise ValueError(f"setting must be 'exact' or 'noisy', got {setting!r}")
        return self.exact if setting == "exact" else self.noisy

    def take_means(self, per_sample: torch.Tensor) -> list[float]:
        """Mean of per-sample values (B,) within each take."""
        return [float(per_sample[self.take == k].mean()) for k in range(len(self.take_names))]


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


# --------------------------------------------------------------------------- renderer, scores


def reproject(predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> Rendered:
    """The AIGN pose renderer (Eq. 2), compared in normalised 2D units: the reprojection
    and the input keypoints are both centred on the input root and divided by the input's
    RMS radius, so the loss does not depend on the person's size in pixels."""
    x = batch["x"]
    _, center, scale = normalize_2d(x)
    rendered = project(predictions["pose_3d"], predictions["focal"], predictions["principal"])
    norm = scale[:, None, None]
    return Rendered((rendered - center[:, None]) / norm, (x - center[:, None]) / norm)


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


@recordable
class RelativePose(nn.Module):
    """Wraps a lifter returning root-relative poses (B, J, 3) as ``{"pose_rel": ...}``, the
    prediction :class:`LiftingTask` supervises (e.g. the Martinez MLP baseline)."""

    def __init__(self, lifter: nn.Module) -> None:
        super().__init__()
        self.lifter = lifter

    def forward(self, keypoints: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"pose_rel": self.lifter(keypoints)}


def pose_prior(
    distance: Distance, *, weight: float = 1.0, features: CriticFeatures | None = None
) -> Prior:
    """The Sup4 prior on the predicted canonical 3D skeleton (prediction ``"shape"``,
    compared after :func:`align_poses` with the aligned memories). A critic that computes
    its own features (:class:`~unpaired.models.pose.PoseCritic`) takes the aligned poses;
    with ``features`` (for closed-form distances such as MMD) ``distance`` compares
    :func:`~unpaired.models.pose.pose_features` of both."""
    if features is None:
        return Prior(distance, weight, prediction="shape", transform=align_poses)
    kind = features

    def transform(poses: torch.Tensor) -> torch.Tensor:
        return pose_features(align_poses(poses), features=kind)

    return Prior(distance, weight, prediction="shape", transform=transform)


# --------------------------------------------------------------------------- task


class LiftingTask(AIGN):
    """AIGN for pose lifting plus the paired Sup1+2 terms.

    Batches: ``{"x": unlabelled 2D (B, J, 2), "memories": {"pose": (M, J, 3)}, "paired":
    a PairedViews batch}`` (a part may be missing when its terms are off). Paired terms:
    ``paired_weight * mean ||pose_rel_j - target_j||^2`` (metres) and, for generators
    that predict a camera, ``paired_weight * camera_weight * [(log f - log f*)^2 +
    (log z - log z*)^2]`` (the focal length and root depth of a synthetic view are known).
    ``evaluate`` reports :func:`pose_errors` on ``eval_inputs`` against ``eval_target``
    (mm) and, for generators that predict a camera, ``reproj_px``.
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
        check_shape("eval_inputs", eval_inputs, ("B", "J", 2))
        check_shape("eval_target", eval_target, (eval_inputs.shape[0], eval_inputs.shape[1], 3))
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

    def exports(self) -> dict[str, Export]:
        """The lifter (kind ``"pose"``): 2D keypoints (B, J, 2) in pixels, the library's
        joint order, -> ``{"pose_rel": (B, J, 3), ...}`` (metres, root-relative)."""
        joints = self.eval_inputs.shape[1]
        meta = {"joints": list(H36M17_JOINTS) if joints == len(H36M17_JOINTS) else joints}
        return {"lifter": Export(self.generator, "pose", meta)}

    def outputs(self, *, chunk: int = 4096) -> dict[str, torch.Tensor]:
        """The generator's outputs on the evaluation inputs (eval mode, no grad)."""
        out = predict(self.generator, self.eval_inputs, chunk=chunk)
        return out if isinstance(out, Mapping) else {"output": out}

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
