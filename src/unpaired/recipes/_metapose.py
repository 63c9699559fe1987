"""What ``metapose-cmu`` and ``metapose-synthetic`` share: the monocular lifter, the
multi-view samples, MetaPose S1 / S1+IR / S2 and the baselines of one (2D setting, number
of views), and their scores (tables in :mod:`unpaired.recipes._metapose_report`).

Per setting (exact or noisy 2D) and number of views C (4, and 2 = the first two cameras
of the same 4-camera rigs):

- **monocular init (per view)**: the lifter (Forward2Dto3D, :mod:`unpaired.aign.pose`,
  trained on the training poses seen by virtual cameras like the rig's) on each view's
  2D, scored in its own camera; or the synthetic EpipolarPose-like init (``init=synthetic``);
- **S1**, **S1 + IR**, **S2** (:mod:`unpaired.multiview.metapose`); S2 trains one model per
  (setting, C) on the training poses' views with 2D only, stages kept while the 2D
  reprojection error on held-out training poses improves;
- **triangulation with the true cameras** (calibrated, an upper reference), **BA w/ GT
  cameras** and **BA from random cameras** (:mod:`unpaired.multiview.bundle_adjustment`),
  on ``ba_frames`` evenly spaced test samples (they cost seconds each).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import torch

from unpaired.aign.pose import LiftingTask, PairedViews
from unpaired.data.pose2d import CameraDistribution
from unpaired.engine import TrainConfig, Unpaired
from unpaired.models.pose import LiftingGenerator, PoseBasis
from unpaired.multiview.bundle_adjustment import adjust_samples, projection_matrices, triangulate
from unpaired.multiview.data import (
    BatchPool,
    Views,
    lift_views,
    make_views,
    synthetic_init,
    views_state,
)
from unpaired.multiview.evaluate import pose_scores
from unpaired.multiview.metapose import MetaPoseS2, refine, s1, train_stages
from unpaired.multiview.rigs import Noise2D, RigDistribution
from unpaired.recipes.base import RunContext

Setting = Literal["exact", "noisy"]
#: Method keys, in table order, and their row labels.
LABELS: dict[str, str] = {
    "mono": "monocular init (per view)",
    "s1": "MetaPose S1",
    "ir": "MetaPose S1 + IR",
    "s2": "MetaPose S1 + S2",
    "triangulation": "triangulation, true cameras (calibrated)",
    "ba_gt": "BA w/ GT cameras (AniPose-style)",
    "ba_random": "BA, random cameras",
}
BA_METHODS = ("triangulation", "ba_gt", "ba_random")


@dataclass(frozen=True)
class Lifter:
    """The monocular lifter (Forward2Dto3D) and its training views."""

    hidden: int = 256
    blocks: int = 2
    components: int = 32
    batch_size: int = 256
    noise_px: float = 7.0  # Gaussian pixel noise of its training 2D (~1.5% of the box)
    swap_prob: float = 0.03
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=1000, lr=1e-3, betas=(0.9, 0.999), log_every=50)
    )


@dataclass(frozen=True)
class Solvers:
    """The settings, views, MetaPose stages and the baselines' budgets."""

    settings: tuple[Setting, ...] = ("noisy", "exact")
    views: tuple[int, ...] = (4, 2)
    init: Literal["lifter", "synthetic"] = "lifter"
    ir_steps: int = 100
    ir_lr: float = 1e-2
    s2_hidden: int = 128
    s2_max_stages: int = 3
    s2_min_gain: float = 0.01
    s2_batch: int = 128
    s2_train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=300, lr=1e-3, betas=(0.9, 0.999), log_every=50)
    )
    ba_frames: int = 12
    ba_rounds: int = 10
    rigs: RigDistribution = field(default_factory=RigDistribution)
    noise: Noise2D = field(default_factory=Noise2D)


def train_lifter(
    ctx: RunContext, cfg: Lifter, rigs: RigDistribution, poses: torch.Tensor, val: Views
):
    """Forward2Dto3D on ``poses`` seen by virtual cameras close to the rig's (pitch -2 to
    16 deg, the rig's distances and focal lengths) with noisy 2D; evaluated on view 0 of
    ``val``."""
    basis = PoseBasis.fit(poses, num_components=cfg.components)
    centre = (rigs.image_size[0] / 2.0, rigs.image_size[1] / 2.0)
    with ctx.seeded("lifter"):
        net = LiftingGenerator(
            basis, hidden=cfg.hidden, blocks=cfg.blocks, focal=sum(rigs.focal) / 2, principal=centre
        )
    cameras = CameraDistribution(
        pitch=(math.radians(-2.0), math.radians(16.0)),
        roll=(0.0, 0.0),
        distance=rigs.distance,
        offset=0.15,
        focal=rigs.focal,
        image_size=rigs.image_size,
        principal_jitter=0.0,
    )
    paired = PairedViews(
        poses.float(),
        batch_size=cfg.batch_size,
        cameras=cameras,
        noise=(cfg.noise_px, cfg.swap_prob),
    )
    target = val.camera[:, 0] - val.camera[:, 0, :1]
    task = LiftingTask(net, None, eval_inputs=val.noisy[:, 0].float(), eval_target=target.float())
    ctx.fit("lifter", task, Unpaired({"paired": paired}), cfg.train)
    return net.eval()


def _batch(cfg: Solvers, lifter, views: Views, setting: str, c: int, g: torch.Generator) -> dict:
    x2d, target = views.box_2d(setting, c)
    if cfg.init == "lifter":
        mono = lift_views(lifter, views.pixels(setting)[:, :c], views.rig.principal[:, :c])
    else:
        mono = synthetic_init(views.camera[:, :c], generator=g).float()
    return {**views_state(mono, x2d.float()), "target": target.float(), "mono": mono}


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _ba_rows(cfg: Solvers, views: Views, setting: str, c: int) -> torch.Tensor:
    n = min(cfg.ba_frames, len(views))
    return (
        torch.linspace(0, len(views) - 1, n).round().long()
        if n
        else torch.zeros(0, dtype=torch.long)
    )


def solve(
    ctx: RunContext, cfg: Solvers, lifter, pools: dict[str, Views], setting: str, c: int
) -> dict:
    """Every method of one (setting, C); returns ``{"scores": {method: {metric: (B,)}},
    "seconds": {method: per sample}, "rows": BA rows, "history": S2 validation, "poses":
    {method: (B, J, 3) in camera 0's frame... for the figure}``."""
    name = f"{setting}-{c}v"
    g = ctx.generator(f"metapose/init/{name}")
    train, val, test = (
        _batch(cfg, lifter, pools[k], setting, c, g) for k in ("train", "val", "test")
    )
    views = pools["test"]
    truth = views.camera[:, 0]
    eye = torch.eye(3, dtype=torch.float64).expand(len(views), 3, 3)
    scores: dict[str, dict] = {}
    mono_views = [
        pose_scores(test["mono"][:, k].double(), eye, views.camera[:, k]) for k in range(c)
    ]
    scores["mono"] = {m: torch.stack([s[m] for s in mono_views]).mean(0) for m in mono_views[0]}
    start, t_s1 = _timed(lambda: s1(test["mono"], test["x2d"]))
    ir, t_ir = _timed(lambda: refine(start, test["x2d"], steps=cfg.ir_steps, lr=cfg.ir_lr))
    model = MetaPoseS2(hidden=cfg.s2_hidden)

    def make_stage(m: MetaPoseS2) -> None:
        with ctx.seeded(f"s2-{name}-stage{len(m.stages)}"):
            m.add_stage()

    history = train_stages(
        model,
        lambda i, task: ctx.fit(
            f"s2-{name}-stage{i}", task, BatchPool(train, batch_size=cfg.s2_batch), cfg.s2_train
        ),
        val,
        max_stages=cfg.s2_max_stages,
        min_gain=cfg.s2_min_gain,
        make_stage=make_stage,
        lifter=lifter if cfg.init == "lifter" else None,  # exports the multi-view lifter
    )
    with torch.no_grad():
        s2, t_s2 = _timed(lambda: model(s1(test["mono"], test["x2d"]), test["x2d"]))
    states = {"s1": start, "ir": ir, "s2": s2}
    for key, state in states.items():
        scores[key] = pose_scores(state.pose.double(), state.rotation[:, 0].double(), truth)
    rows = _ba_rows(cfg, views, setting, c)
    sub, pixels = views.select(rows), views.pixels(setting)[rows, :c]
    rig = sub.rig.subset(c)
    tri, t_tri = _timed(lambda: triangulate(pixels, projection_matrices(rig)))
    scores["triangulation"] = pose_scores(tri, rig.rotation[:, 0], sub.camera[:, 0])
    seconds = {
        "s1": t_s1 / len(views),
        "ir": (t_s1 + t_ir) / len(views),
        "s2": t_s2 / len(views),
        "triangulation": t_tri / max(len(rows), 1),
    }
    for init in ("gt", "random"):
        pts, r0, sec = adjust_samples(
            pixels,
            rig,
            init=init,
            focal_guess=sum(cfg.rigs.focal) / 2,
            seed=ctx.seed,
            rounds=cfg.ba_rounds,
        )
        scores[f"ba_{init}"] = pose_scores(pts, r0, sub.camera[:, 0])
        seconds[f"ba_{init}"] = sec
    poses = {"s1": start, "ir": ir, "s2": s2}
    return {
        "scores": scores,
        "seconds": seconds,
        "rows": rows,
        "history": history,
        "poses": {k: v.pose.double() for k, v in poses.items()} | {"triangulation": tri},
    }


def build_pools(
    cfg: Solvers, ctx: RunContext, train: torch.Tensor, val: torch.Tensor, test: torch.Tensor
) -> dict[str, Views]:
    """The multi-view samples: one rig of ``max(views)`` cameras per pose."""
    rigs = replace(cfg.rigs, views=max(cfg.views))
    return {
        k: make_views(p, rigs, cfg.noise, generator=ctx.generator(f"metapose/views/{k}"))
        for k, p in (("train", train), ("val", val), ("test", test))
    }
