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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.alignment import ScoredAlignTask, Standardizer, fit_private_densities
from unpaired.data.digits import load_mnist, load_usps
from unpaired.distances import FlowLRMF
from unpaired.engine import Task, TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.models.images import ImageClassifier
from unpaired.recipes._names import alignment_distance, make_transform
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table

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
    classifier: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000, lr=2e-3, betas=(0.9, 0.999), log_every=50, eval_every=250
        )
    )
    autoencoder: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000, lr=2e-3, betas=(0.9, 0.999), log_every=50, eval_every=250
        )
    )
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
        _check(self)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


@dataclass
class Digits:
    """Images (N, 1, H, W) in [0, 1] and labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    def take(self, idx: torch.Tensor) -> Digits:
        return Digits(self.images[idx], self.labels[idx])


@dataclass
class Splits:
    mnist_train: Digits
    mnist_val: Digits
    usps_fit: Digits  # alignment source A (and autoencoder data)
    usps_holdout: Digits  # monitoring only
    usps_test: Digits  # reported only


def load_splits(cfg: Config, ctx: RunContext) -> Splits:
    root = ctx.data_root()
    mnist = Digits(*load_mnist(root, split="test", size=cfg.size))
    usps = Digits(*load_usps(root, split="train", size=cfg.size))
    test = Digits(*load_usps(root, split="test", size=cfg.size))
    if not 0 < cfg.mnist_val < len(mnist.labels) or not 0 < cfg.usps_holdout < len(usps.labels):
        raise ConfigError(
            f"mnist_val must be in 1..{len(mnist.labels) - 1} and usps_holdout in "
            f"1..{len(usps.labels) - 1}; got {cfg.mnist_val}, {cfg.usps_holdout}"
        )
    pm = torch.randperm(len(mnist.labels), generator=ctx.generator("align-digits/mnist-split"))
    pu = torch.randperm(len(usps.labels), generator=ctx.generator("align-digits/usps-split"))
    return Splits(
        mnist_train=mnist.take(pm[cfg.mnist_val :]),
        mnist_val=mnist.take(pm[: cfg.mnist_val]),
        usps_fit=usps.take(pu[cfg.usps_holdout :]),
        usps_holdout=usps.take(pu[: cfg.usps_holdout]),
        usps_test=test,
    )


# --------------------------------------------------------------------------------------
# the classifier and the autoencoder
# --------------------------------------------------------------------------------------


class ClassifierTask(Task):
    """Cross-entropy on MNIST train (1-pixel random shifts); ``eval/accuracy`` on MNIST val."""

    def __init__(self, net: ImageClassifier, val: Digits) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("val_x", val.images)
        self.register_buffer("val_y", val.labels)

    def generator_losses(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch
        dx, dy = (int(v) for v in torch.randint(-1, 2, (2,)))
        x = torch.roll(x, shifts=(dx, dy), dims=(-2, -1))
        return {"cross_entropy": F.cross_entropy(self.net(x), y)}

    def evaluate(self) -> dict[str, float]:
        return {"accuracy": accuracy(self.net, self.val_x, self.val_y)}


def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``images`` (N, 1, H, W) that ``net`` labels as ``labels`` (N,)."""
    was = net.training
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(x).argmax(1) for x in images.split(1000)])
    net.train(was)
    return float((pred == labels).float().mean())


class Autoencoder(nn.Module):
    """Conv encoder (1, 16, 16) -> (latent,) and decoder back to [0, 1] images."""

    def __init__(self, latent: int, width: int) -> None:
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * w * 16, latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, 2 * w * 16),
            nn.Unflatten(1, (2 * w, 4, 4)),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 16, 16) -> (N, latent)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent) -> (N, 1, 16, 16) in [0, 1]."""
        return self.decoder(z)


class AutoencoderTask(Task):
    """Binary cross-entropy reconstruction of unpaired USPS and MNIST images."""

    def __init__(self, ae: Autoencoder, val: torch.Tensor) -> None:
        super().__init__()
        self.ae = ae
        self.register_buffer("val", val)

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = torch.cat([batch["usps"], batch["mnist"]])
        return {"reconstruction": F.binary_cross_entropy(self.ae.decode(self.ae.encode(x)), x)}

    def evaluate(self) -> dict[str, float]:
        rec = self.ae.decode(self.ae.encode(self.val))
        return {"mse": float((rec - self.val).square().mean())}


# --------------------------------------------------------------------------------------
# one space: features, scoring, alignment
# --------------------------------------------------------------------------------------


@dataclass
class Space:
    """A feature space: source/target features, the way back to images, the scorer."""

    name: str
    std: Standardizer
    a: torch.Tensor  # standardized USPS-fit features (N, D)
    b: torch.Tensor  # standardized MNIST-train features (M, D)
    holdout: torch.Tensor  # standardized USPS-holdout features
    val_b: torch.Tensor  # standardized MNIST-val features
    test: torch.Tensor  # standardized USPS-test features
    to_images: Callable[[torch.Tensor], torch.Tensor]  # standardized features -> images


def _features(
    cfg: Config, name: str, splits: Splits, ae: Autoencoder | None, g: torch.Generator
) -> Space:
    sets = [
        splits.usps_fit,
        splits.mnist_train,
        splits.usps_holdout,
        splits.mnist_val,
        splits.usps_test,
    ]
    if name == "embedding":
        assert ae is not None
        with torch.no_grad():
            feats = [torch.cat([ae.encode(x) for x in s.images.split(1000)]) for s in sets]

        def back(x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return ae.decode(x)
    else:
        feats = [s.images.flatten(1) for s in sets]
        feats = [
            f + cfg.pixel_noise * torch.randn(f.shape, generator=g) for f in feats[:4]
        ] + feats[4:]
        side = cfg.size

        def back(x: torch.Tensor) -> torch.Tensor:
            return x.clamp(0, 1).reshape(-1, 1, side, side)

    std = Standardizer.fit(feats[0], feats[1])
    z = [std(f) for f in feats]
    return Space(name, std, z[0], z[1], z[2], z[3], z[4], lambda t: back(std.inverse(t)))


def _align_space(
    cfg: Config, ctx: RunContext, space: Space, classifier: ImageClassifier, splits: Splits
) -> list[dict[str, Any]]:
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
    identity = make_transform("affine", dim)
    rows = [
        {
            "space": space.name,
            "method": "no alignment",
            "test": test_score(space.test),
            "holdout": holdout_score(space.holdout),
            "distance": None,
            "seconds": 0.0,
            "transform": identity,
        }
    ]
    for method in cfg.methods:
        k = min(cfg.eval_points, 500) if method.startswith("dual") else cfg.eval_points
        eval_a, eval_b = space.holdout[:k], space.val_b[:k]
        dist = alignment_distance(method, dim, critic_hidden=cfg.critic_hidden)
        seconds = 0.0
        if isinstance(dist, FlowLRMF):
            fit_private_densities(
                dist,
                space.a,
                space.b,
                session=ctx,
                config=cfg.density,
                batch_size=cfg.batch_size,
                eval_a=eval_a,
                eval_b=eval_b,
                prefix=f"{space.name}/",
                monitor=True,
            )
            seconds += sum(
                ctx.fits[f"{space.name}/density-{s}"].seconds for s in ("source", "target")
            )
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
        with torch.no_grad():
            moved_test = task.transform(space.test)
        rows.append(
            {
                "space": space.name,
                "method": method,
                "test": test_score(moved_test),
                "holdout": fit.final.get("eval/holdout_accuracy"),
                "distance": fit.final.get("eval/distance"),
                "seconds": seconds + fit.seconds,
                "transform": task.transform,
            }
        )
    return rows


# --------------------------------------------------------------------------------------
# the recipe
# --------------------------------------------------------------------------------------


def _check(cfg: Config) -> None:
    bad = [m for m in cfg.methods if m not in METHODS]
    if bad:
        raise ConfigError(f"unknown align-digits method(s) {bad}; choose from {', '.join(METHODS)}")
    bad = [s for s in cfg.spaces if s not in SPACES]
    if bad:
        raise ConfigError(f"unknown space(s) {bad}; choose from {', '.join(SPACES)}")
    if cfg.size % 8 or cfg.size < 8:
        raise ConfigError(f"size must be a multiple of 8 (classifier pooling), got {cfg.size}")
    if cfg.size != 16 and "embedding" in cfg.spaces:
        raise ConfigError("the embedding space's autoencoder is built for size=16")


def run(cfg: Config, ctx: RunContext) -> Report:
    splits = load_splits(cfg, ctx)
    classifier = ImageClassifier(1, num_classes=10, width=cfg.classifier_width, stages=3)
    clf_task = ClassifierTask(classifier, splits.mnist_val)
    clf = ctx.fit(
        "classifier",
        clf_task,
        TensorSampler(
            splits.mnist_train.images, splits.mnist_train.labels, batch_size=cfg.classifier_batch
        ),
        cfg.classifier,
    )
    classifier.eval()
    refs = {
        "MNIST val (target domain)": accuracy(
            classifier, splits.mnist_val.images, splits.mnist_val.labels
        ),
    }
    ae = None
    if "embedding" in cfg.spaces:
        ae = Autoencoder(cfg.latent, cfg.ae_width)
        ae_task = AutoencoderTask(
            ae, torch.cat([splits.usps_holdout.images, splits.mnist_val.images])
        )
        ae_data = Unpaired(
            {
                "usps": TensorSampler(splits.usps_fit.images, batch_size=64),
                "mnist": TensorSampler(splits.mnist_train.images, batch_size=64),
            }
        )
        ctx.fit("autoencoder", ae_task, ae_data, cfg.autoencoder)
        ae.eval()
        with torch.no_grad():
            rec = ae.decode(ae.encode(splits.mnist_val.images))
        refs["MNIST val, autoencoded"] = accuracy(classifier, rec, splits.mnist_val.labels)
    rows: list[dict[str, Any]] = []
    g = ctx.generator("align-digits/pixel-noise")
    for name in cfg.spaces:
        space = _features(cfg, name, splits, ae, g)
        rows += _align_space(cfg, ctx, space, classifier, splits)
        if ctx.is_main:
            _samples(ctx, space, rows, splits)
    return _report(cfg, ctx, rows, refs, clf.final)


def _report(
    cfg: Config,
    ctx: RunContext,
    rows: list[dict[str, Any]],
    refs: dict[str, float],
    clf_final: dict[str, float],
) -> Report:
    table = Table(
        "USPS -> MNIST: accuracy of an MNIST-only classifier on T(USPS test)",
        [
            "space",
            "method",
            "USPS test accuracy",
            "USPS hold-out accuracy",
            "final distance (held-out)",
            "train seconds",
        ],
        [
            [
                r["space"],
                METHODS.get(r["method"], r["method"]),
                r["test"],
                r["holdout"],
                r["distance"],
                round(r["seconds"], 1),
            ]
            for r in rows
        ],
        note=(
            "T is affine in both spaces and the final T is reported (no selection). Distances "
            "are in each method's own units, on held-out sets (USPS hold-out vs MNIST val); "
            "LRMF: nats, ~0 when aligned. train seconds: 0 when loaded from a checkpoint."
        ),
    )
    ref_table = Table(
        "References (same classifier)",
        ["images", "accuracy"],
        [[k, v] for k, v in refs.items()],
        note=f"classifier: ImageClassifier width {cfg.classifier_width}, trained on MNIST train only.",
    )
    metrics = {
        f"{r['space']}/{r['method']}": {
            "test_accuracy": r["test"],
            "holdout_accuracy": r["holdout"],
            "final_distance": r["distance"],
        }
        for r in rows
    } | {"references": refs}
    figures = [
        Figure(f"figures/samples_{s}.png", f"T(USPS test) in {s} space, per method")
        for s in cfg.spaces
    ]
    return Report(
        title="align-digits: USPS -> MNIST with every distance",
        summary=(
            "T learned from unpaired USPS and MNIST digits (16x16) in an autoencoder's "
            "embedding and in pixel space; scored by an MNIST-only classifier on USPS test."
        ),
        tables=[table, ref_table],
        figures=figures if ctx.is_main else [],
        metrics=metrics,
    )


def _samples(ctx: RunContext, space: Space, rows: list[dict[str, Any]], splits: Splits) -> None:
    mine = [r for r in rows if r["space"] == space.name]
    n = 10
    idx = torch.stack([torch.nonzero(splits.usps_test.labels == d)[0, 0] for d in range(n)])
    fig, axes = plt.subplots(
        len(mine) + 1, 1, figsize=(n * 0.6, 0.75 * (len(mine) + 1)), squeeze=False
    )
    grids = [("USPS (input)", splits.usps_test.images[idx])]
    for r in mine:
        with torch.no_grad():
            grids.append((r["method"], space.to_images(r["transform"](space.test[idx]))))
    for ax, (label, imgs) in zip(axes[:, 0], grids, strict=True):
        ax.imshow(torch.cat(list(imgs[:, 0]), dim=1).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(ctx.path(f"figures/samples_{space.name}.png"), dpi=110)
    plt.close(fig)
