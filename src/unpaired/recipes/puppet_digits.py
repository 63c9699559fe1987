"""``puppet-digits``: PuppetGAN on digits (Usman et al., ICCV 2019, Sec. 4, Table 2).

Change one attribute (``aoi``: ``rotation`` or ``size``) of a real digit (``real``:
MNIST, or USPS) to that of a synthetic reference (font digits,
:mod:`unpaired.data.synthetic.font_digits`), keeping its class and style. Training sees
unlabelled real digits and synthetic triplets only. For ``aoi=size`` the real digits are
zoomed by a random factor in ``real_scale`` first (the paper's "scaled MNIST"), so the
real domain shows sizes to change.

Models (``models``), same data, batch size and steps: ``puppetgan``; ``ablation``
(PuppetGAN without the attribute-cycle losses); ``cycle-vae``
(:mod:`unpaired.translation.cyclevae`); ``munit`` (:mod:`unpaired.translation.munit`,
content of the real digit, style of the reference, real decoder); ``cyclegan``
(:mod:`unpaired.translation.cyclegan`, the reference translated to the real domain);
plus the rows ``identity`` (output = the real
input) and ``reference`` (output = the synthetic reference) as the two trivial ends.
Metrics on held-out real digits (:mod:`unpaired.translation.manipulation`): Acc by a
classifier trained on the other real digits (with labels; the only use of real labels),
r_attr, r_rest, V_rest (a std); J_attr / J_rest between real and synthetic inputs.
``pixel="l2"`` (the default here) uses squared errors for PuppetGAN's and Cycle-VAE's
constraints instead of the paper's L1: at this budget L1 collapses the decoders to the
blank digit (docs/PUPPETGAN.md). Results: docs/PUPPETGAN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from unpaired.data.augment import random_roll
from unpaired.data.digits import load_digits, random_scale
from unpaired.data.synthetic.font_digits import render, sample_attributes, with_attribute
from unpaired.engine import TensorSampler, TrainConfig
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, accuracy
from unpaired.models.images import DCGANCritic, ImageClassifier
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.puppet import SplitDecoder, SplitEncoder
from unpaired.models.translation import ResnetGenerator
from unpaired.recipes._names import make_distance
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table
from unpaired.translation import MUNIT, CycleGAN
from unpaired.translation.cyclevae import CycleVAE
from unpaired.translation.manipulation import (
    apply,
    domain_discrepancy,
    evaluate_manipulation,
    make_probe,
)
from unpaired.translation.puppetgan import PuppetData, PuppetGAN, PuppetWeights
from unpaired.viz.manipulation import manipulation_grids

MODELS = {
    "puppetgan": "PuppetGAN",
    "ablation": "PuppetGAN without attribute cycles (d)",
    "cycle-vae": "Cycle-VAE",
    "munit": "MUNIT (style of the reference)",
    "cyclegan": "CycleGAN (reference translated to real)",
}
AOI_VALUES = {"rotation": (-40.0, 40.0), "size": (0.5, 0.8)}


@dataclass(frozen=True)
class Config:
    aoi: str = "rotation"  # rotation | size
    real: str = "mnist"  # mnist | usps
    models: tuple[str, ...] = tuple(MODELS)
    prior: str = "lsgan"  # any image distance name of recipes/_names.py with a critic
    width: int = 16  # encoder / decoder / critic base width
    attr_dim: int = 32
    rest_dim: int = 32
    batch_size: int = 32
    noise: float = 0.2  # pixel instance noise on the intermediate translations
    pixel: str = "l2"  # l1 (the paper's) | l2: image distance of the constraints (docs)
    prior_rows: int = 32  # rows of fakes / reals per critic call
    real_scale: tuple[float, float] = (0.7, 1.15)  # zoom of the real digits (aoi=size only)
    n_test: int = 1000  # held-out real digits: evaluation only
    groups: int = 50  # V_rest: real digits x references sharing the AoI
    per_group: int = 8
    classifier_width: int = 16
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=250,
            lr=1e-3,
            critic_lr=2.5e-4,
            betas=(0.5, 0.999),
            log_every=25,
            eval_every=100,
            checkpoint_every=100,
        )
    )
    classifier: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=400, lr=2e-3, log_every=50, checkpoint_every=200)
    )

    QUICK: ClassVar[dict] = {
        "train.steps": 25,
        "train.eval_every": 0,
        "classifier.steps": 60,
        "n_test": 300,
        "groups": 20,
    }

    def __post_init__(self) -> None:
        if self.aoi not in AOI_VALUES:
            raise ConfigError(f"aoi must be 'rotation' or 'size', got {self.aoi!r}")
        if self.real not in ("mnist", "usps"):
            raise ConfigError(f"real must be 'mnist' or 'usps', got {self.real!r}")
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models:
            raise ConfigError(
                f"unknown puppet-digits model(s) {unknown}; choose from {list(MODELS)}"
            )
        if self.pixel not in ("l1", "l2"):
            raise ConfigError(f"pixel must be 'l1' or 'l2', got {self.pixel!r}")
        if self.per_group < 2 or self.groups < 1 or self.n_test < self.groups:
            raise ConfigError("need per_group >= 2, groups >= 1 and n_test >= groups")


def _real(cfg: Config, ctx: RunContext) -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits(ctx.data_root(), cfg.real)
    x = digits.images
    if cfg.aoi == "size":
        x = random_scale(x, *cfg.real_scale, generator=ctx.generator("puppet/real-scale"))
    return x * 2 - 1, digits.labels


class _Pairs:
    """MUNIT's batches from PuppetGAN's: ``{"a": real, "b": b1}`` (b2, b3 unused)."""

    def __init__(self, data: PuppetData) -> None:
        self.data = data

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        batch = self.data.sample(generator, rank=rank, world_size=world_size)
        return {"a": batch["a"], "b": batch["b1"]}


def _manipulator(name: str, task: Any) -> Any:
    """``(a, b) -> output``. MUNIT: content of the real ``a``, style of the reference ``b``
    (B's style encoder), decoded by the real decoder G_A ("MUNIT with the synthetic image
    as the style guide"). CycleGAN: G_BA(b), the reference translated to the real domain
    (it has no second input: "CycleGAN translates all attributes")."""
    if name == "munit":
        return lambda a, b: task.gen_a.decode(task.gen_a.content(a), task.gen_b.style(b))
    if name == "cyclegan":
        return lambda a, b: task.translate(b, "b2a")
    return task.manipulate


def _model(cfg: Config, name: str, held_out: dict[str, torch.Tensor]) -> Any:
    w, d = cfg.width, (cfg.attr_dim, cfg.rest_dim)
    if name == "cycle-vae":
        enc = SplitEncoder(attr_dim=d[0], rest_dim=2 * d[1], width=w)
        dec = [SplitDecoder(*d, width=w) for _ in "ab"]
        return CycleVAE(enc, *dec, pixel=cfg.pixel)
    priors = [
        make_distance(cfg.prior, critic=lambda: DCGANCritic(1, size=32, width=w)) for _ in "ab"
    ]
    if name == "cyclegan":
        gens = [ResnetGenerator(1, 1, width=w // 2, n_blocks=2, n_down=2) for _ in "ab"]
        return CycleGAN(*gens, *priors)
    if name == "munit":
        nets = [
            MUNITAutoencoder(1, width=w // 2, blocks=1, mlp_dim=4 * w, style_dim=8) for _ in "ab"
        ]
        return MUNIT(*nets, *priors, eval_a=held_out["a"], eval_b=held_out["b1"])
    return PuppetGAN(
        SplitEncoder(attr_dim=d[0], rest_dim=d[1], width=w),
        SplitDecoder(*d, width=w),
        SplitDecoder(*d, width=w),
        *priors,
        weights=PuppetWeights(),
        noise=cfg.noise,
        attribute_cycle=name != "ablation",
        prior_rows=cfg.prior_rows,
        pixel=cfg.pixel,
        held_out=held_out,
    )


def _figure_refs(cfg: Config, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` references with evenly spaced AoI values, the rest random, in [-1, 1]."""
    attrs = sample_attributes(n, generator=generator)
    attrs = with_attribute(attrs, **{cfg.aoi: torch.linspace(*AOI_VALUES[cfg.aoi], n)})
    return render(attrs) * 2 - 1


def run(cfg: Config, ctx: RunContext) -> Report:
    x, y = _real(cfg, ctx)
    perm = torch.randperm(len(x), generator=ctx.generator("puppet/split"))
    test, train = perm[: cfg.n_test], perm[cfg.n_test :]
    with ctx.seeded("classifier"):
        net = ImageClassifier(1, num_classes=10, width=cfg.classifier_width, stages=3)
    clf = ClassifierTask(net, x[test], y[test], augment=lambda z: random_roll(z, 1))
    ctx.fit("classifier", clf, TensorSampler(x[train], y[train], batch_size=64), cfg.classifier)
    net.eval()
    probe = make_probe(x[test], y[test], cfg.aoi, generator=ctx.generator("puppet/probe"))
    syn = render(sample_attributes(2000, generator=ctx.generator("puppet/j"))) * 2 - 1
    j = domain_discrepancy(x[train][:2000], syn, cfg.aoi)
    held = PuppetData(x[test][:64], cfg.aoi, batch_size=64).sample(ctx.generator("puppet/held"))
    data = PuppetData(x[train], cfg.aoi, batch_size=cfg.batch_size)
    manipulators: dict[str, Any] = {
        "identity (output = real input)": lambda a, b: a,
        "reference (output = synthetic reference)": lambda a, b: b,
    }
    seconds: dict[str, float] = {}
    for name in cfg.models:
        with ctx.seeded(name):
            task = _model(cfg, name, held)
        pairs = name in ("munit", "cyclegan")
        fit = ctx.fit(name, task, _Pairs(data) if pairs else data, cfg.train)
        task.eval()
        manipulators[MODELS[name]] = _manipulator(name, task)
        seconds[MODELS[name]] = fit.seconds
    scores = {k: evaluate_manipulation(m, net, probe) for k, m in manipulators.items()}
    cols = ["model", "Acc", "r_attr", "r_rest", "V_rest", "train time"]
    rows = [[k, *(s[c] for c in cols[1:5]), seconds.get(k, 0.0)] for k, s in scores.items()]
    figures = []
    if ctx.is_main:
        reals, refs = probe.real[:8], _figure_refs(cfg, 6, ctx.generator("puppet/figure"))
        a = reals.repeat(len(refs), 1, 1, 1)
        b = refs.repeat_interleave(len(reals), dim=0)
        outs = {
            k: ((apply(m, a, b) + 1) / 2).view(len(refs), len(reals), *reals.shape[1:])
            for k, m in manipulators.items()
            if k in seconds
        }
        if outs:
            path = ctx.path(f"figures/grid_{cfg.aoi}_{cfg.real}.png")
            manipulation_grids(path, (reals + 1) / 2, (refs + 1) / 2, outs, title=cfg.aoi)
            figures.append(
                Figure(
                    str(path.relative_to(ctx.out)),
                    "real digits across the top, references down the side, outputs in cells",
                )
            )
    clf_acc = accuracy(net, x[test], y[test])
    return Report(
        title=f"puppet-digits: change {cfg.aoi} of {cfg.real} digits with font references",
        summary=(
            f"{len(train)} unlabelled real training digits, fresh synthetic triplets, "
            f"{cfg.train.steps} steps of batch {cfg.batch_size}; evaluated on {cfg.n_test} "
            f"held-out real digits (classifier accuracy on them {clf_acc:.3f}); V_rest over "
            f"{cfg.groups} x {cfg.per_group} pairs."
        ),
        tables=[
            Table(f"Disentanglement quality ({cfg.aoi}, {cfg.real})", cols, rows),
            Table(
                "Input domain discrepancy (JS of KDEs, nats)",
                ["J_attr", "J_rest"],
                [[j["J_attr"], j["J_rest"]]],
            ),
        ],
        figures=figures,
        metrics={"scores": scores, "J": j, "classifier_accuracy": clf_acc, "seconds": seconds},
    )
