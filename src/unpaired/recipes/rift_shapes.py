"""``rift-shapes``: guided many-to-many translation on procedural 3D Shapes (RIFT vs baselines).

The thesis' RIFT table (3D-Shapes-A/B/C) on the procedural renderer
(:mod:`unpaired.data.synthetic.shapes3d`; ``h5=PATH`` reads DeepMind's 3dshapes.h5
instead). Per split (``split=A|B|C|all``; :data:`unpaired.data.shapes3d.SPLITS`) each
method trains on ``n_train`` unpaired images per domain from the split's train part and
translates ``n_pairs`` random (source, guide) pairs per direction of the test part
(``eval_part=val``: the val part, for tuning); a per-factor
classifier trained on the full factor grid (never on test tuples' translations) reads
the outputs, and ACC / RD (:mod:`unpaired.metrics.guided`) score them.

Methods: ``rift`` (:class:`~unpaired.translation.rift.RIFT`), its ablations
``rift-no-capacity`` (capacity weight 0 and no style noise) and ``rift-no-honesty``
(guess weight 0 and no input noise), ``stargan`` (a small StarGAN v2-style model),
``munit`` (:class:`~unpaired.translation.munit.MUNIT`, the guide's style code, no
cycle term), ``cyclegan`` (one-to-one, the guide ignored), ``rand`` (a random real image
of the target domain), ``chance`` (uniform random levels: what the paper's RAND row
matches) and ``oracle`` (the rendered ground truth read by the classifier: the ceiling
its errors leave every model; :func:`~unpaired.evaluation.attributes.oracle_records`).
Every trained model gets the same
networks' size class, batch, steps and learning rate; nothing is tuned on test data,
the last step is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import torch

from unpaired.data.shapes3d import SPLITS, cached_source, image_source, partition
from unpaired.data.synthetic.shapes3d import LEVELS
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation.attributes import (
    FactorTask,
    chance_records,
    guided_pairs,
    level_origins,
    oracle_records,
    score_translator,
)
from unpaired.metrics.guided import summarize
from unpaired.models.attributes import FactorClassifier
from unpaired.recipes._rift_models import TRAINED, build
from unpaired.recipes._rift_report import classifier_table, factor_table, method_table
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report
from unpaired.translation.reference import RandomTarget
from unpaired.translation.rift import RIFT, capacity_bound
from unpaired.viz.guided import guided_grid

METHODS = (*TRAINED, "rand", "chance", "oracle")
__all__ = ["METHODS", "Config", "build", "run"]


@dataclass(frozen=True)
class Config:
    split: Literal["A", "B", "C", "all"] = "all"
    methods: tuple[str, ...] = METHODS
    h5: str | None = None  # path of DeepMind's 3dshapes.h5 (None: the procedural renderer)
    size: int = 32  # image side (px); the paper uses 64
    supersample: int = 2  # renderer anti-aliasing
    n_train: int = 2000  # unpaired training images per domain (from the split's train part)
    n_pairs: int = 500  # scored (source, guide) pairs per direction
    eval_part: Literal["test", "val"] = "test"  # tune on "val", report "test"
    batch_size: int = 8
    width: int = 16  # generator / critic width (the paper's code: 64)
    n_blocks: int = 3  # residual blocks (the paper's code: 9)
    style_dim: int = 8  # StarGAN style code
    # RIFT weights: the official 3D-Shapes log's last configs (notes 1.3), not tuned here
    cycle: float = 10.0
    identity: float = 1.0
    capacity: float = 0.5
    style_noise: float = 0.1
    guess: float = 0.05
    input_noise: float = 0.1
    classifier_images: int = 10000  # random tuples of the full grid (+ 2000 held out)
    classifier_from: str | None = None  # a rift-shapes run dir whose finished classifier to reuse
    classifier_width: int = 16
    classifier_batch: int = 64
    classifier_train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=2000, lr=2e-3, log_every=100, checkpoint_every=500
        )
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=200, lr=2e-4, betas=(0.5, 0.999), log_every=10, checkpoint_every=50
        )
    )

    QUICK: ClassVar[dict] = {  # the demo (<= 20 s): a smoke run, numbers meaningless
        "split": "A",
        "size": 16,
        "supersample": 1,
        "n_train": 64,
        "n_pairs": 16,
        "width": 4,
        "n_blocks": 1,
        "classifier_images": 256,
        "classifier_width": 4,
        "classifier_train.steps": 5,
        "train.steps": 2,
        "methods": ("rift", "stargan", "munit", "rand", "chance", "oracle"),
    }

    def __post_init__(self) -> None:
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ConfigError(
                f"unknown rift-shapes method(s) {bad}; choose from {', '.join(METHODS)}"
            )
        if self.eval_part not in ("test", "val"):
            raise ConfigError(f"eval_part must be test or val, got {self.eval_part!r}")
        if self.split not in ("A", "B", "C", "all"):
            raise ConfigError(f"split must be A, B, C or all, got {self.split!r}")
        if self.size % 8 or self.size < 16 or self.batch_size < 3 or self.n_train < 8:
            raise ConfigError("need size a multiple of 8 (>= 16), batch_size >= 3, n_train >= 8")


def _classifier(cfg: Config, ctx: RunContext, images) -> tuple[FactorClassifier, dict]:
    """Train the measuring classifier, or load the finished one of ``classifier_from``
    (same held-out set; its accuracy is measured again here)."""
    g = ctx.generator("rift-shapes/classifier")
    n = cfg.classifier_images + 2000
    f = torch.stack([torch.randint(0, k, (n,), generator=g) for k in LEVELS], 1)
    with ctx.seeded("classifier"):
        net = FactorClassifier(LEVELS, size=cfg.size, width=cfg.classifier_width)
    if cfg.classifier_from:
        path = Path(cfg.classifier_from) / "checkpoints" / "classifier" / "last.pt"
        ckpt = torch.load(path, map_location="cpu", weights_only=False) if path.is_file() else {}
        if ckpt.get("finished"):
            net.load_state_dict({k[4:]: v for k, v in ckpt["task"].items() if k.startswith("net.")})
            task = FactorTask(net.eval(), images(f[-2000:], cfg.size), f[-2000:])
            return net.eval(), {f"eval/{k}": v for k, v in task.evaluate().items()}
    x = images(f, cfg.size)
    task = FactorTask(net, x[-2000:], f[-2000:], decay_steps=cfg.classifier_train.steps)
    data = TensorSampler(x[:-2000], f[:-2000], batch_size=cfg.classifier_batch)
    fit = ctx.fit("classifier", task, data, cfg.classifier_train)
    return net.eval(), fit.final


def _split_data(cfg: Config, ctx: RunContext, name: str, images) -> dict:
    split = SPLITS[name]
    g = ctx.generator(f"rift-shapes/{name}/train")
    out = {}
    for d in ("a", "b"):
        f = partition(split, d)["train"]
        f = f[torch.randperm(len(f), generator=g)[: cfg.n_train]]
        out[d] = images(f, cfg.size)
    pairs = guided_pairs(split, cfg.n_pairs, torch.Generator().manual_seed(7), part=cfg.eval_part)
    return {"split": split, "train": out, "pairs": pairs}


def _train(cfg: Config, ctx: RunContext, sd: dict) -> dict:
    """The split's translators, trained (or RAND / chance placeholders)."""
    models, name, train = {}, sd["split"].name, sd["train"]
    for method in cfg.methods:
        if method == "rand":
            models[method] = RandomTarget(train["a"], train["b"], seed=13)
        elif method in TRAINED:
            with ctx.seeded(f"{method}/{name}"):
                model = build(cfg, method)
            data = Unpaired(
                {d: TensorSampler(train[d], batch_size=cfg.batch_size) for d in ("a", "b")}
            )
            ctx.fit(f"{method}-{name}", model, data, cfg.train)
            models[method] = model.eval()
    return models


def _score(
    cfg: Config, ctx: RunContext, sd: dict, models: dict, images, clf
) -> tuple[dict, list, dict]:
    split, train, pairs, name = sd["split"], sd["train"], sd["pairs"], sd["split"].name
    records, extra, figures = {}, {}, []
    for method in cfg.methods:
        if method == "chance":
            records[method] = chance_records(split, pairs, torch.Generator().manual_seed(11))
            continue
        if method == "oracle":
            records[method] = oracle_records(clf, split, pairs, images, cfg.size)
            continue
        model = models[method]
        records[method], preds = score_translator(
            model.translate, clf, split, pairs, images, cfg.size
        )
        a, b = train["a"][:64], train["b"][:64]
        with torch.no_grad():  # how much the output moves when only the guide changes
            moved = model.translate(a, "a2b", guide=b) - model.translate(
                a, "a2b", guide=b.roll(1, 0)
            )
        extra[method] = {
            **level_origins(split, pairs, preds),
            "guide_effect_l1": float(moved.abs().mean()),
        }
        if isinstance(model, RIFT):
            with torch.no_grad():
                s = model.embed(train["a"][:256], "a")
            sigma = cfg.style_noise if method != "rift-no-capacity" else 0.0
            extra[method] |= {
                "mean_abs_s": float(s.abs().mean()),
                "bound_bits": capacity_bound(s, sigma),
            }
        if method in ("rift", "stargan", "munit") and ctx.is_main:
            for direction, (src, gd) in pairs.items():
                path = f"figures/{method}_{name}_{direction}.png"
                guided_grid(
                    ctx.path(path),
                    model.translate,
                    images(src[:5], cfg.size),
                    images(gd[:6], cfg.size),
                    direction,
                    title=f"{method}, split {name}, {direction}",
                )
                figures.append(
                    Figure(
                        path,
                        f"{method}, 3D-Shapes-{name}, {direction}: sources down, guides across",
                    )
                )
    return records, figures, extra


def run(cfg: Config, ctx: RunContext) -> Report:
    images = image_source(cfg.h5, supersample=cfg.supersample)
    names = ("A", "B", "C") if cfg.split == "all" else (cfg.split,)
    data = {n: _split_data(cfg, ctx, n, images) for n in names}
    trained = {n: _train(cfg, ctx, data[n]) for n in names}
    clf, clf_acc = _classifier(cfg, ctx, images)
    images = cached_source(images)  # every method reads the same pairs: render them once
    records: dict[str, list] = {m: [] for m in cfg.methods}
    figures, diagnosis = [], {}
    for name in names:
        recs, figs, extra = _score(cfg, ctx, data[name], trained[name], images, clf)
        for m, r in recs.items():
            records[m] += r
        figures += figs
        diagnosis.update({f"{m}/{name}": v for m, v in extra.items()})
    summaries = {m: summarize(r) for m, r in records.items()}
    rift = summaries.get("rift")
    others = [
        s["acc"]
        for m, s in summaries.items()
        if m not in ("rift", "rift-no-capacity", "rift-no-honesty", "oracle")
    ]
    goals = {}
    if rift is not None and cfg.split == "all":
        goals = {
            "rift_acc_ge_85": rift["acc"] >= 85,
            "rift_rd_le_10": rift["rd"] <= 10,
            "rift_above_every_baseline": all(rift["acc"] > a for a in others),
        }
    return Report(
        title="rift-shapes: guided translation on procedural 3D Shapes (ACC / RD)",
        summary=(
            f"Splits {', '.join(names)}; {cfg.size} px, {cfg.n_train} unpaired images per domain, "
            f"{cfg.n_pairs} test pairs per direction; {cfg.train.steps} steps at batch "
            f"{cfg.batch_size}, width {cfg.width}, {cfg.n_blocks} blocks; data "
            f"{'from ' + cfg.h5 if cfg.h5 else 'rendered'}. ACC in %, RD = 100 sum|S - C| / sum(S + C)."
        ),
        tables=[method_table(summaries, names), factor_table(summaries), classifier_table(clf_acc)],
        figures=figures,
        metrics={
            "goals": goals,
            "summaries": summaries,
            "classifier": clf_acc,
            "capacity": {k: v for k, v in diagnosis.items() if "mean_abs_s" in v},
            "diagnosis": diagnosis,  # level origins per role, guide effect (L1, [-1, 1] px)
            "records": {m: [r.__dict__ for r in rs] for m, rs in records.items()},
        },
    )
