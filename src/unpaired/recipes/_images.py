"""What the four biased image recipes share (AIGN paper Sec. 2.3, 2.4, 3.3; Figs. 5-7).

``sr-faces``, ``sr-digits``, ``inpaint-faces`` and ``inpaint-digits`` are one experiment
on two datasets with two renderers:

    min_G  ||P(G(x)) - x||²  +  beta * d(G(X), M)                       (Eq. 1)

``P`` is parameter-free (average pooling for super-resolution, Sec. 2.3; masking for
inpainting, Sec. 2.4); the memories ``M`` are high-resolution images *unrelated* to the
inputs and deliberately *biased*: they show only one class (one person, "Tom Cruise" in
Fig. 5; one digit), while every input shows another class. ``d`` is any distance of
:mod:`unpaired.distances` (here the paper's logistic critic on whole images).

Each recipe trains, on the same data:

* an identity / digit **classifier** on full high-res images (never on the evaluation
  images), used to measure the bias: the share of outputs ``G(x)`` it assigns to the
  memory class (:func:`~unpaired.metrics.images.bias_rate`) and the share that keep
  the input's class (:func:`~unpaired.metrics.images.keep_rate`);
* the **supervised** baseline: paired L2 ``||G(x) - y||²`` on the same inputs (the
  "regression to the mean" reference of Sec. 2.3);
* **AIGN with biased memories** for every ``beta`` of a sweep; ``beta`` is chosen on
  the *validation* images (largest bias rate with consistency PSNR >= ``min_psnr``);
* **AIGN with unbiased memories** (every class) at that ``beta``;
* the **parametric decoder** ablation (Sec. 3.3, Fig. 7): ``P`` replaced by a learned
  conv decoder trained jointly with ``G`` (:class:`ParametricDecoderAIGN`), its
  consistency measured with the true renderer.

Consistency is PSNR / SSIM of ``P(G(x))`` against ``x`` (visible pixels only for
inpainting). Data splits keep evaluation images out of every training set, and the
faces' evaluation people out of every generator's training.

This module is the configuration and the wiring (renderer, networks, prior, classifier of
one problem); the tasks and renderers are :mod:`unpaired.aign.images`, the splits
:mod:`unpaired.recipes._images_data`, the training, tables and figures
:mod:`unpaired.recipes._images_run`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from unpaired.aign.images import (
    DownsampleRenderer,
    MaskRenderer,
)
from unpaired.distances import Distance
from unpaired.engine import TrainConfig
from unpaired.errors import ConfigError
from unpaired.models.images import (
    DCGANCritic,
    InpaintingGenerator,
    MaskedGenerator,
    ParametricDecoder,
    PatchCritic,
    SuperResolutionGenerator,
)
from unpaired.recipes._images_data import ImageData, digits_data, faces_data
from unpaired.recipes._names import IMAGE_PRIORS, family_distance
from unpaired.renderers.mask import BOXES, box_mask
from unpaired.viz.images import blend, paste_hidden


@dataclass(frozen=True)
class Networks:
    """Sizes of the networks (small: everything trains on one CPU thread)."""

    generator_width: int = 16
    generator_blocks: int = 3  # super-resolution: residual blocks; inpainting: U-Net depth
    upsample: Literal["shuffle", "nearest"] = "nearest"  # super-resolution upsampling
    skip: bool = True  # the generator predicts a correction of its (upsampled / masked) input
    # the prior d(G(X), M): an adversarial loss with a critic, or the critic-free MMD
    prior: Literal["logistic", "hinge", "wasserstein", "mmd"] = "logistic"
    r1: float = 1.0  # R1 penalty of the critic (Mescheder et al. 2018); 0: off
    critic: Literal["dcgan", "patch"] = "dcgan"  # whole-image or patch (PatchGAN) critic
    critic_width: int = 16
    critic_norm: Literal["none", "spectral"] = "none"
    augment_shift: int = 2  # random shift (px) of critic inputs, real and fake alike; 0: off
    decoder_width: int = 16  # the learned decoder of the ablation
    # what measures the bias: a small CNN (digits), or softmax regression on standardized
    # pixels (faces: few images per person; it also labels smooth outputs correctly)
    classifier: Literal["cnn", "pixels"] = "cnn"
    classifier_width: int = 16  # the CNN's


def aign_train(*, steps: int = 2000, lr: float = 1e-3) -> TrainConfig:
    """Optimization of every AIGN model of a recipe (Adam, beta1 = 0.5 as for GANs)."""
    return TrainConfig(
        steps=steps,
        lr=lr,
        critic_lr=2e-4,
        betas=(0.5, 0.999),
        log_every=50,
        eval_every=250,
        checkpoint_every=500,
    )


def supervised_optim(*, steps: int = 1000) -> TrainConfig:
    """Optimization of the supervised (paired L2) baseline."""
    return TrainConfig(steps=steps, lr=1e-3, log_every=50, eval_every=250, checkpoint_every=500)


def classifier_optim(*, steps: int = 600) -> TrainConfig:
    """Optimization of the classifier that measures the bias."""
    return TrainConfig(
        steps=steps, lr=2e-3, betas=(0.9, 0.999), log_every=50, eval_every=250, checkpoint_every=500
    )


@dataclass(frozen=True)
class ImageConfig:
    """Options every biased image recipe has (each recipe's ``Config`` extends it)."""

    memory_class: int = 0  # the bias: memories show only this person / digit
    betas: tuple[float, ...] = (0.0, 0.03, 0.1, 0.3)  # the sweep of Eq. 1's beta
    # Eq. 1's ||P(G(x)) - x||: "mse" the mean squared error (every reported run), "l2" the
    # per-image Euclidean norm (as Eq. 1 is written), "l1" the mean absolute error
    reconstruction: Literal["l2", "mse", "l1"] = "mse"
    min_psnr: float = 28.0  # consistency floor (dB) for choosing beta on validation images
    batch_size: int = 16
    nets: Networks = field(default_factory=Networks)
    train: TrainConfig = field(default_factory=aign_train)  # every AIGN model
    supervised: TrainConfig = field(default_factory=supervised_optim)
    classifier: TrainConfig = field(default_factory=classifier_optim)
    grid_examples: int = 8


@dataclass(frozen=True)
class FacesConfig(ImageConfig):
    """Olivetti: 40 people; person ``memory_class`` is the memory, the rest are split by person."""

    memory_class: int = 13  # glasses and a beard: the bias is easy to see
    betas: tuple[float, ...] = (0.0, 0.01, 0.03)
    nets: Networks = field(default_factory=lambda: Networks(r1=10.0, classifier="pixels"))
    # 64x64 images cost ~4x the digits per step: short fits keep a full run ~4 min of CPU
    train: TrainConfig = field(default_factory=lambda: aign_train(steps=200, lr=5e-4))
    supervised: TrainConfig = field(default_factory=lambda: supervised_optim(steps=200))
    classifier: TrainConfig = field(default_factory=lambda: classifier_optim(steps=400))
    test_people: int = 10  # never seen by any generator: the reported results
    val_people: int = 6  # never seen by any generator: beta is chosen on them
    memory_people: int = 11  # unbiased memories (with person memory_class); the rest: inputs
    gallery: int = 5  # images per val/test person the classifier trains on (rest: evaluated)

    def split(self, root: Path, generator: torch.Generator) -> ImageData:
        """The faces under ``root`` split by person (:func:`~._images_data.faces_data`)."""
        return faces_data(
            root,
            memory_class=self.memory_class,
            test_people=self.test_people,
            val_people=self.val_people,
            memory_people=self.memory_people,
            gallery=self.gallery,
            generator=generator,
        )


@dataclass(frozen=True)
class DigitsConfig(ImageConfig):
    """MNIST (test split) or USPS digits at 32x32, split by image."""

    dataset: Literal["mnist", "usps"] = "mnist"
    memory_class: int = 8
    n_test: int = 1000
    n_val: int = 1000
    grid_examples: int = 9

    def split(self, root: Path, generator: torch.Generator) -> ImageData:
        """The digits under ``root`` split by image (:func:`~._images_data.digits_data`)."""
        return digits_data(
            root,
            dataset=self.dataset,
            memory_class=self.memory_class,
            n_test=self.n_test,
            n_val=self.n_val,
            generator=generator,
        )


# --------------------------------------------------------------------------------------
# one problem: its renderer, networks and display
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What differs between super-resolution and inpainting: the renderer ``P``
    (:mod:`unpaired.aign.images`), the networks of a :class:`Networks` config, and how the
    figure shows an input and an output over the original."""

    name: str
    renderer: DownsampleRenderer | MaskRenderer
    generator: Callable[[Networks], nn.Module]
    decoder: Callable[[Networks], nn.Module]
    show_input: Callable[[torch.Tensor], torch.Tensor]
    overlay: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def super_resolution(factor: int) -> Problem:
    """4x (``factor``) super-resolution: average pooling, the residual upsampling
    generator, a strided conv decoder; inputs shown upsampled, outputs blended."""
    if isinstance(factor, bool) or factor not in (2, 4, 8, 16):
        raise ConfigError(f"factor must be 2, 4, 8 or 16, got {factor!r}")
    return Problem(
        "super-resolution",
        DownsampleRenderer(factor),
        lambda nets: SuperResolutionGenerator(
            1,
            factor=factor,
            width=nets.generator_width,
            blocks=nets.generator_blocks,
            upsample=nets.upsample,
            skip=nets.skip,
        ),
        lambda nets: ParametricDecoder(1, factor=factor, width=nets.decoder_width),
        lambda x: F.interpolate(x, scale_factor=factor, mode="nearest"),
        blend,
    )


def inpainting(box: str, size: int) -> Problem:
    """Inpainting of the box ``box`` (a name of :data:`~unpaired.renderers.mask.BOXES`) of
    ``size`` x ``size`` images: the fixed mask, the U-Net generator that sees the mask, a
    same-size conv decoder; outputs pasted into the original's hidden region."""
    if box not in BOXES:
        raise ConfigError(f"unknown box {box!r}; known: {', '.join(sorted(BOXES))}")
    mask = box_mask(size, size, BOXES[box])
    return Problem(
        "inpainting",
        MaskRenderer(mask),
        lambda nets: MaskedGenerator(
            InpaintingGenerator(
                1, width=nets.generator_width, depth=nets.generator_blocks, skip=nets.skip
            ),
            mask,
        ),
        lambda nets: ParametricDecoder(1, factor=1, width=nets.decoder_width),
        lambda x: x,
        lambda output, original: paste_hidden(output, original, mask),
    )


def make_prior(nets: Networks, size: int) -> Distance:
    """``d(G(X), M)`` by name (:data:`~unpaired.recipes._names.IMAGE_PRIORS`): a critic on
    whole images (DCGAN) or patches trained with the paper's logistic loss (or hinge /
    Wasserstein), with an R1 penalty, or the critic-free RBF MMD."""

    def critic() -> nn.Module:
        if nets.critic == "dcgan":
            return DCGANCritic(1, size=size, width=nets.critic_width, norm=nets.critic_norm)
        if nets.critic == "patch":
            return PatchCritic(1, width=nets.critic_width, layers=3, norm=nets.critic_norm)
        raise ConfigError(f"critic must be 'dcgan' or 'patch', got {nets.critic!r}")

    r1 = {"r1": nets.r1}
    return family_distance(
        IMAGE_PRIORS,
        nets.prior,
        kind="image prior",
        critic=critic,
        options={"adversarial": r1, "hinge": r1, "wasserstein": r1},
    )


#: ``--quick`` overrides shared by the four recipes (each finishes in a few minutes).
QUICK_STEPS: dict[str, Any] = {
    "train.steps": 250,
    "supervised.steps": 200,
    "classifier.steps": 300,
}
#: ``--quick`` for the 64x64 faces (about 4x the digits' cost per step).
QUICK_FACES: dict[str, Any] = {
    "train.steps": 100,
    "supervised.steps": 150,
    "classifier.steps": 200,
    "betas": (0.01,),
}
