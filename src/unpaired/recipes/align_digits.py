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
represent a fixed resampling such as "shrink the digit into MNIST's margins", but also
any permutation of the pixels). In pixel space ``pixel_transforms`` adds the families
with an image's inductive bias (``structured`` T, :mod:`unpaired.models.transforms`): a
spatial warp (affine, thin-plate with ``warp_control`` > 0) followed by a monotone tone
curve (8 parameters + 6), and a small residual convolutional network (exact identity at
the start; no log-determinant, so no flow-LRMF row). Rows: no alignment, mean, CORAL,
MMD (multiscale RBF), Sinkhorn, adversarial (logistic MLP critic, min-max), dual
adversarial (RBF kernel, min-min), Gaussian LRMF and flow LRMF (affine T is a linear
normalizing flow; MAF shared/private densities, fit once per space).

References: *source only* (= no alignment: the MNIST classifier on raw USPS) and the
*target oracle* (the same classifier trained on USPS-fit labels, validated on the USPS
hold-out, scored on USPS test). Label-free signals: each method's final distance on
held-out sets (LRMF: ~0 nats when aligned, the thesis' "explicit failure signal") and,
in one unit for every row, a *referee* MMD between T(USPS hold-out) and MNIST val
images; the report gives their Spearman correlation with USPS test accuracy across rows. Data are standardized per
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
  would be allowed: the structured T's learning rates were chosen on it, see
  docs/DISTANCES.md); every method reports its *final* T (no selection).
* USPS test (2,007): only ``T(USPS test)`` accuracy at the end (the reported column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.alignment import AutoencoderTask
from unpaired.data.augment import random_roll
from unpaired.data.digits import alignment_splits
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, accuracy, predict
from unpaired.models.autoencoder import Autoencoder
from unpaired.models.images import ImageClassifier
from unpaired.recipes._align_digits import AlignSettings, align_space, features, target_oracle
from unpaired.recipes._align_digits_report import digits_report, digits_samples
from unpaired.recipes._names import IMAGE_TRANSFORMS
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
#: T families: name -> label.
FAMILIES = {"affine": "affine (D x D)", "warp": "warp + tone curve", "conv": "residual conv"}
SPACES = ("embedding", "pixel")


#: Learning rates of the structured T (Adam), chosen on the USPS hold-out accuracy
#: (docs/DISTANCES.md, "align-digits: structured T"); never on USPS test.
WARP_LR = 1e-3
CONV_LR = 1e-4


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
    pixel_transforms: tuple[str, ...] = tuple(FAMILIES)  # T families in pixel space
    conv_methods: tuple[str, ...] = ("mmd", "sinkhorn", "adversarial", "dual-rbf")  # of methods
    warp_control: int = 0  # thin-plate grid of the warp (0: affine warp)
    warp_logdet_floor: float = 1e-3  # flow LRMF: the warp's singular values floored here
    oracle: bool = True  # train the target-oracle reference (USPS labels)
    classifier: TrainConfig = field(default_factory=lambda: _fit_config(2000))
    autoencoder: TrainConfig = field(default_factory=lambda: _fit_config(2000))
    density: TrainConfig = field(  # the private densities of flow LRMF
        default_factory=lambda: TrainConfig(
            steps=1000, lr=1e-3, betas=(0.9, 0.999), log_every=50, eval_every=250
        )
    )
    embedding: TrainConfig = field(default_factory=lambda: _align_train(2e-3))
    pixel: TrainConfig = field(default_factory=lambda: _align_train(2e-4))  # affine T
    warp: TrainConfig = field(default_factory=lambda: _align_train(WARP_LR))
    conv: TrainConfig = field(default_factory=lambda: _align_train(CONV_LR))

    QUICK: ClassVar[dict] = {
        "classifier.steps": 500,
        "autoencoder.steps": 500,
        "density.steps": 200,
        "embedding.steps": 300,
        "pixel.steps": 300,
        "warp.steps": 300,
        "conv.steps": 300,
        "eval_points": 500,
        "pixel_transforms": ("affine", "warp"),
        "oracle": False,
    }

    def __post_init__(self) -> None:  # a bad value fails at --set time, not mid-run
        for what, got, choices in (
            ("align-digits method(s)", self.methods, tuple(METHODS)),
            ("space(s)", self.spaces, SPACES),
            ("pixel_transforms", self.pixel_transforms, IMAGE_TRANSFORMS),
            ("conv_methods", self.conv_methods, tuple(METHODS)),
        ):
            bad = [m for m in got if m not in choices]
            if bad:
                raise ConfigError(f"unknown {what} {bad}; choose from {', '.join(choices)}")
        if self.size % 8 or self.size < 8:
            raise ConfigError(f"size must be a multiple of 8 (classifier pooling), got {self.size}")
        if self.size != 16 and "embedding" in self.spaces:
            raise ConfigError("the embedding space's autoencoder is built for size=16")


def _settings(cfg: Config, space: str, family: str) -> AlignSettings:
    train = {"affine": cfg.pixel, "warp": cfg.warp, "conv": cfg.conv}[family]
    chosen = [m for m in cfg.methods if family != "conv" or m in cfg.conv_methods]
    return AlignSettings(
        methods=tuple(chosen),
        train=cfg.embedding if space == "embedding" else train,
        density=cfg.density,
        batch_size=cfg.batch_size,
        eval_points=cfg.eval_points,
        critic_hidden=cfg.critic_hidden,
        identity_weight=cfg.identity_weight,
        size=cfg.size,
        control=cfg.warp_control,
        logdet_floor=cfg.warp_logdet_floor,
    )


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
    refs["source only (= no alignment): MNIST classifier on USPS test"] = accuracy(
        classifier, splits.usps_test.images, splits.usps_test.labels
    )
    rows: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    g = ctx.generator("align-digits/pixel-noise")
    for name in cfg.spaces:
        space = features(name, splits, ae, g, size=cfg.size, pixel_noise=cfg.pixel_noise)
        families = cfg.pixel_transforms if name == "pixel" else ("affine",)
        for i, family in enumerate(families):
            st = _settings(cfg, name, family)
            rows += align_space(st, ctx, space, family, classifier, splits, cache, first=i == 0)
        if ctx.is_main:
            digits_samples(ctx.path(f"figures/samples_{name}.png"), space, rows, splits.usps_test)
    if cfg.oracle:
        refs["target oracle: classifier trained on USPS labels, USPS test"] = target_oracle(
            ctx,
            splits,
            width=cfg.classifier_width,
            batch=cfg.classifier_batch,
            config=cfg.classifier,
        )
    return digits_report(
        rows,
        refs,
        spaces=cfg.spaces,
        labels=METHODS,
        families=FAMILIES,
        classifier_width=cfg.classifier_width,
        is_main=ctx.is_main,
    )
