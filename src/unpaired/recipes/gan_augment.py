"""``gan-augment``: critic-side augmentation on MNIST, and when it leaks.

Thesis talk, "Let's extend to arbitrary augmentations" / "leaking augmentation" / "How to
avoid leaking augmentation?": a small DCGAN (:class:`~unpaired.models.images.DCGANGenerator`
and :class:`~unpaired.models.images.DCGANCritic` at 16x16, the logistic
:class:`~unpaired.distances.AdversarialDistance`, trained as an AIGN prior with no
renderer) whose critic sees both sets through the same
:class:`~unpaired.distances.Augment` ``T_p``: "rotate by a random non-identity multiple
of 90 degrees with probability p", for each ``p`` in ``ps`` (predicted leak threshold
``p = 0.75``: the multiplier ``1 - 4p/3`` of every non-trivial rotation mode vanishes),
plus a Gaussian brightness case (``mu_hat > 0``: never leaks).

The leak is measured by a rotation classifier (4 classes: 0, 90, 180, 270 degrees)
trained on rotated real digits (held-out accuracy reported): the leak rate is the share
of generated digits it reads as rotated, with the share per angle (confusion), next to
the same rate on real held-out digits (the classifier's own false-rotation rate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.aign import AIGN, Prior
from unpaired.data.digits import load_mnist
from unpaired.distances import AdversarialDistance, Augment, leak_threshold
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, accuracy, predict
from unpaired.models.images import DCGANCritic, DCGANGenerator, ImageClassifier
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table
from unpaired.viz.images import image_grid
from unpaired.viz.stability import plot_leak


@dataclass(frozen=True)
class Config:
    size: int = 16  # MNIST resized to size x size
    n_train: int = 8000  # digits the GAN and the rotation classifier train on
    n_eval: int = 2000  # held-out real digits; as many generated digits are measured
    latent: int = 32
    width: int = 16  # generator and critic base width
    ps: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 1.0)  # rot90 probabilities
    brightness_sigma: float = 0.3  # the Gaussian (never-leaking) case, at p = 1
    batch_size: int = 64
    gan: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=1000, lr=5e-4, betas=(0.5, 0.999), log_every=50, checkpoint_every=500
        )
    )
    classifier: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=400, lr=2e-3, log_every=50, eval_every=200)
    )

    QUICK: ClassVar[dict] = {
        "gan.steps": 200,
        "classifier.steps": 100,
        "ps": (0.0, 0.75, 1.0),
        "n_eval": 1000,
    }

    def __post_init__(self) -> None:
        if not self.ps or any(not 0 <= p <= 1 for p in self.ps):
            raise ConfigError(f"ps must be probabilities in [0, 1], got {self.ps}")
        if self.size % 4 or self.n_train < self.batch_size or self.n_eval < 10:
            raise ConfigError("need size = 4 * 2^k, n_train >= batch_size, n_eval >= 10")


def _rotations(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image at 0, 90, 180, 270 degrees, labelled 0..3."""
    xs = [torch.rot90(x, k, (-2, -1)) for k in range(4)]
    return torch.cat(xs), torch.arange(4).repeat_interleave(x.shape[0])


def _shares(clf: torch.nn.Module, x: torch.Tensor) -> list[float]:
    """Share of ``x`` the rotation classifier puts in each angle class."""
    pred = predict(clf, x, chunk=500).argmax(1)
    return (torch.bincount(pred, minlength=4).double() / len(pred)).tolist()


def _gan(cfg: Config, ctx: RunContext, name: str, aug: Augment | None, real: torch.Tensor):
    with ctx.seeded("gan"):  # every case starts from the same weights
        gen = DCGANGenerator(cfg.latent, 1, size=cfg.size, width=cfg.width)
        critic = DCGANCritic(1, size=cfg.size, width=cfg.width)
    task = AIGN(
        gen,
        lambda p, b: p["output"],
        {"digit": Prior(AdversarialDistance(critic, augment=aug), prediction="output")},
        recon_weight=0.0,
    )
    z = torch.randn(20_000, cfg.latent, generator=ctx.generator("gan-augment/z"))
    data = Unpaired(
        {
            "x": TensorSampler(z, batch_size=cfg.batch_size),
            "memories": Unpaired({"digit": TensorSampler(real, batch_size=cfg.batch_size)}),
        }
    )
    ctx.fit(name, task, data, cfg.gan)
    gen.eval()
    z_eval = torch.randn(cfg.n_eval, cfg.latent, generator=ctx.generator("gan-augment/z-eval"))
    with torch.no_grad():
        return gen(z_eval)


def run(cfg: Config, ctx: RunContext) -> Report:
    x, _ = load_mnist(ctx.data_root(), split="test", size=cfg.size)
    perm = torch.randperm(len(x), generator=ctx.generator("gan-augment/split"))
    train, held = x[perm[: cfg.n_train]], x[perm[cfg.n_train : cfg.n_train + cfg.n_eval]]
    with ctx.seeded("rotation-classifier"):
        clf = ImageClassifier(1, num_classes=4, width=16, stages=2)
    rx, ry = _rotations(train)
    hx, hy = _rotations(held)
    ctx.fit(
        "rotation-classifier",
        ClassifierTask(clf, hx, hy),
        TensorSampler(rx, ry, batch_size=128),
        cfg.classifier,
    )
    clf.eval()
    clf_acc = accuracy(clf, hx, hy)
    cases: dict[str, tuple[Augment | None, float | None]] = {}
    for p in cfg.ps:  # the global RNG: the engine reseeds it per step (exact resume)
        cases[f"rot90 p={p}"] = (Augment("rot90", p) if p > 0 else None, p)
    bright = Augment("brightness", 1.0, sigma=cfg.brightness_sigma)
    cases[f"brightness sigma={cfg.brightness_sigma} p=1"] = (bright, None)
    real_shares = _shares(clf, held)
    rows, samples, metrics = [], [], {}
    for label, (aug, p) in cases.items():
        fake = _gan(cfg, ctx, f"gan {label}", aug, train)
        shares = _shares(clf, fake)
        leak = 1 - shares[0]
        mean_shift = float(fake.mean() - held.mean())
        rows.append([label, leak, *shares, mean_shift])
        samples.append((label, fake[:12]))
        metrics[label] = {"p": p, "leak_rate": leak, "shares": shares, "mean_shift": mean_shift}
    rows.append(["real held-out digits", 1 - real_shares[0], *real_shares, 0.0])
    threshold = leak_threshold("rot90")
    figures = []
    if ctx.is_main:
        ps = [m["p"] for m in metrics.values() if m["p"] is not None]
        leaks = [m["leak_rate"] for m in metrics.values() if m["p"] is not None]
        plot_leak(
            ps,
            {
                "generated digits read as rotated": leaks,
                "real digits (classifier error)": [1 - real_shares[0]] * len(ps),
            },
            ctx.path("figures/leak.png"),
            threshold=threshold,
            title="rot90 critic augmentation: leak rate vs p",
        )
        image_grid(ctx.path("figures/samples.png"), [("real", held[:12]), *samples])
        figures = [
            Figure("figures/leak.png", "leak rate against p, predicted threshold dotted"),
            Figure("figures/samples.png", "generated digits per case"),
        ]
    cols = ["case", "leak rate", "0 deg", "90 deg", "180 deg", "270 deg", "mean intensity shift"]
    summary: dict[str, Any] = {"rotation_classifier_accuracy": clf_acc, "threshold": threshold}
    return Report(
        title="gan-augment: critic-side rot90 augmentation on MNIST and its leak",
        summary=(
            f"DCGAN at {cfg.size}x{cfg.size}, {cfg.gan.steps} steps, batch {cfg.batch_size}, "
            f"{cfg.n_train} MNIST digits; leak measured on {cfg.n_eval} generated digits by a "
            f"rotation classifier (held-out accuracy on rotated real digits {clf_acc:.3f}). "
            f"Predicted leak threshold p = {threshold}."
        ),
        tables=[Table("Leak of the critic's augmentation into the generator", cols, rows)],
        figures=figures,
        metrics={**summary, "cases": metrics},
    )
