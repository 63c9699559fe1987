"""``sfm-sequence``: depth and egomotion on your own TUM RGB-D, KITTI or Virtual KITTI sequence.

``unpaired run sfm-sequence --set data.sequence=PATH --set data.format=tum|kitti|vkitti``
(AIGN Sec. 3.2, "Pret.+SelfSup" of Table 3, on a sequence you bring):

1. **Pretrain**: supervised on procedural streets (``train_seeds``, true depth and
   motion) rendered through the sequence's own camera (its intrinsics at the working
   size), as ``sfm-scenes`` pretrains; or ``--set init=RUN_DIR`` loads the model
   ``init_model`` (default ``pretrain``) of an earlier ``sfm-scenes`` / ``sfm-sequence``
   run (``models/<name>.pt``, :func:`unpaired.load`) and works at its size.
2. **Pret.+SelfSup**: finetuned self-supervised on the sequence's consecutive frame pairs
   (Eq. 3 + camera-motion prior, memories of motions from the ``memory_seeds`` streets;
   with ``finetune_depth_lr_scale`` > 0 the depth network trains too, against a depth
   prior whose memories are unrelated RGB-D frames: ``data.memories=DIR`` or the data
   directory's ``rgbd_frames``).
3. Both are evaluated against the sequence's own ground truth where it has some
   (:func:`unpaired.aign.sfm.sequence_metrics`): depth with per-frame median scaling
   (and without scaling), the Table 3 relative-pose columns, the whole trajectory's ATE
   after a similarity (Umeyama) alignment, and 5-frame ATE.

The formats, their calibration (TUM's published intrinsics per camera, KITTI's
``calib.txt``, Virtual KITTI's constants) and what ``data.sequence`` points at:
:mod:`unpaired.data.sequences`; ``data.intrinsics=fx,fy,cx,cy`` (pixels of the files)
overrides the calibration. The trained models apply to any sequence with
``unpaired predict RUN_DIR SEQUENCE --model pretrain-selfsup``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from unpaired.aign.sfm import SfMGenerator, sequence_metrics
from unpaired.data.flow import PairSet, make_pair_set
from unpaired.data.rgbd import FramePairs, depth_memories
from unpaired.data.sequences import SequenceFiles, folder_depth_memories, open_sequence
from unpaired.data.synthetic.scenes import MAX_FRAMES, render_sequence, street_motions
from unpaired.engine import TrainConfig
from unpaired.engine.records import LoadedModel, load
from unpaired.errors import ConfigError, DataError
from unpaired.recipes._names import SequenceFormatName, SfMPriorName
from unpaired.recipes._sfm import (
    Memories,
    finetune,
    finetune_config,
    pretrain,
    pretrain_config,
    pretrained,
)
from unpaired.recipes.base import RunContext
from unpaired.report import Report, Table

#: Working size (H, W) per format when ``height``/``width`` are 0: TUM's 4:3 frames,
#: KITTI's and Virtual KITTI's 3.3:1 ones.
SIZES = {"tum": (48, 64), "kitti": (32, 96), "vkitti": (32, 96)}
DEPTH_COLUMNS = ("log_l1", "abs_rel", "sq_rel", "rmse", "log_rmse", "delta1", "delta2", "delta3")
CAMERA_COLUMNS = ("trl_err", "rot_err", "trl_mag", "trl_ang", "ate", "ate_scale", "ate_unscaled", "ate5")  # fmt: skip
MODELS = ("Pretrain", "Pret.+SelfSup")


@dataclass(frozen=True)
class Data:
    sequence: str = ""  # the sequence folder (required; see unpaired.data.sequences)
    format: SequenceFormatName = "tum"
    intrinsics: tuple[float, ...] = ()  # fx, fy, cx, cy in the files' pixels; (): calibration
    camera: str = "auto"  # TUM: fr1/fr2/fr3 (auto: by folder name); KITTI: 0-3 (auto: 2, 0, 3, 1)
    start: int = 0
    stop: int | None = None
    step: int = 1
    memories: str = ""  # folder of depth images (""): <data dir>/rgbd_frames)
    memory_scale: float = 5000.0  # units per metre of a memory folder's 16-bit PNGs


@dataclass(frozen=True)
class Config:
    data: Data = field(default_factory=Data)
    init: str = ""  # a run directory to start from instead of pretraining
    init_model: str = "pretrain"  # which of its models
    height: int = 0  # working size; 0: by format (SIZES), or the init model's
    width: int = 0
    train_seeds: tuple[int, ...] = (1, 2, 3, 4)  # streets of the supervised pretraining
    memory_seeds: tuple[int, ...] = (5, 6, 7, 8)  # streets whose motions are the memories
    train_frames: int = 150  # frames rendered per training street
    batch_size: int = 8
    depth_prior: SfMPriorName = "adversarial"
    motion_prior: SfMPriorName = "adversarial"
    finetune_beta: float = 0.02
    finetune_motion_prior_weight: float = 0.25
    finetune_depth_lr_scale: float = 0.0  # > 0: the depth net trains (and the depth prior)
    blur_sigma: float = 1.5
    ema: float = 0.99
    depth_channels: tuple[int, ...] = (8, 16, 32, 64, 128)
    ego_channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    init_depth: float = 10.0
    angle_scale: float = 0.05
    pretrain: TrainConfig = field(default_factory=pretrain_config)
    finetune: TrainConfig = field(default_factory=finetune_config)

    QUICK: ClassVar[dict] = {
        "train_seeds": (1,),
        "memory_seeds": (5,),
        "train_frames": 20,
        "depth_channels": (8, 16, 32),
        "ego_channels": (8, 16, 32, 64),
        "pretrain.steps": 30,
        "pretrain.eval_every": 15,
        "pretrain.log_every": 15,
        "finetune.steps": 30,
        "finetune.eval_every": 15,
        "finetune.log_every": 15,
    }

    def __post_init__(self) -> None:
        if set(self.train_seeds) & set(self.memory_seeds):
            raise ConfigError("train_seeds and memory_seeds must be different streets")
        if not self.train_seeds or not self.memory_seeds:
            raise ConfigError("train_seeds and memory_seeds must not be empty")
        if not 2 <= self.train_frames <= MAX_FRAMES:
            raise ConfigError(f"train_frames must be in [2, {MAX_FRAMES}], got {self.train_frames}")
        if (self.height == 0) != (self.width == 0) or min(self.height, self.width) < 0:
            raise ConfigError(f"set both height and width (>= 16) or neither, got {self.height}x{self.width}")  # fmt: skip
        if self.height and min(self.height, self.width) < 16:
            raise ConfigError(f"height and width must be >= 16, got {self.height}x{self.width}")
        if self.data.intrinsics and len(self.data.intrinsics) != 4:
            raise ConfigError(f"data.intrinsics must be fx,fy,cx,cy, got {list(self.data.intrinsics)}")  # fmt: skip


def _files(cfg: Config) -> SequenceFiles:
    d = cfg.data
    if not d.sequence:
        raise ConfigError(
            "set data.sequence=PATH (a TUM, KITTI or Virtual KITTI sequence folder) and "
            "data.format=tum|kitti|vkitti"
        )
    return open_sequence(
        d.sequence,
        d.format,
        intrinsics=d.intrinsics or None,
        camera=d.camera,
        start=d.start,
        stop=d.stop,
        step=d.step,
    )


def _init(cfg: Config) -> LoadedModel:
    model = load(Path(cfg.init).expanduser(), cfg.init_model)
    if model.kind != "sfm":
        raise DataError(f"{model.path}: model '{model.name}' is a {model.kind} model, not sfm")
    return model


def check(cfg: Config) -> None:
    """Before the run directory is written: the sequence's files and calibration, the
    init run's model and the memory folder (the error names the file)."""
    _files(cfg)
    if cfg.init:
        _init(cfg)
    if cfg.data.memories and not Path(cfg.data.memories).expanduser().is_dir():
        raise DataError(f"{cfg.data.memories}: no such depth-memory folder (data.memories)")


def _size(cfg: Config, init: LoadedModel | None) -> tuple[int, int]:
    if init is None:
        return (cfg.height, cfg.width) if cfg.height else SIZES[cfg.data.format]
    meta = init.meta["generator"]
    size = (int(meta["height"]), int(meta["width"]))
    if cfg.height and (cfg.height, cfg.width) != size:
        raise ConfigError(
            f"init model '{init.name}' works at {size[0]}x{size[1]}; leave height/width unset"
        )
    return size


def _streets(cfg: Config, k: torch.Tensor, h: int, w: int) -> PairSet:
    """The pretraining pairs: the training streets seen through the sequence's camera."""
    pairs = [
        render_sequence(s, n_frames=cfg.train_frames, height=h, width=w, intrinsics=k).pairs()
        for s in cfg.train_seeds
    ]
    return make_pair_set(FramePairs.cat(pairs))


def _depth_memories(cfg: Config, ctx: RunContext, h: int, w: int) -> torch.Tensor:
    if cfg.data.memories:
        return folder_depth_memories(
            cfg.data.memories, height=h, width=w, depth_scale=cfg.data.memory_scale
        )
    return depth_memories(ctx.data_root(), height=h, width=w)


def _table(title: str, keys: tuple[str, ...], prefix: str, metrics: dict, note: str) -> Table:
    rows = [[n, *(metrics[n].get(prefix + k) for k in keys)] for n in MODELS]
    return Table(title, ["model", *keys], rows, note)


def _tables(metrics: dict, files: SequenceFiles) -> list[Table]:
    out = []
    if files.has_depth:
        note = (
            "Per-frame median scaling (each predicted map times median(true) / "
            "median(predicted) over its valid pixels, Zhou et al.); true depth capped at "
            "80 m, 0 = no measurement skipped."
        )
        out.append(_table("Depth, median-scaled per frame", DEPTH_COLUMNS, "depth_med_", metrics, note))  # fmt: skip
        keys = ("log_l1", "abs_rel", "delta1", "log_scale")
        rows = [[n, *(metrics[n].get(k if k == "log_scale" else f"depth_{k}") for k in keys)] for n in MODELS]  # fmt: skip
        note = "No scaling (the AIGN paper's convention); log scale = mean log(median predicted / median true), 0 = true scale."  # fmt: skip
        out.append(Table("Depth, no scaling", ["model", *keys], rows, note))
    if files.has_poses:
        note = (
            "Table 3 columns per consecutive pair, no scaling (metres, radians; trl ang "
            "skips stopped pairs). ate: RMSE of the whole trajectory's camera positions "
            "after a similarity (Umeyama) alignment, ate_scale its scale (1 = right speed), "
            "ate_unscaled after a rigid one; ate5: 5-frame snippets (Zhou et al.)."
        )
        out.append(_table("Camera motion (AIGN Table 3) and trajectory", CAMERA_COLUMNS, "", metrics, note))  # fmt: skip
    return out


def _path(pairs: PairSet) -> float:
    return float(pairs.translation.norm(dim=-1).sum())


def run(cfg: Config, ctx: RunContext) -> Report:
    files = _files(cfg)
    init = _init(cfg) if cfg.init else None
    h, w = _size(cfg, init)
    seq = files.read(h, w)
    test = seq.pair_set()
    memories = Memories(_depth_memories(cfg, ctx, h, w).log(), street_motions(cfg.memory_seeds))
    steps: dict[str, Any] = {}
    if init is None:
        pre, fit = pretrain(cfg, ctx, _streets(cfg, seq.intrinsics, h, w), test)
        steps["pretrain"], build = fit.steps, None
    else:
        net = init.networks["generator"]
        assert isinstance(net, SfMGenerator)
        pre, build = pretrained(net, test), lambda: copy.deepcopy(net)
        steps["pretrain"] = f"loaded: {init.path} (step {init.step})"
    fine, fit = finetune(cfg, ctx, pre, test, memories, build=build)
    steps["finetune"] = fit.steps
    metrics = {}
    for name, task in zip(MODELS, (pre, fine), strict=True):
        task.eval()
        pred = task.predict_all(test.inputs)
        metrics[name] = sequence_metrics(pred["log_depth"], pred["motion"], test)
    truth = [k for k, has in (("depth", files.has_depth), ("poses", files.has_poses)) if has]
    tables = _tables(metrics, files)
    return Report(
        title=f"sfm-sequence: depth and egomotion on {files.path.name} ({files.format})",
        summary=(
            f"{len(files)} frames of {files.path} ({files.format}) at {h}x{w}, intrinsics "
            f"from {files.calibration}; pretraining: "
            f"{'streets ' + str(list(cfg.train_seeds)) if init is None else steps['pretrain']}; "
            f"finetuned {fit.steps} steps on the sequence's {len(test)} pairs with "
            f"{len(memories.depth)} depth memories and {len(memories.motion)} motion "
            f"memories. Ground truth: {', '.join(truth) or 'none (no errors to report)'}"
            + (f"; true path {_path(test):.1f} m." if files.has_poses else ".")
        ),
        tables=tables,
        metrics={
            "sequence": {
                "path": str(files.path),
                "format": files.format,
                "frames": len(files),
                "size": [h, w],
                "calibration": files.calibration,
                "ground_truth": truth,
            },
            "test": metrics,
            "steps": steps,
        },
    )
