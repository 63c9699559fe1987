"""Training of the biased image recipes: the classifier that measures the bias, the
supervised baseline, the biased beta sweep, the unbiased AIGN and the parametric-decoder
ablation (:func:`run_biased`; the tables and figures are :mod:`unpaired.recipes._images_report`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from unpaired.aign.core import Paired, Prior
from unpaired.aign.images import ImageAIGN, ParametricDecoderAIGN
from unpaired.data.augment import random_shift
from unpaired.engine import FitResult, TensorSampler, Unpaired
from unpaired.errors import ConfigError
from unpaired.evaluation import ClassifierTask, ImageEvaluator
from unpaired.models.images import ImageClassifier, PixelClassifier
from unpaired.recipes import _images_report as report
from unpaired.recipes._images import ImageConfig, Networks, Problem, make_prior
from unpaired.recipes._images_data import ImageData
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass
class Model:
    """One trained generator and its final held-out metrics."""

    label: str
    memories: str
    beta: float | None
    task: ImageAIGN
    final: dict[str, float]

    def metric(self, key: str) -> float | None:
        return self.final.get(f"eval/{key}")


@dataclass
class Trained:
    """Everything :func:`train_models` trained, and the beta chosen on validation."""

    classifier: FitResult
    evaluator: ImageEvaluator
    supervised: Model
    sweep: list[Model]
    chosen: Model
    floor_met: bool
    unbiased: Model
    decoder: Model


def choose_beta(sweep: Sequence[Model], min_psnr: float) -> tuple[Model, bool]:
    """The biased model with the highest *validation* bias rate among those whose
    validation consistency is >= ``min_psnr`` (ties: the smaller beta); if none is,
    the most consistent one. Returns it and whether the floor was met."""
    ok = [m for m in sweep if m.metric("val_psnr") >= min_psnr]
    if ok:
        return max(ok, key=lambda m: (m.metric("val_bias"), -m.beta)), True
    return max(sweep, key=lambda m: m.metric("val_psnr")), False


def make_classifier(nets: Networks, data: ImageData) -> nn.Module:
    """The classifier that measures the bias (untrained; ``nets.classifier``): the CNN
    :class:`ImageClassifier`, or :class:`PixelClassifier` standardized on its training
    images."""
    n, size = data.num_classes, data.classifier_train.images.shape[-1]
    if nets.classifier == "cnn":
        return ImageClassifier(1, num_classes=n, width=nets.classifier_width)
    if nets.classifier == "pixels":
        return PixelClassifier(size, num_classes=n).fit_standardization(
            data.classifier_train.images
        )
    raise ConfigError(f"nets.classifier must be 'cnn' or 'pixels', got {nets.classifier!r}")


def make_aign(
    problem: Problem,
    cfg: ImageConfig,
    evaluator: ImageEvaluator,
    beta: float,
    size: int,
    *,
    decoder: bool = False,
) -> ImageAIGN:
    """The AIGN of Eq. 1 for ``problem`` (no prior when ``beta == 0``), or with
    ``decoder=True`` the parametric-decoder ablation; ``size`` is the image side. Builds
    the critic, the decoder, then the generator from the global RNG (inside
    ``ctx.seeded(name)``)."""
    priors = {}
    if beta > 0:
        shift = cfg.nets.augment_shift
        priors["image"] = Prior(
            make_prior(cfg.nets, size),
            prediction="output",
            transform=(lambda t: random_shift(t, shift)) if shift > 0 else None,
        )
    if decoder:
        dec = problem.decoder(cfg.nets)
        gen = problem.generator(cfg.nets)
        return ParametricDecoderAIGN(
            gen,
            dec,
            problem.renderer,
            priors,
            beta=beta,
            reconstruction=cfg.reconstruction,
            evaluator=evaluator,
        )
    gen = problem.generator(cfg.nets)
    return ImageAIGN(
        gen,
        problem.renderer,
        priors,
        beta=beta,
        reconstruction=cfg.reconstruction,
        evaluator=evaluator,
    )


def _unpaired(x: torch.Tensor, memories: torch.Tensor, batch_size: int) -> Unpaired:
    return Unpaired(
        {
            "x": TensorSampler(x, batch_size=batch_size),
            "memories": Unpaired({"image": TensorSampler(memories, batch_size=batch_size)}),
        }
    )


def train_models(cfg: ImageConfig, ctx: RunContext, data: ImageData, problem: Problem) -> Trained:
    """Train, in order: the classifier (full high-res data, no evaluation image), the
    supervised baseline (paired L2 on the same inputs), AIGN with biased memories for every
    beta, then AIGN with unbiased memories and the parametric decoder at the beta chosen
    on validation. Each model's networks are built in ``ctx.seeded(<its checkpoint
    name>)``: they start the same whichever other models the run trains."""
    k, kind = data.memory_class, data.kind
    size, bs = data.test.images.shape[-1], cfg.batch_size
    with ctx.seeded("classifier"):
        classifier = make_classifier(cfg.nets, data)
    shift = 2 if cfg.nets.classifier == "cnn" else 1
    cls_task = ClassifierTask(
        classifier, data.test.images, data.test.labels, augment=lambda x: random_shift(x, shift)
    )
    ctrain = data.classifier_train
    cls_fit = ctx.fit(
        "classifier",
        cls_task,
        TensorSampler(ctrain.images, ctrain.labels, batch_size=32),
        cfg.classifier,
    )
    renderer = problem.renderer
    sets = {"val": data.val, "test": data.test}
    evaluator = ImageEvaluator(renderer.observe, classifier, sets, k, mask=renderer.visible)

    x_inputs = renderer.observe(data.inputs.images)
    with ctx.seeded("supervised-l2"):
        sup_generator = problem.generator(cfg.nets)
    sup_task = ImageAIGN(
        sup_generator,
        renderer,
        None,
        beta=0.0,
        recon_weight=0.0,
        supervised={"output": 1.0},
        evaluator=evaluator,
    )
    paired = Paired(x_inputs, {"output": data.inputs.images}, batch_size=bs)
    sup_fit = ctx.fit("supervised-l2", sup_task, paired, cfg.supervised)
    supervised = Model("supervised L2 (paired)", "paired targets", None, sup_task, sup_fit.final)

    biased_mem = data.biased_memories.images
    sweep = []
    for beta in sorted(set(cfg.betas)):
        name = f"aign-biased-beta{beta:g}"
        with ctx.seeded(name):
            task = make_aign(problem, cfg, evaluator, beta, size)
        fit = ctx.fit(name, task, _unpaired(x_inputs, biased_mem, bs), cfg.train)
        label = "AIGN, reconstruction only" if beta == 0 else "AIGN"
        sweep.append(Model(label, f"{kind} {k} only", beta, task, fit.final))
    chosen, floor_met = choose_beta([m for m in sweep if m.beta > 0], cfg.min_psnr)

    with ctx.seeded("aign-unbiased"):
        unb_task = make_aign(problem, cfg, evaluator, chosen.beta, size)
    pool = _unpaired(x_inputs, data.memory_pool.images, bs)
    unb_fit = ctx.fit("aign-unbiased", unb_task, pool, cfg.train)
    unbiased = Model("AIGN", f"every {kind} (unbiased)", chosen.beta, unb_task, unb_fit.final)
    with ctx.seeded("parametric-decoder"):
        dec_task = make_aign(problem, cfg, evaluator, chosen.beta, size, decoder=True)
    dec_data = _unpaired(x_inputs, biased_mem, bs)
    dec_fit = ctx.fit("parametric-decoder", dec_task, dec_data, cfg.train)
    decoder = Model(
        "ablation: parametric decoder", f"{kind} {k} only", chosen.beta, dec_task, dec_fit.final
    )
    return Trained(cls_fit, evaluator, supervised, sweep, chosen, floor_met, unbiased, decoder)


def run_biased(
    cfg: ImageConfig, ctx: RunContext, data: ImageData, problem: Problem, *, title: str
) -> Report:
    """Train every model (:func:`train_models`) and report the tables and figures."""
    if not cfg.betas or any(b < 0 or not math.isfinite(b) for b in cfg.betas):
        raise ConfigError(f"betas must be a non-empty list of numbers >= 0, got {cfg.betas}")
    if not any(b > 0 for b in cfg.betas):
        raise ConfigError("betas must hold at least one beta > 0 (the biased models)")
    done = train_models(cfg, ctx, data, problem)
    tables, reach = report.tables(cfg, data, problem, done, title=title)
    k, kind = data.memory_class, data.kind
    return Report(
        title=title,
        summary=(
            f"{problem.name} with memories biased to {kind} {k}; inputs of other {kind}s "
            f"({len(data.inputs)} training inputs, {len(data.biased_memories)} biased memories, "
            f"{len(data.memory_pool)} unbiased memories, {len(data.val)} val, {len(data.test)} test)."
        ),
        tables=tables,
        figures=report.figures(cfg, ctx, data, problem, done, title=title),
        metrics=report.metrics(cfg, done, reach),
    )
