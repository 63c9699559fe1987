"""Building blocks of the ``sfm-scenes`` recipe (AIGN Sec. 2.2 and 3.2).

* :class:`PairSet`: frame pairs ready for the networks (egomotion inputs, true depth and
  motion), rendered from procedural streets and turned into inputs with Farneback flow.
* :class:`SfMGenerator`: the two generators, depth (I1 -> log depth) and egomotion
  (I1, I2, flow, flow angles, angle field -> Euler angles + translation).
* :class:`WarpRenderer`: the parameter-free renderer P (back-project, ``X2 = R X1 + T``,
  project, warp I2 onto I1); the reconstruction is Eq. 3's L1 over all pixels.
* :class:`SfMTask`: :class:`~unpaired.aign.AIGN` plus the smooth-IGN smoothness term and
  held-out evaluation (depth, camera, photometric errors on the evaluation sequence).
* :func:`make_prior`: a depth or camera-motion prior from a distance name (the paper's
  critics, or any distance of ``recipes._names.SFM_PRIORS``).
* Baselines that need no training (geometric essential matrix, constant motions) and
  the figures (Fig. 3 curves, Fig. 4 qualitative results).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from kornia.filters import gaussian_blur2d
from matplotlib.colors import hsv_to_rgb
from torch import nn

import unpaired.distances as distances
from unpaired.aign import AIGN, Prior, Rendered
from unpaired.data.flow import egomotion_inputs, farneback_flow
from unpaired.data.rgbd import FramePairs, relative_motion
from unpaired.data.synthetic.scenes import MAX_FRAMES, make_scene, render_sequence
from unpaired.engine import TrainConfig
from unpaired.geometry import euler_to_matrix, matrix_to_euler
from unpaired.metrics.camera import ate_5frame, camera_metrics
from unpaired.metrics.depth import depth_metrics
from unpaired.models.geometric import essential_motion, with_magnitude
from unpaired.models.sfm import (
    DepthCritic,
    DepthNet,
    EgomotionNet,
    MotionCritic,
    depth_smoothness,
    motion_features,
    motion_from_vector,
)
from unpaired.recipes._names import SFM_PRIORS, family_distance
from unpaired.renderers.rigid_warp import photometric_loss, render, rigid_flow

#: Log depth is clamped to this range before exponentiation in the renderer (metres
#: 0.007 .. 22,000), so a diverging depth map cannot overflow to inf.
LOG_DEPTH_RANGE = (-5.0, 10.0)
#: Side of the square log-depth patches compared by closed-form depth priors.
DEPTH_PATCH = 8
#: Metrics logged during training (the curves of Fig. 3), as ``eval/<key>``.
CURVE_KEYS = ("depth_log_l1", "log_scale", "trl_err", "rot_err", "trl_ang", "photometric")


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class PairSet:
    """Frame pairs of one or more sequences, ready for the networks.

    ``inputs`` (N, 10, H, W): the egomotion input (I1, I2, flow / W, flow angles / pi,
    angle field / pi; :func:`~unpaired.data.flow.egomotion_inputs`), whose first three
    channels are I1 (the depth network's input) and next three I2; ``flow`` (N, 2, H, W)
    Farneback flow; ``depth`` (N, 1, H, W) true z-depth of I1 (metres); ``motion`` (N, 6)
    true Euler angles and translation (``X2 = R X1 + T``); ``rotation`` (N, 3, 3) and
    ``translation`` (N, 3) the same motion; ``intrinsics`` (3, 3).
    """

    inputs: torch.Tensor
    flow: torch.Tensor
    depth: torch.Tensor
    motion: torch.Tensor
    rotation: torch.Tensor
    translation: torch.Tensor
    intrinsics: torch.Tensor

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def frame1(self) -> torch.Tensor:
        return self.inputs[:, :3]

    @property
    def frame2(self) -> torch.Tensor:
        return self.inputs[:, 3:6]


def make_pairs(seeds: Sequence[int], *, n_frames: int, height: int, width: int) -> PairSet:
    """Consecutive pairs of the first ``n_frames`` frames of each street ``seeds``."""
    pairs = FramePairs.cat(
        [render_sequence(s, n_frames=n_frames, height=height, width=width).pairs() for s in seeds]
    )
    assert pairs.depth1 is not None
    flow = farneback_flow(pairs.frame1, pairs.frame2)
    k = pairs.intrinsics[0]
    return PairSet(
        egomotion_inputs(pairs.frame1, pairs.frame2, flow, k),
        flow,
        pairs.depth1,
        motion_vectors(pairs.rotation, pairs.translation),
        pairs.rotation,
        pairs.translation,
        k,
    )


def motion_vectors(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3), (B, 3) -> (B, 6) Euler angles (alpha, beta, gamma) and translation,
    the egomotion network's output format."""
    return torch.cat([matrix_to_euler(rotation), translation], 1)


def motion_memories(seeds: Sequence[int]) -> torch.Tensor:
    """Relative motions (N, 6) between consecutive frames of whole routes ``seeds``:
    the camera-motion prior's memories (no rendering needed)."""
    out = []
    for s in seeds:
        poses = make_scene(s).trajectory(MAX_FRAMES).double()
        rot, trans = relative_motion(poses[:-1], poses[1:])
        out.append(motion_vectors(rot, trans).float())
    return torch.cat(out)


def depth_memories(seeds: Sequence[int], *, n_frames: int, height: int, width: int) -> torch.Tensor:
    """True log depth maps (N, 1, H, W) of streets ``seeds``: the depth prior's memories."""
    maps = [render_sequence(s, n_frames=n_frames, height=height, width=width).depth for s in seeds]
    return torch.cat(maps).log()


class Fixed:
    """A batch source that always returns the same value (e.g. the intrinsics)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.value


class Paired:
    """Rows with shared indices: ``{"x": inputs[i], "targets": {name: t[i]}}`` plus fixed
    extras (supervised pretraining batches)."""

    def __init__(
        self,
        inputs: torch.Tensor,
        targets: Mapping[str, torch.Tensor],
        *,
        batch_size: int,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        self.inputs, self.targets = inputs, dict(targets)
        self.batch_size, self.extras = batch_size, dict(extras or {})

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, Any]:
        idx = torch.randint(len(self.inputs), (self.batch_size * world_size,), generator=generator)
        idx = idx[rank * self.batch_size : (rank + 1) * self.batch_size]
        return {
            "x": self.inputs[idx],
            "targets": {k: v[idx] for k, v in self.targets.items()},
            **self.extras,
        }


# --------------------------------------------------------------------------- models


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


def _depth_patches(log_depth: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) -> (B * P, DEPTH_PATCH^2) non-overlapping log-depth patches."""
    patches = F.unfold(log_depth, DEPTH_PATCH, stride=DEPTH_PATCH)  # (B, D, P)
    return patches.transpose(1, 2).reshape(-1, DEPTH_PATCH * DEPTH_PATCH)


def _motion_features(vector: torch.Tensor) -> torch.Tensor:
    return motion_features(*motion_from_vector(vector))


def make_prior(kind: str, name: str, weight: float) -> Prior:
    """The depth (``kind="depth"``) or camera-motion (``"motion"``) prior of Sec. 2.2.

    Depth: the critic is the fully convolutional :class:`DepthCritic` on log depth (one
    logit per patch); closed-form distances compare the distributions of 8x8 log-depth
    patches instead (the same "local depth texture"). Motion: the MLP
    :class:`MotionCritic` (128-128-64) on the 12 numbers of ``[R | T]``; closed-form
    distances compare those 12 numbers.
    """
    if kind == "depth":
        distance = family_distance(SFM_PRIORS, name, kind="SfM prior", critic=DepthCritic)
        transform = None if isinstance(distance, distances.AdversarialDistance) else _depth_patches
        return Prior(distance, weight, prediction="log_depth", transform=transform)
    if kind == "motion":
        distance = family_distance(SFM_PRIORS, name, kind="SfM prior", critic=MotionCritic)
        return Prior(distance, weight, prediction="motion", transform=_motion_features)
    raise ValueError(f"kind must be 'depth' or 'motion', got {kind!r}")


# ----------------------------------------------------------------------------- task


def predict_all(
    generator: nn.Module, inputs: torch.Tensor, *, chunk: int = 32
) -> dict[str, torch.Tensor]:
    """Predictions for every row of ``inputs`` (N, 10, H, W), in chunks, without grad."""
    with torch.no_grad():
        parts = [generator(inputs[i : i + chunk]) for i in range(0, len(inputs), chunk)]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def evaluate_predictions(
    log_depth: torch.Tensor, motion: torch.Tensor, pairs: PairSet
) -> dict[str, float]:
    """Every metric of the recipe for predictions on ``pairs`` (one sequence, in order).

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
    out["log_scale"] = sum(ratios) / len(ratios)
    rot, trans = motion_from_vector(motion)
    out |= camera_metrics(rot, trans, pairs.rotation, pairs.translation)
    out["ate5"] = float(ate_5frame(rot, trans, pairs.rotation, pairs.translation))
    warped = render(depth, rot, trans, pairs.intrinsics, pairs.frame2)
    out["photometric"] = float(photometric_loss(pairs.frame1, warped.warped))
    return out


class SfMTask(AIGN):
    """The SfM AIGN (Fig. 2b) and its ablations, evaluated on a held-out sequence.

    ``priors`` maps ``"depth"``/``"motion"`` to :class:`~unpaired.aign.Prior` (none for
    IGN and smooth-IGN); ``smoothness`` > 0 adds the smooth-IGN term (edge-aware first
    order smoothness of log depth, :func:`depth_smoothness`); ``supervised`` weights the
    paired terms of pretraining (``log_depth`` and ``motion_unit``); ``blur_sigma``
    configures the renderer (:class:`WarpRenderer`). Batches:
    ``{"x": (B, 10, H, W), "intrinsics": (3, 3), "memories": {...}, "targets": {...}}``.
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
        self._last: dict[str, torch.Tensor] | None = None

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

    def predict(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = super().predict(x)
        self._last = out  # reused by the smoothness term of the same step
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
        if self.averaged is not None and self.training:
            self._update_average()
        losses = super().generator_losses(batch)
        if self.smoothness > 0:
            assert self._last is not None
            image = batch["x"][:, :3]
            losses["smoothness"] = self.smoothness * depth_smoothness(
                self._last["log_depth"], image
            )
        self._last = None
        return losses

    def evaluate(self) -> dict[str, float]:
        """The curves of Fig. 3 (:data:`CURVE_KEYS` of :func:`evaluate_predictions`)."""
        p = self.eval_pairs
        device = next(self.generator.parameters()).device
        pred = predict_all(self.eval_generator, p.inputs.to(device))
        metrics = evaluate_predictions(pred["log_depth"].cpu(), pred["motion"].cpu(), p)
        return {k: metrics[k] for k in CURVE_KEYS}


# ------------------------------------------------------------------------ baselines


def geometric_baseline(pairs: PairSet) -> tuple[dict[str, float], dict[str, float], int]:
    """The essential-matrix baseline on Farneback flow (RANSAC, 5-point).

    Returns the scale-free metrics (``rot_err``, ``trl_ang``), the metrics with the true
    translation magnitude supplied by an oracle (all columns; ``trl_mag`` is 0 by
    construction) and the number of pairs where the estimate failed (NaN directions,
    skipped by the means).
    """
    est = essential_motion(pairs.flow, pairs.intrinsics)
    scaled = with_magnitude(est.direction, pairs.translation.norm(dim=1))
    oracle = camera_metrics(est.rotation, scaled, pairs.rotation, pairs.translation)
    usable = est.ok
    if usable.sum() >= 4 and bool(usable.all()):
        oracle["ate5"] = float(ate_5frame(est.rotation, scaled, pairs.rotation, pairs.translation))
    free = {"rot_err": oracle["rot_err"], "trl_ang": oracle["trl_ang"]}
    return free, oracle, int((~est.ok).sum())


def constant_motion_metrics(
    rotation: torch.Tensor, translation: torch.Tensor, pairs: PairSet
) -> dict[str, float]:
    """Table 3 metrics (and 5-frame ATE) of one motion (3, 3), (3,) guessed for every pair
    (or per-pair guesses (N, 3, 3), (N, 3))."""
    n = len(pairs)
    rot = rotation.expand(n, 3, 3) if rotation.dim() == 2 else rotation
    trans = translation.expand(n, 3) if translation.dim() == 1 else translation
    out = camera_metrics(rot, trans, pairs.rotation, pairs.translation)
    out["ate5"] = float(ate_5frame(rot, trans, pairs.rotation, pairs.translation))
    return out


def mean_motion(motions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (3, 3), (3,) of motion vectors (N, 6) (Euler angles averaged: they are small)."""
    m = motions.mean(0)
    return euler_to_matrix(m[:3]), m[3:]


# -------------------------------------------------------------------------- figures


def plot_training_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], path: Path, *, title: str
) -> None:
    """Fig. 3 analogue: evaluation-sequence curves of every model in one PNG."""
    panels = [
        ("eval/depth_log_l1", "depth error: L1 of log depth (no scaling)"),
        ("eval/log_scale", "depth scale: log(median pred / median true)"),
        ("eval/trl_err", "translation error (m)"),
        ("eval/rot_err", "rotation error (rad)"),
        ("eval/trl_ang", "translation angle error (rad)"),
        ("eval/photometric", "photometric error (Eq. 3)"),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for ax, (key, label) in zip(axes.flat, panels, strict=True):
        for model, rows in histories.items():
            pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, label=model)
        if key == "eval/log_scale":
            ax.axhline(0.0, color="k", lw=0.6, ls=":")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("iteration", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def flow_to_rgb(flow: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Flow (2, H, W) -> colour (H, W, 3): hue = direction, value = magnitude / max_norm."""
    u, v = flow[0], flow[1]
    hue = (torch.atan2(v, u) / (2 * math.pi)) % 1.0
    value = (torch.sqrt(u**2 + v**2) / max_norm).clamp(0, 1)
    hsv = torch.stack([hue, torch.ones_like(hue), value], -1)
    return torch.from_numpy(hsv_to_rgb(hsv.numpy()))


def plot_qualitative(
    pairs: PairSet,
    indices: Sequence[int],
    predictions: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    path: Path,
    *,
    title: str,
) -> None:
    """Fig. 4 analogue: per row, frame I1, true depth, each model's predicted depth, the
    true rigid flow and each model's geometric flow (from its depth and motion).

    ``predictions``: ``{model: (log_depth (N, 1, H, W), motion (N, 6))}`` on ``pairs``.
    Depth maps share one log colour scale (2-100 m), flows one magnitude scale.
    """
    idx = torch.tensor(list(indices))
    true_flow, _ = rigid_flow(
        pairs.depth[idx], pairs.rotation[idx], pairs.translation[idx], pairs.intrinsics
    )
    flows = {}
    for name, (log_depth, motion) in predictions.items():
        rot, trans = motion_from_vector(motion[idx])
        depth = log_depth[idx].clamp(*LOG_DEPTH_RANGE).exp()
        flows[name] = rigid_flow(depth, rot, trans, pairs.intrinsics)[0]
    max_norm = float(true_flow.norm(dim=1).flatten().quantile(0.95))
    names = list(predictions)
    columns = ["frame I1", "true depth", *[f"depth: {n}" for n in names], "true flow"]
    columns += [f"flow: {n}" for n in names]
    fig, axes = plt.subplots(
        len(idx), len(columns), figsize=(2.3 * len(columns), 1.0 * len(idx) + 0.6), squeeze=False
    )
    lo, hi = math.log(2.0), math.log(100.0)
    for row, i in enumerate(idx.tolist()):
        images = [pairs.frame1[i].permute(1, 2, 0), pairs.depth[i, 0].log()]
        images += [predictions[n][0][i, 0] for n in names]
        images += [flow_to_rgb(true_flow[row], max_norm)]
        images += [flow_to_rgb(flows[n][row], max_norm) for n in names]
        for col, image in enumerate(images):
            ax = axes[row, col]
            is_depth = 1 <= col <= 1 + len(names)
            shown = (image.clamp(lo, hi) if is_depth else image).numpy()
            ax.imshow(shown, cmap="magma_r", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
