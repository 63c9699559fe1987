"""``align-digits``: USPS -> MNIST alignment with every distance, in an embedding and in pixels.

Thesis talk, LRMF slides ("DATA: MNIST (B), USPS (A); LRMF T(A) in emb space of VAEGAN /
in pixel space (GLOW)"; "Explicit failure signal: final LRMF loss != 0"). A = USPS digits,
B = MNIST digits, both 16x16; ``T`` is learned without any pairs or labels by
``min_T d(T(A), B)`` and judged by a digit classifier trained on MNIST only: the better
T(USPS) looks like MNIST *of the same digit*, the higher its accuracy.

Two spaces, the same methods:

* **embedding**: a convolutional autoencoder trained on both domains (unpaired images,
  reconstruction only) gives codes (``latent`` dims); ``T`` maps USPS codes, and
  ``decode(T(code))`` is classified;
* **pixel**: ``T`` maps the 256 pixels directly; ``clamp(T(x), 0, 1)`` is classified.

``T`` is affine in both (identity at the start; in pixel space an affine map can
represent a fixed resampling such as "shrink the digit into MNIST's margins"). Rows: no
alignment, mean, CORAL, MMD (multiscale RBF), Sinkhorn, adversarial (logistic MLP critic,
min-max), dual adversarial (RBF kernel, min-min), Gaussian LRMF and flow LRMF (affine T
is a linear normalizing flow; MAF shared/private densities). Data are standardized per
space (one center, one scale: :class:`~unpaired.alignment.Standardizer`); in pixel space
a fixed N(0, ``pixel_noise``^2) dequantization noise is added to the alignment sets
(MNIST's border pixels are exactly 0, on which a density model would collapse).

Honest split (no label of USPS test is used before the final evaluation):

* MNIST: only the test split (10,000) exists here. A fixed random 8,000 are "MNIST
  train" (classifier, autoencoder, alignment target B); the other 2,000 are "MNIST
  val" (classifier validation and the target side of the held-out distance).
* USPS train (7,291): a fixed random ``usps_holdout`` are held out; the rest is the
  alignment source A (and autoencoder data). The hold-out's labels are used only to
  monitor ``eval/holdout_accuracy`` during training (the split where model selection
  would be allowed); every method reports its *final* T (no selection).
* USPS test (2,007): only ``T(USPS test)`` accuracy at the end (the reported column).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.alignment import AutoencoderTask, ScoredAlignTask, Standardizer, fit_private_densities
from unpaired.data.augment import random_roll
from unpaired.data.digits import AlignmentSplits, alignment_splits
from unpaired.distances import FlowLRMF
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, accuracy, predict
from unpaired.models.autoencoder import Autoencoder
from unpaired.models.images import ImageClassifier
from unpaired.recipes._align_report import digits_report, digits_samples
from unpaired.recipes._names import alignment_distance, make_transform
from unpaired.recipes.base import RunContext
from unpaired.report import Report

#: Table rows: CLI distance name -> label.
METHODS = {
    "mean": "mean",
    "coral": "CORAL",
    "mmd": "MMD (multiscale RBF)",
    "sinkhorn": "Sinkhorn",
    "adversarial": "adversarial (min-max, logistic critic)",
    "dual-rbf": "dual adversarial (RBF, min-min)",
    "gaussian-lrmf": "Gaussian LRMF",
    "flow-lrmf": "flow LRMF (MAF density)",
}
SPACES = ("embedding", "pixel")


def _align_train(lr: float) -> TrainConfig:
    return TrainConfig(
        steps=1000,
        lr=lr,
        critic_lr=1e-3,
        betas=(0.5, 0.9),
        log_every=25,
        eval_every=100,
        checkpoint_every=500,
    )


def _fit_config(steps: int) -> TrainConfig:
    return TrainConfig(steps=steps, lr=2e-3, betas=(0.9, 0.999), log_every=50, eval_every=250)


@dataclass(frozen=True)
class Config:
    size: int = 16
    mnist_val: int = 2000  # of the 10,000 MNIST digits; the rest is "MNIST train"
    usps_holdout: int = 1000  # of USPS train: held out for monitoring
    latent: int = 32  # autoencoder code size (the embedding space)
    ae_width: int = 32
    classifier_width: int = 16
    classifier_batch: int = 64
    critic_hidden: int = 256  # adversarial critic and MAF density widths
    batch_size: int = 256
    eval_points: int = 1000  # held-out points per set for the distance curves
    pixel_noise: float = 0.01  # dequantization noise (pixel units) on the pixel-space sets
    identity_weight: float = 0.0  # R(T) = rho * mean((T(a) - a)^2), standardized units
    spaces: tuple[str, ...] = SPACES
    methods: tuple[str, ...] = tuple(METHODS)
    classifier: TrainConfig = field(default_factory=lambda: _fit_config(2000))
    autoencoder: TrainConfig = field(default_factory=lambda: _fit_config(2000))
    density: TrainConfig = field(  # the private densities of flow LRMF
        default_factory=lambda: TrainConfig(
            steps=1000, lr=1e-3, betas=(0.9, 0.999), log_every=50, eval_every=250
        )
    )
    embedding: TrainConfig = field(default_factory=lambda: _align_train(2e-3))
    pixel: TrainConfig = field(default_factory=lambda: _align_train(2e-4))

    QUICK: ClassVar[dict] = {
        "classifier.steps": 500,
        "autoencoder.steps": 500,
        "density.steps": 200,
        "embedding.steps": 300,
        "pixel.steps": 300,
        "eval_points": 500,
    }

    def __post_init__(self) -> None:  # a bad value fails at --set time, not mid-run
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ConfigError(
                f"unknown align-digits method(s) {bad}; choose from {', '.join(METHODS)}"
            )
        bad = [s for s in self.spaces if s not in SPACES]
        if bad:
            raise ConfigError(f"unknown space(s) {bad}; choose from {', '.join(SPACES)}")
        if self.size % 8 or self.size < 8:
            raise ConfigError(f"size must be a multiple of 8 (classifier pooling), got {self.size}")
        if self.size != 16 and "embedding" in self.spaces:
            raise ConfigError("the embedding space's autoencoder is built for size=16")


@dataclass
class Space:
    """A feature space: standardized source/target features and the way back to images."""

    name: str
    a: torch.Tensor  # USPS-fit features (N, D)
    b: torch.Tensor  # MNIST-train features (M, D)
    holdout: torch.Tensor  # USPS-holdout features
    val_b: torch.Tensor  # MNIST-val features
    test: torch.Tensor  # USPS-test features
    to_images: Callable[[torch.Tensor], torch.Tensor]  # standardized features -> images


def _features(
    cfg: Config, name: str, splits: AlignmentSplits, ae: Autoencoder | None, g: torch.Generator
) -> Space:
    """The five sets in one space (codes of ``ae``, or pixels + dequantization noise on
    the four alignment sets), standardized together on USPS-fit and MNIST-train."""
    sp = splits
    sets = [sp.usps_fit, sp.mnist_train, sp.usps_holdout, sp.mnist_val, sp.usps_test]
    if name == "embedding":
        assert ae is not None
        feats = [predict(ae.encode, s.images, chunk=1000) for s in sets]
        back: Callable[[torch.Tensor], torch.Tensor] = lambda x: predict(ae.decode, x, chunk=len(x))  # noqa: E731
    else:
        feats = [s.images.flatten(1) for s in sets]
        noisy = [f + cfg.pixel_noise * torch.randn(f.shape, generator=g) for f in feats[:4]]
        feats = noisy + feats[4:]
        side = cfg.size
        back = lambda x: x.clamp(0, 1).reshape(-1, 1, side, side)  # noqa: E731
    std = Standardizer.fit(feats[0], feats[1])
    z = [std(f) for f in feats]
    return Space(name, *z, to_images=lambda t: back(std.inverse(t)))


def _align_space(
    cfg: Config,
    ctx: RunContext,
    space: Space,
    classifier: ImageClassifier,
    splits: AlignmentSplits,
) -> list[dict[str, Any]]:
    """The no-alignment row and one row per method: T trained, scored on USPS test."""
    dim = space.a.shape[1]
    train = cfg.embedding if space.name == "embedding" else cfg.pixel

    def score_on(labels: torch.Tensor) -> Callable[[torch.Tensor], float]:
        return lambda feats: accuracy(classifier, space.to_images(feats), labels)

    holdout_score = score_on(splits.usps_holdout.labels)
    test_score = score_on(splits.usps_test.labels)
    data = Unpaired(
        {
            "a": TensorSampler(space.a, batch_size=cfg.batch_size),
            "b": TensorSampler(space.b, batch_size=cfg.batch_size),
        }
    )
    row = {"space": space.name, "method": "no alignment", "distance": None, "seconds": 0.0}
    rows = [
        row
        | {
            "test": test_score(space.test),
            "holdout": holdout_score(space.holdout),
            "transform": make_transform("affine", dim),
        }
    ]
    for method in cfg.methods:
        k = min(cfg.eval_points, 500) if method.startswith("dual") else cfg.eval_points
        eval_a, eval_b = space.holdout[:k], space.val_b[:k]
        dist = alignment_distance(method, dim, critic_hidden=cfg.critic_hidden)
        seconds = 0.0
        if isinstance(dist, FlowLRMF):
            prefix = f"{space.name}/"
            fit_private_densities(
                dist,
                space.a,
                space.b,
                session=ctx,
                config=cfg.density,
                batch_size=cfg.batch_size,
                eval_a=eval_a,
                eval_b=eval_b,
                prefix=prefix,
                monitor=True,
            )
            seconds += sum(ctx.fits[f"{prefix}density-{s}"].seconds for s in ("source", "target"))
        task = ScoredAlignTask(
            make_transform("affine", dim),
            dist,
            holdout=space.holdout,
            score=holdout_score,
            eval_a=eval_a,
            eval_b=eval_b,
            identity_weight=cfg.identity_weight,
        )
        fit = ctx.fit(f"{space.name}/{method}", task, data, train)
        rows.append(
            row
            | {
                "method": method,
                "test": test_score(predict(task.transform, space.test, chunk=len(space.test))),
                "holdout": fit.final.get("eval/holdout_accuracy"),
                "distance": fit.final.get("eval/distance"),
                "seconds": seconds + fit.seconds,
                "transform": task.transform,
            }
        )
    return rows


def run(cfg: Config, ctx: RunContext) -> Report:
    splits = alignment_splits(
        ctx.data_root(),
        size=cfg.size,
        mnist_val=cfg.mnist_val,
        usps_holdout=cfg.usps_holdout,
        mnist_generator=ctx.generator("align-digits/mnist-split"),
        usps_generator=ctx.generator("align-digits/usps-split"),
    )
    train, val = splits.mnist_train, splits.mnist_val
    classifier = ImageClassifier(1, num_classes=10, width=cfg.classifier_width, stages=3)
    clf_task = ClassifierTask(
        classifier, val.images, val.labels, augment=lambda x: random_roll(x, 1)
    )
    data = TensorSampler(train.images, train.labels, batch_size=cfg.classifier_batch)
    ctx.fit("classifier", clf_task, data, cfg.classifier)
    classifier.eval()
    refs = {"MNIST val (target domain)": accuracy(classifier, val.images, val.labels)}
    ae = None
    if "embedding" in cfg.spaces:
        ae = Autoencoder(cfg.latent, cfg.ae_width)
        ae_task = AutoencoderTask(ae, torch.cat([splits.usps_holdout.images, val.images]))
        ae_data = Unpaired(
            {
                "usps": TensorSampler(splits.usps_fit.images, batch_size=64),
                "mnist": TensorSampler(train.images, batch_size=64),
            }
        )
        ctx.fit("autoencoder", ae_task, ae_data, cfg.autoencoder)
        ae.eval()
        rec = predict(ae, val.images, chunk=len(val))
        refs["MNIST val, autoencoded"] = accuracy(classifier, rec, val.labels)
    rows: list[dict[str, Any]] = []
    g = ctx.generator("align-digits/pixel-noise")
    for name in cfg.spaces:
        space = _features(cfg, name, splits, ae, g)
        rows += _align_space(cfg, ctx, space, classifier, splits)
        if ctx.is_main:
            digits_samples(ctx.path(f"figures/samples_{name}.png"), space, rows, splits.usps_test)
    return digits_report(
        rows,
        refs,
        spaces=cfg.spaces,
        labels=METHODS,
        classifier_width=cfg.classifier_width,
        is_main=ctx.is_main,
    )
