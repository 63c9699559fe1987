"""``cyclegan-digits``: MNIST <-> USPS translation, CycleGAN with and without self-defense.

Thesis talk, "Improving Semantic Consistency with Translation Honesty" (Bashkirova,
Usman, Saenko, NeurIPS'19): a cycle-consistent translator can reconstruct its input
from a signal hidden in its translation instead of translating the content; the
defenses (noise before the backward generator, a guess discriminator on
original/reconstruction pairs) take that shortcut away. Digits have no palette, so
the scores are :class:`~unpaired.translation.scores.CycleEvaluator`'s: **class
preservation** both ways (the class of a translated test digit as read by a classifier
trained on the *target* domain only, against the label of its source), **SN** (how
much the way back reacts to noise on the translation) and the **cycle error** (norms
per image in [-1, 1] units). Rows: CycleGAN, + noise, + guess, + guess + noise, MUNIT +
cycle (same networks, data and steps), and "no translation" (the target classifier on
the source digits as they are; SN of an identity is the noise itself).

Data (``../shared/data``): MNIST (its 10,000 test digits, the only split here) and USPS
(train + test, 9,298), both at 32x32 (:func:`~unpaired.data.digits.load_digits`), in
[-1, 1]. Each domain is split at random into ``n_test`` held-out digits (translated and
scored), ``n_val`` (the classifier's validation) and the rest (translators train on
these images without labels; the domain's classifier on them with labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.data.augment import random_roll
from unpaired.data.digits import Labelled, load_digits
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, accuracy
from unpaired.metrics.honesty import SIGMAS
from unpaired.models.images import ImageClassifier
from unpaired.recipes._translation import DEFENDED, ROWS, Nets, check_rows, make_translator
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table
from unpaired.translation import translate_batched
from unpaired.translation.scores import CycleEvaluator
from unpaired.viz.images import image_grid

DOMAINS = ("mnist", "usps")  # A, B


def _small_nets() -> Nets:
    return Nets(
        width=8, blocks=2, critic_width=8, critic_layers=2, munit_width=8, munit_blocks=2,
        munit_mlp=32,
    )  # fmt: skip


@dataclass(frozen=True)
class Config:
    n_test: int = 1000  # held-out digits per domain (translated, scored)
    n_val: int = 1000  # classifier validation digits per domain
    n_eval: int = 1000  # of the held-out digits, how many are scored (the first n_eval)
    batch_size: int = 8
    rows: tuple[str, ...] = tuple(ROWS)
    nets: Nets = field(default_factory=_small_nets)
    translator: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=400, lr=5e-4, betas=(0.5, 0.999), log_every=25, checkpoint_every=100
        )
    )
    classifier_width: int = 8
    classifier: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=400, lr=2e-3, betas=(0.9, 0.999), log_every=50, eval_every=200
        )
    )

    QUICK: ClassVar[dict] = {
        "translator.steps": 20,
        "translator.log_every": 5,
        "classifier.steps": 60,
        "classifier.eval_every": 0,
        "n_test": 100,
        "n_val": 200,
        "n_eval": 100,
    }

    def __post_init__(self) -> None:
        check_rows(self.rows)
        if self.n_test < 1 or self.n_val < 1 or self.n_eval < 1:
            raise ConfigError(
                f"n_test, n_val and n_eval must be >= 1, got {self.n_test}, {self.n_val}, {self.n_eval}"
            )


@dataclass
class Domain:
    name: str
    train: Labelled
    val: Labelled
    test: Labelled


def _split(cfg: Config, ctx: RunContext, name: str) -> Domain:
    data = load_digits(ctx.data_root(), name)  # type: ignore[arg-type]
    data = Labelled(data.images * 2 - 1, data.labels)
    if cfg.n_test + cfg.n_val >= len(data):
        raise ConfigError(
            f"n_test + n_val must be below {len(data)} ({name}), got {cfg.n_test + cfg.n_val}"
        )
    perm = torch.randperm(len(data), generator=ctx.generator(f"cyclegan-digits/{name}-split"))
    k = cfg.n_test + cfg.n_val
    return Domain(
        name, data.take(perm[k:]), data.take(perm[cfg.n_test : k]), data.take(perm[: cfg.n_test])
    )


def _classifier(cfg: Config, ctx: RunContext, d: Domain) -> ImageClassifier:
    """A classifier of domain ``d`` trained on its own labelled training digits only."""
    with ctx.seeded(f"classifier-{d.name}"):
        net = ImageClassifier(1, num_classes=10, width=cfg.classifier_width, stages=3)
    task = ClassifierTask(net, d.val.images, d.val.labels, augment=lambda x: random_roll(x, 1))
    data = TensorSampler(d.train.images, d.train.labels, batch_size=64)
    ctx.fit(f"classifier-{d.name}", task, data, cfg.classifier)
    return net.eval()


class _Identity:
    def translate(self, x: torch.Tensor, direction: str = "a2b", guide: Any = None) -> torch.Tensor:
        return x


def _table(scores: dict[str, dict[str, float]]) -> Table:
    cols = ["kept_ab", "kept_ba", "sn_a_0.05", "sn_b_0.05", "cycle_a", "cycle_b"]
    rows = [[ROWS.get(r, r), *[s.get(c) for c in cols]] for r, s in scores.items()]
    return Table(
        "MNIST <-> USPS: class preservation, sensitivity to noise, cycle error",
        [
            "method", "class kept MNIST->USPS", "class kept USPS->MNIST", "SN(0.05) from MNIST",
            "SN(0.05) from USPS", "cycle error MNIST", "cycle error USPS",
        ],
        rows,
        note=(
            "Class kept: accuracy of the target domain's classifier on the translated held-out "
            "digits. SN(sigma) = mean ||back(there(x) + N(0, sigma^2)) - back(there(x))||_2 and "
            "cycle error = mean ||back(there(x)) - x||_2, per image over 32x32 values in [-1, 1] "
            "units (sqrt(1024) = 32: SN of an identity is 32 sigma). MUNIT translates with a "
            "style drawn from its prior (fixed seed), also on the way back."
        ),
    )  # fmt: skip


def _sn_table(scores: dict[str, dict[str, float]]) -> Table:
    cols = [f"sn_{k}_{s:g}" for k in "ab" for s in SIGMAS]
    return Table(
        "Sensitivity to noise over sigma (a: the cycle from MNIST, b: from USPS)",
        ["method", *cols],
        [[ROWS.get(r, r), *[s.get(c) for c in cols]] for r, s in scores.items()],
    )


def _goals(scores: dict[str, dict[str, float]]) -> dict[str, Any]:
    def kept(r: str) -> float:
        return (scores[r]["kept_ab"] + scores[r]["kept_ba"]) / 2

    goals: dict[str, Any] = {}
    if "cyclegan" in scores:
        defended = [r for r in DEFENDED if r in scores]
        for r in defended:
            goals[f"kept_{r}_minus_cyclegan"] = kept(r) - kept("cyclegan")
        if defended:
            best = max(defended, key=kept)
            goals["best_defended"] = best
            goals["defended_keeps_class_at_least_as_well"] = kept(best) >= kept("cyclegan")
    return goals


def run(cfg: Config, ctx: RunContext) -> Report:
    mnist, usps = (_split(cfg, ctx, n) for n in DOMAINS)
    clf = {d.name: _classifier(cfg, ctx, d) for d in (mnist, usps)}
    refs = {f"{d.name} classifier on {d.name} test": accuracy(clf[d.name], d.test.images, d.test.labels) for d in (mnist, usps)}  # fmt: skip
    ma, ub = (
        mnist.test.take(torch.arange(min(cfg.n_eval, cfg.n_test))),
        usps.test.take(torch.arange(min(cfg.n_eval, cfg.n_test))),
    )
    evaluator = CycleEvaluator(
        ma.images,
        ub.images,
        ma.labels,
        ub.labels,
        classifier_a=clf["mnist"],
        classifier_b=clf["usps"],
    )
    data = Unpaired(
        {
            "a": TensorSampler(mnist.train.images, batch_size=cfg.batch_size),
            "b": TensorSampler(usps.train.images, batch_size=cfg.batch_size),
        }
    )
    scores = {"no translation": evaluator(_Identity())}
    seconds: dict[str, float] = {}
    samples = [("MNIST", mnist.test.images[:10]), ("USPS", usps.test.images[:10])]
    for row in cfg.rows:
        with ctx.seeded(row):
            task = make_translator(row, cfg.nets, 1, 1)
        fit = ctx.fit(row, task, data, cfg.translator)
        task.eval()
        scores[row] = evaluator(task)  # type: ignore[arg-type]
        seconds[row] = fit.seconds
        for label, x, direction in (
            ("MNIST->USPS", samples[0][1], "a2b"),
            ("USPS->MNIST", samples[1][1], "b2a"),
        ):
            samples.append((f"{ROWS[row]}: {label}", translate_batched(task, x, direction)))  # type: ignore[arg-type]
    figures = []
    if ctx.is_main:
        image_grid(ctx.path("figures/translations.png"), [(k, (v + 1) / 2) for k, v in samples])
        figures.append(Figure("figures/translations.png", "held-out digits and their translations"))
    goals = _goals(scores)
    summary = (
        f"{len(mnist.train)} MNIST and {len(usps.train)} USPS training digits (unpaired), "
        f"{cfg.n_test} held-out digits per domain ({len(ma)} scored); {cfg.translator.steps} steps of batch "
        f"{cfg.batch_size} per translator. Target-domain classifiers: "
        + ", ".join(f"{k} {v:.3f}" for k, v in refs.items())
        + "."
    )
    return Report(
        title="cyclegan-digits: MNIST <-> USPS with adversarial self-defense",
        summary=summary,
        tables=[_table(scores), _sn_table(scores)],
        figures=figures,
        metrics={"goals": goals, "scores": scores, "classifiers": refs, "seconds": seconds},
    )
