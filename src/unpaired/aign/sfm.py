"""AIGN for structure from motion: depth and egomotion from frame pairs (AIGN Sec. 2.2, 3.2).

Two generators, depth (I1 -> log depth) and egomotion (I1, I2, flow, flow angles, angle
field -> Euler angles + translation) (:class:`SfMGenerator`); a parameter-free renderer
that warps I2 onto I1 with the predicted depth and motion (:class:`WarpRenderer`, built on
:func:`unpaired.renderers.rigid_warp.render`), compared with I1 by Eq. 3's L1; priors on
the depth maps and the camera motions (:func:`depth_prior`, :func:`motion_prior`: the
paper's critics or any distance). :class:`SfMTask` adds the smooth-IGN smoothness term,
per-network learning rates and weight averaging, and evaluates on a held-out sequence
(:func:`evaluate_predictions`).

Batches: ``{"x": (B, 10, H, W) egomotion inputs, "intrinsics": (3, 3), "memories":
{"depth": (M, 1, H, W) log depth, "motion": (M, 6)}, "targets": {...}}`` (see
:class:`~unpaired.data.flow.PairSet` for the inputs; any
:class:`~unpaired.data.rgbd.FramePairs` with depth becomes one by
:func:`~unpaired.data.flow.make_pair_set`).

Example:
    >>> import torch
    >>> from unpaired.aign.sfm import SfMGenerator, SfMTask, depth_prior, motion_prior
    >>> from unpaired.data.synthetic.scenes import street_motions, street_pair_set
    >>> from unpaired.distances import MMD
    >>> pairs = street_pair_set([3], n_frames=4, height=16, width=48)
    >>> net = SfMGenerator(depth_channels=(4, 8), ego_channels=(4, 8), init_depth=10.0,
    ...                    angle_scale=0.05)
    >>> task = SfMTask(net, pairs, priors={"depth": depth_prior(MMD(), on_patches=True),
    ...                                    "motion": motion_prior(MMD())}, beta=0.05)
    >>> batch = {"x": pairs.inputs, "intrinsics": pairs.intrinsics,
    ...          "memories": {"depth": pairs.depth.log(), "motion": street_motions([5])[:3]}}
    >>> sorted(task.generator_losses(batch))
    ['prior/depth', 'prior/motion', 'reconstruction']
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from torch import nn

from unpaired.aign.core import AIGN, Prior, Rendered
from unpaired.data.flow import PairSet
from unpaired.distances.base import Distance
from unpaired.engine import TrainConfig
from unpaired.evaluation.predict import predict
from unpaired.metrics.camera import ate_5frame, camera_metrics, trajectory_ate
from unpaired.metrics.depth import depth_metrics
from unpaired.models.record import Export, recordable
from unpaired.models.sfm import (
    DepthNet,
    EgomotionNet,
    depth_smoothness,
    motion_features,
    motion_from_vector,
)
from unpaired.renderers.rigid_warp import photometric_loss, render

#: Log depth is clamped to this range before exponentiation in the renderer (metres
#: 0.007 .. 22,000), so a diverging depth map cannot overflow to inf.
LOG_DEPTH_RANGE = (-5.0, 10.0)
#: Side of the square log-depth patches compared by closed-form depth priors.
DEPTH_PATCH = 8
#: Metrics :meth:`SfMTask.evaluate` reports (the curves of Fig. 3), logged as ``eval/<key>``.
CURVE_KEYS = ("depth_log_l1", "log_scale", "trl_err", "rot_err", "trl_ang", "photometric")


@recordable
class SfMGenerator(nn.Module):
    """The SfM AIGN's generators: egomotion input (B, 10, H, W) -> predictions.

    ``"log_depth"`` (B, 1, H, W) of I1 (the depth net sees only I1 = channels 0-2),
    ``"motion"`` (B, 6) Euler angles (rad) and translation (m), and ``"motion_unit"``
    (B, 6) the same divided by the egomotion net's output scales (the space in which
    supervised pretraining compares motions, so angles and translations weigh alike).
    """

    def __init__(
        self,
        *,
        depth_channels: tuple[int, ...],
        ego_channels: tuple[int, ...],
        init_depth: float,
        angle_scale: float,
    ) -> None:
        super().__init__()
        self.depth = DepthNet(channels=depth_channels, init_depth=init_depth)
        self.egomotion = EgomotionNet(channels=ego_channels, angle_scale=angle_scale)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        motion = self.egomotion(x)
        return {
            "log_depth": self.depth(x[:, :3]),
            "motion": motion,
            "motion_unit": motion / self.egomotion.scale,
        }


class WarpRenderer:
    """P of the SfM AIGN (Sec. 2.2): I2 warped onto I1 by the predicted depth and motion.

    ``(predictions, batch) -> Rendered``: compared with I1 (channels 0-2 of ``batch["x"]``)
    at *every* pixel, as Eq. 3 is written (``1 / (w h)`` times the sum over all pixels);
    points that leave image 2 read its border. With ``reconstruction="l1"`` this is Eq. 3
    averaged, not summed, over the colour channels. No validity mask on purpose: a loss
    averaged over valid pixels only is minimized by a motion that sends every pixel out of
    view (loss 0), a collapse we observed at a learning rate of 1e-3.

    ``blur_sigma`` > 0 also compares Gaussian-blurred copies of I1 and I2 (warped by the
    same flow; three more channels): bilinear warping has gradients only within a pixel,
    and the blurred copy widens the basin of Eq. 3 for flows that are several pixels off.
    Owns no parameters (the blur kernel is fixed).
    """

    def __init__(self, *, blur_sigma: float = 0.0) -> None:
        if blur_sigma < 0:
            raise ValueError(f"blur_sigma must be >= 0, got {blur_sigma}")
        self.blur_sigma = blur_sigma

    def _blur(self, image: torch.Tensor) -> torch.Tensor:
        size = 2 * math.ceil(2.5 * self.blur_sigma) + 1
        sigma = (self.blur_sigma, self.blur_sigma)
        return gaussian_blur2d(image, (size, size), sigma, border_type="replicate")

    def __call__(
        self, predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]
    ) -> Rendered:
        x = batch["x"]
        image1, image2 = x[:, :3], x[:, 3:6]
        if self.blur_sigma > 0:
            image1 = torch.cat([image1, self._blur(image1)], 1)
            image2 = torch.cat([image2, self._blur(image2)], 1)
        rot, trans = motion_from_vector(predictions["motion"])
        depth = predictions["log_depth"].clamp(*LOG_DEPTH_RANGE).exp()
        out = render(depth, rot, trans, batch["intrinsics"], image2)
        return Rendered(out.warped, image1)


# ------------------------------------------------------------------------------ priors


def depth_patches(log_depth: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) -> (B * P, DEPTH_PATCH^2) non-overlapping log-depth patches."""
    patches = F.unfold(log_depth, DEPTH_PATCH, stride=DEPTH_PATCH)  # (B, D, P)
    return patches.transpose(1, 2).reshape(-1, DEPTH_PATCH * DEPTH_PATCH)


def motion_prior_features(vector: torch.Tensor) -> torch.Tensor:
    """Motion vectors (B, 6) -> the 12 numbers of ``[R | T]`` (B, 12), what the motion
    prior compares (:func:`~unpaired.models.sfm.motion_features`)."""
    return motion_features(*motion_from_vector(vector))


def depth_prior(distance: Distance, weight: float = 1.0, *, on_patches: bool) -> Prior:
    """The depth prior of Sec. 2.2 on the predicted log depth. A fully convolutional
    critic (:class:`~unpaired.models.sfm.DepthCritic`, one logit per patch) takes whole
    maps (``on_patches=False``); a closed-form distance compares the distributions of
    8x8 log-depth patches (:func:`depth_patches`, the same "local depth texture")."""
    transform = depth_patches if on_patches else None
    return Prior(distance, weight, prediction="log_depth", transform=transform)


def motion_prior(distance: Distance, weight: float = 1.0) -> Prior:
    """The camera-motion prior of Sec. 2.2: ``distance`` between the 12 numbers of
    ``[R | T]`` of predicted and remembered motions (:func:`motion_prior_features`; the
    paper's critic is :class:`~unpaired.models.sfm.MotionCritic`, 128-128-64)."""
    return Prior(distance, weight, prediction="motion", transform=motion_prior_features)


# -------------------------------------------------------------------------- evaluation


def evaluate_predictions(
    log_depth: torch.Tensor, motion: torch.Tensor, pairs: PairSet
) -> dict[str, float]:
    """Every metric of the SfM experiments for predictions on ``pairs`` (one sequence, in
    order): log depth (N, 1, H, W), motion vectors (N, 6).

    Depth (AIGN Sec. 3.2): ``depth_*`` without scaling (the paper's convention: no scale
    oracle; ``depth_log_l1`` is its L1 in log depth) and ``depth_med_*`` with per-image
    median scaling (Zhou et al.); true depth capped at 80 m. ``log_scale``: mean over
    images of ``log(median predicted / median true depth)`` (0 = right scale). Camera
    (Table 3): ``trl_err``, ``rot_err``, ``trl_mag``, ``trl_ang`` and ``ate5`` (5-frame
    ATE, Zhou et al., scale-aligned per snippet). ``photometric``: Eq. 3 (sum over
    channels, mean over all pixels).
    """
    depth = log_depth.clamp(*LOG_DEPTH_RANGE).exp()
    out = {f"depth_{k}": v for k, v in depth_metrics(depth, pairs.depth).items()}
    scaled = depth_metrics(depth, pairs.depth, median_scaling=True)
    out |= {f"depth_med_{k}": scaled[k] for k in ("log_l1", "abs_rel")}
    valid = (pairs.depth > 1e-3) & (pairs.depth <= 80.0)
    ratios = [
        float(p[m].median().log() - t[m].median().log())
        for p, t, m in zip(depth, pairs.depth, valid, strict=True)
        if m.any()
    ]
    out["log_scale"] = sum(ratios) / len(ratios) if ratios else math.nan
    rot, trans = motion_from_vector(motion)
    out |= camera_metrics(rot, trans, pairs.rotation, pairs.translation)
    out["ate5"] = (
        float(ate_5frame(rot, trans, pairs.rotation, pairs.translation))
        if len(pairs) >= 4
        else math.nan
    )
    warped = render(depth, rot, trans, pairs.intrinsics, pairs.frame2)
    out["photometric"] = float(photometric_loss(pairs.frame1, warped.warped))
    return out


def sequence_metrics(
    log_depth: torch.Tensor, motion: torch.Tensor, pairs: PairSet
) -> dict[str, float]:
    """The metrics of one sequence with the ground truth it has (a user's sequence:
    :meth:`unpaired.data.sequences.SequenceData.pair_set` marks missing depth with 0 and
    missing motion with NaN; those metrics are left out).

    Depth, when some pixel has a true depth in (1e-3, 80] m: every
    :data:`~unpaired.metrics.depth.DEPTH_METRICS` without scaling (``depth_*``, the AIGN
    paper's convention) and with per-frame median scaling (``depth_med_*``: each
    predicted map multiplied by median(true) / median(predicted) over its valid pixels,
    Zhou et al.), and ``log_scale`` (mean log of that ratio's inverse; 0 = right scale).
    Camera, when the poses are known: the Table 3 columns of
    :func:`~unpaired.metrics.camera.camera_metrics` on every pair (metres, radians, no
    scaling), ``ate5`` (5-frame snippets, least-squares scale each; from 5 frames) and the whole
    trajectory's ``ate`` / ``ate_scale`` / ``ate_unscaled``
    (:func:`~unpaired.metrics.camera.trajectory_ate`, Umeyama alignment). Always:
    ``photometric`` (Eq. 3) and ``pairs``.
    """
    all_ = evaluate_predictions(log_depth, motion, pairs)
    out = {"pairs": float(len(pairs)), "photometric": all_["photometric"]}
    valid = (pairs.depth > 1e-3) & (pairs.depth <= 80.0)
    if valid.any():
        depth = log_depth.clamp(*LOG_DEPTH_RANGE).exp()
        out |= {f"depth_{k}": v for k, v in depth_metrics(depth, pairs.depth).items()}
        scaled = depth_metrics(depth, pairs.depth, median_scaling=True)
        out |= {f"depth_med_{k}": v for k, v in scaled.items()}
        out["log_scale"] = all_["log_scale"]
    if bool(torch.isfinite(pairs.motion).all()):
        out |= {k: all_[k] for k in ("trl_err", "rot_err", "trl_mag", "trl_ang")}
        if len(pairs) >= 4:  # at least one 5-frame snippet
            out["ate5"] = all_["ate5"]
        rot, trans = motion_from_vector(motion)
        out |= trajectory_ate(rot, trans, pairs.rotation, pairs.translation)
    return out


# ----------------------------------------------------------------------------- task


class SfMTask(AIGN):
    """The SfM AIGN (Fig. 2b) and its ablations, evaluated on a held-out sequence.

    ``priors`` maps ``"depth"``/``"motion"`` to :class:`~unpaired.aign.core.Prior` (none for
    IGN and smooth-IGN); ``smoothness`` > 0 adds the smooth-IGN term (edge-aware first
    order smoothness of log depth, :func:`~unpaired.models.sfm.depth_smoothness`);
    ``supervised`` weights the paired terms of pretraining (``log_depth`` and
    ``motion_unit``); ``blur_sigma`` configures the renderer (:class:`WarpRenderer`);
    ``depth_lr_scale`` scales the depth network's learning rate (0 freezes it); ``ema``
    > 0 keeps a weight average of the generator, which is what ``evaluate`` scores.
    ``evaluate`` returns the :data:`CURVE_KEYS` of :func:`evaluate_predictions` on
    ``eval_pairs``.
    """

    def __init__(
        self,
        generator: SfMGenerator,
        eval_pairs: PairSet,
        *,
        priors: Mapping[str, Prior] | None = None,
        beta: float = 1.0,
        smoothness: float = 0.0,
        recon_weight: float = 1.0,
        supervised: Mapping[str, float] | None = None,
        blur_sigma: float = 0.0,
        depth_lr_scale: float = 1.0,
        ema: float = 0.0,
    ) -> None:
        super().__init__(
            generator,
            WarpRenderer(blur_sigma=blur_sigma),
            priors,
            beta=beta,
            reconstruction="l1",
            recon_weight=recon_weight,
            supervised=supervised,
        )
        if smoothness < 0:
            raise ValueError(f"smoothness must be >= 0, got {smoothness}")
        if depth_lr_scale < 0:
            raise ValueError(f"depth_lr_scale must be >= 0, got {depth_lr_scale}")
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {ema}")
        self.smoothness = smoothness
        self.depth_lr_scale = depth_lr_scale
        self.ema = ema
        self.averaged: SfMGenerator | None = None
        if ema > 0:
            self.averaged = copy.deepcopy(generator).requires_grad_(False)
            self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        self.eval_pairs = eval_pairs

    def configure_optimizers(self, config: TrainConfig) -> dict[str, torch.optim.Optimizer]:
        """Adam per player; the depth network's learning rate is ``lr * depth_lr_scale``."""
        depth = list(self.generator.depth.parameters())
        ids = {id(p) for p in depth}
        rest = [p for p in self.generator_parameters() if id(p) not in ids]
        groups = [{"params": rest}, {"params": depth, "lr": config.lr * self.depth_lr_scale}]
        adam = {"betas": config.betas, "weight_decay": config.weight_decay}
        out = {"generator": torch.optim.Adam(groups, lr=config.lr, **adam)}
        critic = self.critic_parameters()
        if critic:
            out["critic"] = torch.optim.Adam(critic, lr=config.critic_lr or config.lr, **adam)
        return out

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that is evaluated: the weight average when ``ema`` > 0."""
        return self.generator if self.averaged is None else self.averaged

    @torch.no_grad()
    def _update_average(self) -> None:
        """``avg <- d avg + (1 - d) w`` with ``d = min(ema, (1 + n) / (10 + n))`` after n
        updates (a short warm-up; the first call copies the weights, e.g. pretrained
        ones loaded after construction)."""
        assert self.averaged is not None
        n = int(self.ema_updates)
        decay = 0.0 if n == 0 else min(self.ema, (1 + n) / (10 + n))
        for avg, w in zip(self.averaged.parameters(), self.generator.parameters(), strict=True):
            avg.lerp_(w.detach(), 1.0 - decay)
        self.ema_updates += 1

    def generator_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Eq. 1's terms (:meth:`~unpaired.aign.core.AIGN.prediction_losses`) plus, with
        ``smoothness`` > 0, the smooth-IGN term on the same predictions. Also advances
        the weight average (training mode only)."""
        if self.averaged is not None and self.training:
            self._update_average()
        predictions = self.predict(batch["x"])
        losses = self.prediction_losses(predictions, batch)
        if self.smoothness > 0:
            image = batch["x"][:, :3]
            losses["smoothness"] = self.smoothness * depth_smoothness(
                predictions["log_depth"], image
            )
        return losses

    def exports(self) -> dict[str, Export]:
        """The evaluated generator (kind ``"sfm"``: the weight average when ``ema`` > 0) with
        the intrinsics (3, 3) and frame size it was evaluated at."""
        h, w = self.eval_pairs.inputs.shape[-2:]
        meta = {"intrinsics": self.eval_pairs.intrinsics, "height": int(h), "width": int(w)}
        return {"generator": Export(self.eval_generator, "sfm", meta)}

    def predict_all(self, inputs: torch.Tensor, *, chunk: int = 32) -> dict[str, torch.Tensor]:
        """:attr:`eval_generator`'s predictions for every row of ``inputs`` (N, 10, H, W),
        ``chunk`` rows at a time (eval mode, no grad; on ``inputs``' device)."""
        return predict(self.eval_generator, inputs, chunk=chunk)

    def evaluate(self) -> dict[str, float]:
        """The curves of Fig. 3 (:data:`CURVE_KEYS` of :func:`evaluate_predictions`)."""
        pred = self.predict_all(self.eval_pairs.inputs)
        metrics = evaluate_predictions(pred["log_depth"], pred["motion"], self.eval_pairs)
        return {k: metrics[k] for k in CURVE_KEYS}
