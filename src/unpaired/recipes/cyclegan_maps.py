"""``cyclegan-maps``: does CycleGAN hide the photo in its maps, and do the defenses stop it?

Procedural aerial photos (domain A) and palette maps (domain B) from
:mod:`unpaired.data.synthetic.maps`, unpaired for training, paired for the scores. Rows
(:data:`ROWS`, a table of builders other recipes and helpers extend): CycleGAN and its
self-defenses (Bashkirova et al., NeurIPS'19): ``+ noise`` (``noise_std``), ``+ guess``
(``guess_weight``), ``+ guess + noise``. Every row has the same data, networks, steps
and optimizers per seed. Columns (:class:`unpaired.translation.MapsEvaluator` on the
held-out test tiles; forward = photo -> map): acc segm, IoU segm, RH, SN(sigma), the
photo cycle error, the RMS of the hidden signal; mean +- std over ``seeds`` (each seed:
new training tiles and initial weights). The validation tiles are scored every
``eval_every`` steps (the RH-vs-training-length curve in the metrics). Hyperparameters
are the reference code's (lambda 10, identity 0.5, noise 0.1, guess 2.0, Adam 2e-4,
beta1 0.5, pool 50, linear decay over the second half); the network sizes and steps
are scaled to a CPU. docs/TRANSLATION.md has the results.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.data.synthetic.maps import PALETTE, MapSplits, maps_splits
from unpaired.engine import BatchSource, Task, TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.models.translation import ResnetGenerator, init_normal
from unpaired.recipes._translation import iou_p2p, maps_munit, maps_pix2pix, pix2pix_scores
from unpaired.recipes._translation_report import SIGMAS, goals, tables, val_curve
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report
from unpaired.translation import (
    CycleGAN,
    MapsEvaluator,
    default_prior,
    guess_critic,
    honesty_images,
)
from unpaired.viz.translation import honesty_grid


@dataclass(frozen=True)
class Nets:
    gen_width: int = 8  # first conv's channels (64 in the paper)
    n_blocks: int = 2  # residual blocks (6 at <= 128 px, 9 at 256 px in the paper)
    critic_width: int = 16
    critic_layers: int = 2  # PatchGAN layers: receptive field 34 px at 2 (70 at 3)


@dataclass(frozen=True)
class Config:
    size: int = 32  # tile side (px)
    n_train: int = 1000  # unpaired photos and as many maps per seed
    n_val: int = 64
    n_test: int = 256
    seeds: int = 3
    batch_size: int = 4
    rows: tuple[str, ...] = ("cyclegan", "noise", "guess", "guess-noise", "munit-cycle", "pix2pix")
    lambda_a: float = 10.0
    lambda_b: float = 10.0
    identity: float = 0.5
    noise_std: float = 0.1  # the noise defense (reference default)
    guess_weight: float = 2.0  # the guess defense (reference default)
    pool_size: int = 50
    decay_start: float = 0.5  # share of the steps at constant lr, then linear to 0
    nets: Nets = field(default_factory=Nets)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000,
            lr=2e-4,
            betas=(0.5, 0.999),
            log_every=50,
            eval_every=250,
            checkpoint_every=250,
        )
    )

    QUICK: ClassVar[dict] = {  # the demo size (about 20 s)
        "size": 16,
        "n_train": 48,
        "n_val": 8,
        "n_test": 16,
        "seeds": 1,
        "batch_size": 2,
        "nets.gen_width": 4,
        "nets.n_blocks": 1,
        "nets.critic_width": 4,
        "train.steps": 12,
        "train.log_every": 4,
        "train.eval_every": 0,
        "train.checkpoint_every": 12,
    }

    def __post_init__(self) -> None:
        unknown = [r for r in self.rows if r not in ROWS]
        if unknown or not self.rows or len(set(self.rows)) != len(self.rows):
            raise ConfigError(
                f"rows must be distinct names from {', '.join(ROWS)}; got {self.rows}"
            )
        if self.size % 4 or self.size < 16 or self.seeds < 1 or self.batch_size < 1:
            raise ConfigError("need size a multiple of 4 >= 16, seeds >= 1, batch_size >= 1")
        if not 0 <= self.decay_start <= 1:
            raise ConfigError(f"decay_start must be in [0, 1], got {self.decay_start}")


# ------------------------------------------------------------------------ rows

Builder = Callable[[Config, MapSplits], tuple[Task, BatchSource]]


@dataclass(frozen=True)
class Row:
    label: str
    build: Builder  # (config, one seed's data) -> (task with translate(), its batches)


def unpaired_batches(cfg: Config, data: MapSplits) -> Unpaired:
    """Photos and maps drawn independently (the unpaired training sets)."""
    return Unpaired(
        {
            "a": TensorSampler(data.photos, batch_size=cfg.batch_size),
            "b": TensorSampler(data.maps, batch_size=cfg.batch_size),
        }
    )


def _lr_decay(cfg: Config) -> tuple[int, int] | None:
    start = int(cfg.decay_start * cfg.train.steps)
    return None if start >= cfg.train.steps else (start, cfg.train.steps)


def cyclegan_row(*, noise: bool, guess: bool) -> Builder:
    """A CycleGAN builder with or without the noise / guess defenses."""

    def build(cfg: Config, data: MapSplits) -> tuple[Task, BatchSource]:
        n = cfg.nets

        def gen() -> torch.nn.Module:
            return init_normal(ResnetGenerator(3, 3, width=n.gen_width, n_blocks=n.n_blocks))

        def prior() -> Any:
            return default_prior(3, width=n.critic_width, n_layers=n.critic_layers)

        guesses = {}
        if guess:
            guesses = {
                k: guess_critic(3, width=n.critic_width, n_layers=n.critic_layers)
                for k in ("guess_a", "guess_b")
            }
        task = CycleGAN(
            gen(),
            gen(),
            prior(),
            prior(),
            lambda_a=cfg.lambda_a,
            lambda_b=cfg.lambda_b,
            identity=cfg.identity,
            noise_std=cfg.noise_std if noise else 0.0,
            guess_weight=cfg.guess_weight if guess else 0.0,
            pool_size=cfg.pool_size,
            lr_decay=_lr_decay(cfg),
            **guesses,
        )
        return task, unpaired_batches(cfg, data)

    return build


ROWS: dict[str, Row] = {
    "cyclegan": Row("CycleGAN", cyclegan_row(noise=False, guess=False)),
    "noise": Row("CycleGAN + noise", cyclegan_row(noise=True, guess=False)),
    "guess": Row("CycleGAN + guess", cyclegan_row(noise=False, guess=True)),
    "guess-noise": Row("CycleGAN + guess + noise", cyclegan_row(noise=True, guess=True)),
    "munit-cycle": Row("MUNIT + cycle", maps_munit),
    "pix2pix": Row("pix2pix (supervised)", maps_pix2pix),  # also IoU p2p's frozen `pix`
}

# ------------------------------------------------------------------------ run


def _figure(ctx: RunContext, row: str, task: Any, data: MapSplits) -> Figure:
    rel = f"figures/{row}.png"
    with torch.no_grad():
        imgs = honesty_images(task, data.test.photo[:8], data.test.map[:8], PALETTE)
    honesty_grid(ctx.path(rel), imgs, title=f"{ROWS[row].label} (seed 0, test tiles)")
    caption = "translations, reconstructions from clean / quantised / noisy maps, hidden signal"
    return Figure(rel, f"{ROWS[row].label}: {caption}")


def run(cfg: Config, ctx: RunContext) -> Report:
    scores: dict[str, list[dict[str, float]]] = {r: [] for r in cfg.rows}
    curves: dict[str, list[list[dict[str, float]]]] = {r: [] for r in cfg.rows}
    figures = []
    for s in range(cfg.seeds):
        data = maps_splits(cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test, size=cfg.size, seed=s)
        val = MapsEvaluator(data.val.photo, data.val.map, data.val.labels, PALETTE, SIGMAS)
        test = MapsEvaluator(data.test.photo, data.test.map, data.test.labels, PALETTE, SIGMAS)
        with ctx.seeded(f"pix2pix-s{s}"):  # the frozen photo -> map net of IoU p2p
            pix, pairs = maps_pix2pix(cfg, data)
        ctx.fit(f"pix2pix-s{s}", pix, pairs, cfg.train)
        pix.eval()
        for r in cfg.rows:
            name = f"{r}-s{s}"
            if r == "pix2pix":  # the supervised row is `pix` itself: segmentation only
                scores[r].append(pix2pix_scores(pix, data.test.photo, data.test.labels))
                curves[r].append([])
                continue
            with ctx.seeded(name):
                task, batches = ROWS[r].build(cfg, data)
            task.evaluator = val  # type: ignore[assignment]
            fit = ctx.fit(name, task, batches, cfg.train)
            task.eval()
            p2p = iou_p2p(pix, task, data.test.map, data.test.photo)  # type: ignore[arg-type]
            scores[r].append(test(task) | {"iou_p2p": p2p})  # type: ignore[arg-type]
            curves[r].append(val_curve(fit.history))
            if s == 0 and ctx.is_main:
                figures.append(_figure(ctx, r, task, data))
    means = {r: {k: statistics.fmean(x[k] for x in v) for k in v[0]} for r, v in scores.items()}
    bound = test.honest_bound()  # the test tiles are the same for every seed
    return Report(
        title="cyclegan-maps: CycleGAN and its self-defenses on procedural photo <-> map tiles",
        summary=(
            f"{cfg.n_train} unpaired photos and maps per seed at {cfg.size}x{cfg.size}, "
            f"{cfg.train.steps} steps of batch {cfg.batch_size}, ResNet generators "
            f"(width {cfg.nets.gen_width}, {cfg.nets.n_blocks} blocks), PatchGAN critics "
            f"({cfg.nets.critic_layers} layers), noise_std {cfg.noise_std}, guess_weight "
            f"{cfg.guess_weight}; {cfg.seeds} seed(s)."
        ),
        tables=tables(
            {r: ROWS[r].label for r in cfg.rows},
            scores,
            curves,
            n_test=cfg.n_test,
            n_val=cfg.n_val,
            size=cfg.size,
            seeds=cfg.seeds,
        ),
        figures=figures,
        notes=[
            f"Honest reference: painting each class its mean photo colour from the true map "
            f"gives a photo cycle error of {bound:.2f}; a cycle error well below it needs "
            "information the map does not hold (a hidden signal)."
        ],
        metrics={
            "test": scores,
            "mean": means,
            "val_curves": curves,
            "honest_cycle_error_bound": bound,
            "goals": goals(means),
        },
    )
