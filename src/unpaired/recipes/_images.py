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
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.aign import AIGN, Prior, Rendered
from unpaired.data.digits import load_mnist, load_usps, resize_images
from unpaired.data.faces import IMAGES_PER_PERSON, load_olivetti
from unpaired.distances import Distance
from unpaired.engine import Task, TensorSampler, TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.metrics.images import bias_rate, keep_rate, nearest_psnr, psnr, ssim
from unpaired.models.images import (
    DCGANCritic,
    ImageClassifier,
    InpaintingGenerator,
    ParametricDecoder,
    PatchCritic,
    PixelClassifier,
    SuperResolutionGenerator,
)
from unpaired.recipes._names import IMAGE_PRIORS, family_distance
from unpaired.recipes.base import RunContext
from unpaired.renderers.downsample import downsample
from unpaired.renderers.mask import BOXES, apply_mask, box_mask
from unpaired.report import Figure, Report, Table

# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


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
    # Eq. 1's ||P(G(x)) - x||: "l2" is the per-image Euclidean norm (as written), "mse" its square
    reconstruction: Literal["l2", "mse", "l1"] = "l2"
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


@dataclass(frozen=True)
class DigitsConfig(ImageConfig):
    """MNIST (test split) or USPS digits at 32x32, split by image."""

    dataset: Literal["mnist", "usps"] = "mnist"
    memory_class: int = 8
    n_test: int = 1000
    n_val: int = 1000
    grid_examples: int = 9


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


@dataclass
class Labelled:
    """Images (N, 1, H, W) in [0, 1] with integer labels (N,) (person or digit)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]

    def take(self, index: torch.Tensor) -> Labelled:
        return Labelled(self.images[index], self.labels[index])

    def where(self, keep: torch.Tensor) -> Labelled:
        return self.take(torch.nonzero(keep).flatten())

    def with_flips(self) -> Labelled:
        """The set plus its horizontal mirror images (faces are left-right symmetric)."""
        return Labelled(
            torch.cat([self.images, self.images.flip(-1)]), torch.cat([self.labels, self.labels])
        )


def concat(*sets: Labelled) -> Labelled:
    return Labelled(
        torch.cat([s.images for s in sets]).contiguous(), torch.cat([s.labels for s in sets])
    )


@dataclass
class ImageData:
    """The splits of one recipe. ``memory_pool`` holds the unbiased memories; its images
    of class ``memory_class`` are the biased memories. Inputs never show that class."""

    inputs: Labelled  # generator training inputs (their high-res: supervised targets only)
    memory_pool: Labelled
    classifier_train: Labelled  # excludes val and test evaluation images
    val: Labelled  # choose beta here
    test: Labelled  # report here
    num_classes: int
    memory_class: int
    kind: str  # "person" or "digit"

    @property
    def biased_memories(self) -> Labelled:
        return self.memory_pool.where(self.memory_pool.labels == self.memory_class)


def _check_class(k: int, n: int, kind: str) -> None:
    if not 0 <= k < n:
        raise ConfigError(f"memory_class must be a {kind} id in 0..{n - 1}, got {k}")


def faces_data(cfg: FacesConfig, ctx: RunContext) -> ImageData:
    """Olivetti split by person: memory person k, test/val people (held out from every
    generator), memory people (unbiased memories) and input people; training sets get
    their mirror images."""
    images, ids = load_olivetti(ctx.data_root())
    people = int(ids.max()) + 1
    _check_class(cfg.memory_class, people, "person")
    groups = (cfg.test_people, cfg.val_people, cfg.memory_people)
    if min(groups) < 1 or sum(groups) > people - 2:
        raise ConfigError(
            f"test_people, val_people and memory_people must be >= 1 and leave at least one "
            f"input person besides person {cfg.memory_class} ({people} people), got {groups}"
        )
    if not 1 <= cfg.gallery < IMAGES_PER_PERSON:
        raise ConfigError(f"gallery must be in 1..{IMAGES_PER_PERSON - 1}, got {cfg.gallery}")
    g = ctx.generator("images/faces-split")
    others = torch.tensor([p for p in range(people) if p != cfg.memory_class])
    others = others[torch.randperm(len(others), generator=g)]
    t, v, m = groups
    test_p, val_p, mem_p, in_p = (
        others[:t],
        others[t : t + v],
        others[t + v : t + v + m],
        others[t + v + m :],
    )
    everyone = Labelled(images, ids)

    def of(persons: torch.Tensor) -> Labelled:
        return everyone.where(torch.isin(ids, persons))

    def gallery_and_eval(persons: torch.Tensor) -> tuple[Labelled, Labelled]:
        gallery, evaluated = [], []
        for p in persons.tolist():
            idx = torch.nonzero(ids == p).flatten()
            idx = idx[torch.randperm(len(idx), generator=g)]
            gallery.append(idx[: cfg.gallery])
            evaluated.append(idx[cfg.gallery :])
        return everyone.take(torch.cat(gallery)), everyone.take(torch.cat(evaluated))

    test_gallery, test = gallery_and_eval(test_p)
    val_gallery, val = gallery_and_eval(val_p)
    memory_pool = of(torch.cat([mem_p, torch.tensor([cfg.memory_class])]))
    inputs = of(in_p)
    classifier_train = concat(inputs, memory_pool, val_gallery, test_gallery)
    return ImageData(
        inputs=inputs.with_flips(),
        memory_pool=memory_pool.with_flips(),
        classifier_train=classifier_train.with_flips(),
        val=val,
        test=test,
        num_classes=people,
        memory_class=cfg.memory_class,
        kind="person",
    )


def load_digits(cfg: DigitsConfig, ctx: RunContext) -> Labelled:
    """All digits of the chosen dataset at 32x32: MNIST 28x28 padded by 2 px; USPS 16x16
    resized to 24x24 and padded by 4 px (about MNIST's digit-to-frame ratio)."""
    root = ctx.data_root()
    if cfg.dataset == "mnist":
        x, y = load_mnist(root, split="test")
        return Labelled(F.pad(x, (2, 2, 2, 2)), y)
    if cfg.dataset == "usps":
        parts = [load_usps(root, split=s) for s in ("train", "test")]
        x = torch.cat([p[0] for p in parts])
        return Labelled(F.pad(resize_images(x, 24), (4, 4, 4, 4)), torch.cat([p[1] for p in parts]))
    raise ConfigError(f"dataset must be 'mnist' or 'usps', got {cfg.dataset!r}")


def digits_data(cfg: DigitsConfig, ctx: RunContext) -> ImageData:
    """Random split by image: test, val, and the rest halved into inputs (every class but
    ``memory_class``) and the memory pool; the classifier trains on inputs + pool."""
    _check_class(cfg.memory_class, 10, "digit")
    everyone = load_digits(cfg, ctx)
    n = len(everyone)
    if cfg.n_test < 1 or cfg.n_val < 1 or cfg.n_test + cfg.n_val > n - 2:
        raise ConfigError(f"n_test and n_val must be >= 1 and leave training digits (of {n})")
    perm = torch.randperm(n, generator=ctx.generator("images/digits-split"))
    test, val = (
        everyone.take(perm[: cfg.n_test]),
        everyone.take(perm[cfg.n_test : cfg.n_test + cfg.n_val]),
    )
    rest = perm[cfg.n_test + cfg.n_val :]
    inputs, memory_pool = (
        everyone.take(rest[: len(rest) // 2]),
        everyone.take(rest[len(rest) // 2 :]),
    )
    return ImageData(
        inputs=inputs.where(inputs.labels != cfg.memory_class),
        memory_pool=memory_pool,
        classifier_train=concat(inputs, memory_pool),
        val=val,
        test=test,
        num_classes=10,
        memory_class=cfg.memory_class,
        kind="digit",
    )


# --------------------------------------------------------------------------------------
# renderers (parameter-free) and networks
# --------------------------------------------------------------------------------------


class SuperResolution(nn.Module):
    """AIGN renderer ``P(G(x))`` = average pooling by ``factor`` (Sec. 2.3); no parameters."""

    name = "super-resolution"
    visible: torch.Tensor | None = None  # every low-res pixel counts

    def __init__(self, factor: int) -> None:
        super().__init__()
        if isinstance(factor, bool) or factor not in (2, 4, 8, 16):
            raise ConfigError(f"factor must be 2, 4, 8 or 16, got {factor!r}")
        self.factor = factor

    def observe(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) high-res -> (B, 1, H/f, W/f): the generator's input, and ``P``."""
        return downsample(images, factor=self.factor)

    def forward(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.observe(predictions["output"]))

    def generator(self, nets: Networks) -> nn.Module:
        return SuperResolutionGenerator(
            1,
            factor=self.factor,
            width=nets.generator_width,
            blocks=nets.generator_blocks,
            upsample=nets.upsample,
            skip=nets.skip,
        )

    def decoder(self, nets: Networks) -> nn.Module:
        return ParametricDecoder(1, factor=self.factor, width=nets.decoder_width)

    def show_input(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.factor, mode="nearest")

    def overlay(self, output: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        """The output blended half-and-half over the original."""
        return 0.5 * (output + original)


class Inpainting(nn.Module):
    """AIGN renderer ``P(G(x), m) = m ⊙ G(x)`` with one fixed box mask (Sec. 2.4).

    Holds the mask as a buffer (no parameters); the reconstruction loss and the
    consistency metrics run over the visible pixels only.
    """

    name = "inpainting"

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("visible", mask)

    def observe(self, images: torch.Tensor) -> torch.Tensor:
        return apply_mask(images, self.visible)

    def forward(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.observe(predictions["output"]), mask=self.visible)

    def generator(self, nets: Networks) -> nn.Module:
        net = InpaintingGenerator(
            1, width=nets.generator_width, depth=nets.generator_blocks, skip=nets.skip
        )
        return MaskedGenerator(net, self.visible)

    def decoder(self, nets: Networks) -> nn.Module:
        return ParametricDecoder(1, factor=1, width=nets.decoder_width)

    def show_input(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def overlay(self, output: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        """The output's hidden region pasted into the original (Fig. 6, last row)."""
        return self.visible * original + (1 - self.visible) * output


def inpainting(box: str, size: int) -> Inpainting:
    if box not in BOXES:
        raise ConfigError(f"unknown box {box!r}; known: {', '.join(sorted(BOXES))}")
    return Inpainting(box_mask(size, size, BOXES[box]))


class MaskedGenerator(nn.Module):
    """Non-blind inpainting ``G(x) = net(x, m)`` with the recipe's fixed mask ``m``."""

    def __init__(self, net: InpaintingGenerator, mask: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) masked images -> (B, 1, H, W) completed images."""
        return self.net(x, self.mask.expand(x.shape[0], -1, -1, -1))


Problem = SuperResolution | Inpainting


def random_shift(x: torch.Tensor, shift: int) -> torch.Tensor:
    """Shift each image (B, C, H, W) by its own random offset in [-shift, shift]² px
    (edge pixels repeated); differentiable in ``x``. Uses torch's global RNG, which the
    engine reseeds every step."""
    if shift <= 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    dy = torch.randint(0, 2 * shift + 1, (b,), device=x.device)
    dx = torch.randint(0, 2 * shift + 1, (b,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    return padded[
        torch.arange(b, device=x.device)[:, None, None, None],
        torch.arange(c, device=x.device)[None, :, None, None],
        rows,
        cols,
    ]


def make_prior(nets: Networks, size: int) -> Distance:
    """``d(G(X), M)``: a critic on whole images (DCGAN) or patches trained with the
    paper's logistic loss (or hinge / Wasserstein), or the critic-free RBF MMD."""

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


# --------------------------------------------------------------------------------------
# evaluation and tasks
# --------------------------------------------------------------------------------------


class Evaluator:
    """Held-out metrics of a generator on named image sets (a plain object, so the
    classifier is neither trained nor checkpointed with the tasks that use it)."""

    def __init__(
        self,
        problem: Problem,
        classifier: nn.Module,
        sets: Mapping[str, Labelled],
        memory_class: int,
        *,
        chunk: int = 250,
    ) -> None:
        self.problem, self.classifier = problem, classifier.eval()
        self.sets, self.memory_class, self.chunk = dict(sets), memory_class, chunk

    def _map(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        device = next(net.parameters()).device
        return torch.cat([net(c.to(device)).cpu() for c in x.split(self.chunk)])

    @torch.no_grad()
    def outputs(self, generator: nn.Module, images: torch.Tensor) -> torch.Tensor:
        """``G(P(images))``: (N, 1, H, W) ground truth -> (N, 1, H, W) outputs."""
        return self._map(generator, self.problem.observe(images))

    @torch.no_grad()
    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return self._map(self.classifier, images).argmax(dim=1)

    @torch.no_grad()
    def __call__(self, generator: nn.Module, decoder: nn.Module | None = None) -> dict[str, float]:
        """``{set}_psnr`` / ``_ssim``: consistency of ``P(G(x))`` with ``x``; ``_bias``:
        share of outputs (inputs of other classes) classified as the memory class;
        ``_keep``: share keeping the input's class; ``_hr_psnr``: output vs the unseen
        ground truth; ``_decoder_psnr``: a learned decoder's own reconstruction."""
        p, out = self.problem, {}
        for name, s in self.sets.items():
            x = p.observe(s.images)
            y = self.outputs(generator, s.images)
            out[f"{name}_psnr"] = float(psnr(p.observe(y), x, mask=p.visible))
            out[f"{name}_ssim"] = float(ssim(p.observe(y), x, mask=p.visible))
            out[f"{name}_hr_psnr"] = float(psnr(y, s.images))
            labels = self.classify(y)
            other = s.labels != self.memory_class
            out[f"{name}_bias"] = float(bias_rate(labels[other], self.memory_class))
            out[f"{name}_keep"] = float(keep_rate(labels, s.labels))
            if decoder is not None:
                out[f"{name}_decoder_psnr"] = float(psnr(self._map(decoder, y), x, mask=p.visible))
        return out


class ImageAIGN(AIGN):
    """:class:`~unpaired.aign.AIGN` whose ``evaluate`` reports an :class:`Evaluator`."""

    def __init__(self, *args: Any, evaluator: Evaluator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evaluator = evaluator

    def evaluate(self) -> dict[str, float]:
        return self.evaluator(self.generator)


class ParametricDecoderAIGN(ImageAIGN):
    """ABLATION (Sec. 3.3, Fig. 7), not AIGN: the reconstruction goes through a *learned*
    decoder ``Dec`` trained jointly with ``G`` (both are the generator player):

        min_{G, Dec}  ||Dec(G(x)) - x||  +  beta * d(G(X), M)

    ``renderer`` (the true, parameter-free ``P``) is used only to measure consistency;
    AIGN itself refuses learned renderers, which is exactly what this shows is wise.
    """

    def __init__(self, *args: Any, decoder: nn.Module, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decoder = decoder

    def render(self, predictions: Mapping[str, torch.Tensor], batch: Any) -> Rendered:
        return Rendered(self.decoder(predictions["output"]), mask=self.renderer.visible)

    def evaluate(self) -> dict[str, float]:
        return self.evaluator(self.generator, self.decoder)


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


class ClassifierTask(Task):
    """Cross-entropy on labelled high-res images (random shifts as augmentation);
    ``evaluate``: accuracy on held-out real images."""

    def __init__(self, classifier: nn.Module, held_out: Labelled, *, shift: int) -> None:
        super().__init__()
        self.classifier, self.held_out, self.shift = classifier, held_out, shift

    def generator_losses(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch
        return {"cross_entropy": F.cross_entropy(self.classifier(random_shift(x, self.shift)), y)}

    def evaluate(self) -> dict[str, float]:
        device = next(self.classifier.parameters()).device
        logits = self.classifier(self.held_out.images.to(device))
        return {"accuracy": float((logits.argmax(1).cpu() == self.held_out.labels).float().mean())}


class Paired:
    """Paired rows ``{"x": P(y), "targets": {"output": y}}`` for the supervised baseline."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, batch_size: int) -> None:
        self.sampler = TensorSampler(x, y, batch_size=batch_size)

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> dict:
        x, y = self.sampler.sample(generator, rank=rank, world_size=world_size)
        return {"x": x, "targets": {"output": y}}


# --------------------------------------------------------------------------------------
# the experiment
# --------------------------------------------------------------------------------------


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


def choose_beta(sweep: Sequence[Model], min_psnr: float) -> tuple[Model, bool]:
    """The biased model with the highest *validation* bias rate among those whose
    validation consistency is >= ``min_psnr`` (ties: the smaller beta); if none is,
    the most consistent one. Returns it and whether the floor was met."""
    ok = [m for m in sweep if m.metric("val_psnr") >= min_psnr]
    if ok:
        return max(ok, key=lambda m: (m.metric("val_bias"), -m.beta)), True
    return max(sweep, key=lambda m: m.metric("val_psnr")), False


def make_aign(
    problem: Problem,
    cfg: ImageConfig,
    evaluator: Evaluator,
    beta: float,
    size: int,
    *,
    decoder: bool = False,
) -> ImageAIGN:
    """The AIGN of Eq. 1 for ``problem`` (no prior when ``beta == 0``), or with
    ``decoder=True`` the parametric-decoder ablation; ``size`` is the image side."""
    priors = {}
    if beta > 0:
        shift = cfg.nets.augment_shift
        priors["image"] = Prior(
            make_prior(cfg.nets, size),
            prediction="output",
            transform=(lambda t: random_shift(t, shift)) if shift > 0 else None,
        )
    cls = ParametricDecoderAIGN if decoder else ImageAIGN
    extra = {"decoder": problem.decoder(cfg.nets)} if decoder else {}
    return cls(
        problem.generator(cfg.nets), problem, priors, beta=beta, evaluator=evaluator, **extra
    )


def _unpaired(x: torch.Tensor, memories: torch.Tensor, batch_size: int) -> Unpaired:
    return Unpaired(
        {
            "x": TensorSampler(x, batch_size=batch_size),
            "memories": Unpaired({"image": TensorSampler(memories, batch_size=batch_size)}),
        }
    )


def _grid_examples(test: Labelled, memory_class: int, n: int) -> torch.Tensor:
    """Indices of ``n`` test images of other classes, one per class first."""
    first: dict[int, int] = {}
    rest: list[int] = []
    for i, label in enumerate(test.labels.tolist()):
        if label == memory_class:
            continue
        if label in first:
            rest.append(i)
        else:
            first[label] = i
    return torch.tensor((list(first.values()) + rest)[:n])


def _grid(path: Any, rows: Sequence[tuple[str, torch.Tensor]], title: str) -> None:
    n_rows, n_cols = len(rows), rows[0][1].shape[0]
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.1 * n_cols + 1.6, 1.1 * n_rows + 0.4), squeeze=False
    )
    for r, (label, images) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c < images.shape[0]:
                ax.imshow(images[c, 0].clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _sweep_plot(
    path: Any, sweep: Sequence[Model], chosen: Model, min_psnr: float, kind: str
) -> None:
    betas = [m.beta for m in sweep]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    for split, style in (("val", "-o"), ("test", "--s")):
        left.plot(betas, [m.metric(f"{split}_psnr") for m in sweep], style, label=split)
        right.plot(betas, [100 * m.metric(f"{split}_bias") for m in sweep], style, label=split)
    left.axhline(min_psnr, color="gray", lw=0.8, ls=":")
    for ax, ylabel in (
        (left, "consistency PSNR of P(G(x)) vs x [dB]"),
        (right, f"bias rate: outputs -> memory {kind} [%]"),
    ):
        ax.axvline(chosen.beta, color="red", lw=0.8, ls=":")
        ax.set_xscale("symlog", linthresh=min([b for b in betas if b > 0], default=1e-3))
        ax.set_xlabel("beta (Eq. 1)")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"beta sweep, biased memories (red: beta chosen on val; dotted: {min_psnr} dB)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _share(reach: torch.Tensor, cfg: ImageConfig) -> float:
    return float((reach >= cfg.min_psnr).float().mean())


def _fmt_beta(beta: float) -> str:
    return f"{beta:g}"


def run_biased(
    cfg: ImageConfig, ctx: RunContext, data: ImageData, problem: Problem, *, title: str
) -> Report:
    """Train the classifier, the supervised baseline, the biased beta sweep, the
    unbiased AIGN and the parametric decoder ablation; return tables and figures."""
    if not cfg.betas or any(b < 0 or not math.isfinite(b) for b in cfg.betas):
        raise ConfigError(f"betas must be a non-empty list of numbers >= 0, got {cfg.betas}")
    if not any(b > 0 for b in cfg.betas):
        raise ConfigError("betas must hold at least one beta > 0 (the biased models)")
    k, kind = data.memory_class, data.kind
    size = data.test.images.shape[-1]
    bs = cfg.batch_size

    # 1. the classifier that measures the bias (full high-res data, no evaluation images)
    classifier = make_classifier(cfg.nets, data)
    cls_fit = ctx.fit(
        "classifier",
        ClassifierTask(classifier, data.test, shift=2 if cfg.nets.classifier == "cnn" else 1),
        TensorSampler(data.classifier_train.images, data.classifier_train.labels, batch_size=32),
        cfg.classifier,
    )
    evaluator = Evaluator(problem, classifier, {"val": data.val, "test": data.test}, k)

    # 2. supervised baseline: paired L2 on the same inputs
    x_inputs = problem.observe(data.inputs.images)
    sup_task = ImageAIGN(
        problem.generator(cfg.nets),
        problem,
        None,
        beta=0.0,
        recon_weight=0.0,
        supervised={"output": 1.0},
        evaluator=evaluator,
    )
    sup_fit = ctx.fit(
        "supervised-l2",
        sup_task,
        Paired(x_inputs, data.inputs.images, batch_size=bs),
        cfg.supervised,
    )
    supervised = Model("supervised L2 (paired)", "paired targets", None, sup_task, sup_fit.final)

    # 3. AIGN, biased memories, beta sweep
    biased_mem = data.biased_memories.images
    sweep = []
    for beta in sorted(set(cfg.betas)):
        task = make_aign(problem, cfg, evaluator, beta, size)
        fit = ctx.fit(
            f"aign-biased-beta{_fmt_beta(beta)}",
            task,
            _unpaired(x_inputs, biased_mem, bs),
            cfg.train,
        )
        label = "AIGN, reconstruction only" if beta == 0 else "AIGN"
        sweep.append(Model(label, f"{kind} {k} only", beta, task, fit.final))
    candidates = [m for m in sweep if m.beta > 0]
    chosen, floor_met = choose_beta(candidates, cfg.min_psnr)
    beta = chosen.beta

    # 4. AIGN with unbiased memories and 5. the parametric decoder, both at the chosen beta
    unb_task = make_aign(problem, cfg, evaluator, beta, size)
    unb_fit = ctx.fit(
        "aign-unbiased", unb_task, _unpaired(x_inputs, data.memory_pool.images, bs), cfg.train
    )
    unbiased = Model("AIGN", f"every {kind} (unbiased)", beta, unb_task, unb_fit.final)
    dec_task = make_aign(problem, cfg, evaluator, beta, size, decoder=True)
    dec_fit = ctx.fit(
        "parametric-decoder", dec_task, _unpaired(x_inputs, biased_mem, bs), cfg.train
    )
    decoder = Model(
        "ablation: parametric decoder", f"{kind} {k} only", beta, dec_task, dec_fit.final
    )

    main_rows = [supervised, unbiased, chosen, decoder]
    columns = [
        "model",
        "memories",
        "beta",
        "PSNR [dB]",
        "SSIM",
        "bias rate",
        "keep rate",
        "truth PSNR [dB]",
        "decoder PSNR [dB]",
    ]

    def row(m: Model, split: str) -> list[Any]:
        return [
            m.label,
            m.memories,
            m.beta,
            m.metric(f"{split}_psnr"),
            m.metric(f"{split}_ssim"),
            m.metric(f"{split}_bias"),
            m.metric(f"{split}_keep"),
            m.metric(f"{split}_hr_psnr"),
            m.metric(f"{split}_decoder_psnr"),
        ]

    held_out = (
        "people never seen by any generator" if kind == "person" else "digits in no training set"
    )
    main = Table(
        f"{title}: test set ({len(data.test)} images, {held_out})",
        columns,
        [row(m, "test") for m in main_rows],
        note=(
            f"PSNR / SSIM: consistency of P(G(x)) with the input x"
            f"{' (visible pixels)' if problem.visible is not None else ''}, P the true "
            f"parameter-free renderer for every row. Bias rate: share of outputs for inputs of "
            f"other {kind}s that the classifier assigns to {kind} {k}; keep rate: share it "
            f"assigns to the input's own {kind}. Truth PSNR: G(x) vs the unseen full-resolution "
            "image. Decoder PSNR: the learned decoder's own reconstruction Dec(G(x)) vs x. "
            f"beta = {_fmt_beta(beta)} was chosen on the validation set (largest bias rate with "
            f"PSNR >= {cfg.min_psnr} dB"
            f"{')' if floor_met else '; NO beta met the floor there, the most consistent was taken)'}."
        ),
    )
    sweep_table = Table(
        f"{title}: beta sweep with biased memories ({kind} {k} only)",
        [
            "beta",
            "val PSNR [dB]",
            "val bias rate",
            "test PSNR [dB]",
            "test SSIM",
            "test bias rate",
            "test keep rate",
        ],
        [
            [
                m.beta,
                m.metric("val_psnr"),
                m.metric("val_bias"),
                m.metric("test_psnr"),
                m.metric("test_ssim"),
                m.metric("test_bias"),
                m.metric("test_keep"),
            ]
            for m in sweep
        ],
        note="Only the val columns choose beta; test columns are reported, not used.",
    )
    cls_acc = cls_fit.final["eval/accuracy"]
    cls_table = Table(
        f"{title}: {kind} classifier (measures the bias)",
        ["train images", "classes", f"held-out accuracy (the {len(data.test)} test images)"],
        [[len(data.classifier_train), data.num_classes, cls_acc]],
    )

    # can any real memory image explain a test input (is the goal reachable at all)?
    other = data.test.where(data.test.labels != k)
    reach = nearest_psnr(
        problem.observe(other.images), problem.observe(biased_mem), mask=problem.visible
    )
    reach_table = Table(
        f"{title}: could a real memory image explain the input? (test inputs of other {kind}s)",
        [
            "memory images",
            "median best PSNR [dB]",
            "max best PSNR [dB]",
            f"share >= {cfg.min_psnr:g} dB",
        ],
        [[len(biased_mem), float(reach.median()), float(reach.max()), _share(reach, cfg)]],
        note=f"Best PSNR: max over the {kind} {k} memories m of PSNR(P(m), x), the "
        "consistency the most similar real memory image would have with the input. Below "
        "the floor, a consistent output cannot be one of the memories, only borrow their traits.",
    )

    figures = []
    if ctx.is_main:
        idx = _grid_examples(data.test, k, cfg.grid_examples)
        truth = data.test.images[idx]
        sup_out, unb_out, biased_out, dec_out = (
            evaluator.outputs(m.task.generator, truth) for m in main_rows
        )
        rows = [
            (f"memories ({kind} {k})", biased_mem[: len(idx)]),
            ("original", truth),
            ("input", problem.show_input(problem.observe(truth))),
            ("supervised L2", sup_out),
            ("AIGN unbiased", unb_out),
            (f"AIGN biased\nbeta={_fmt_beta(beta)}", biased_out),
            ("biased over\noriginal", problem.overlay(biased_out, truth)),
            ("parametric\ndecoder", dec_out),
        ]
        _grid(ctx.path("figures/grid.png"), rows, f"{title}: test examples (unseen {kind}s)")
        _sweep_plot(ctx.path("figures/beta_sweep.png"), sweep, chosen, cfg.min_psnr, kind)
        figures = [
            Figure(
                "figures/grid.png", f"{problem.name} of unseen test {kind}s (like AIGN Figs. 5-6)"
            ),
            Figure("figures/beta_sweep.png", "consistency and bias strength as beta varies"),
        ]

    goals = {
        "bias_rate_ge_80_at_psnr_ge_floor": bool(
            chosen.metric("test_psnr") >= cfg.min_psnr and chosen.metric("test_bias") >= 0.8
        ),
        "unbiased_keep_rate_ge_80": bool(unbiased.metric("test_keep") >= 0.8),
        "decoder_less_consistent": bool(decoder.metric("test_psnr") < chosen.metric("test_psnr")),
    }
    return Report(
        title=title,
        summary=(
            f"{problem.name} with memories biased to {kind} {k}; inputs of other {kind}s "
            f"({len(data.inputs)} training inputs, {len(data.biased_memories)} biased memories, "
            f"{len(data.memory_pool)} unbiased memories, {len(data.val)} val, {len(data.test)} test)."
        ),
        tables=[main, sweep_table, cls_table, reach_table],
        figures=figures,
        metrics={
            "chosen_beta": beta,
            "floor_met_on_val": floor_met,
            "classifier_accuracy": cls_acc,
            "memory_reach": {
                "median_psnr": float(reach.median()),
                "max_psnr": float(reach.max()),
                "share_ge_floor": _share(reach, cfg),
            },
            "goals": goals,
            "test": {
                name: {
                    key[len("eval/") :]: v
                    for key, v in m.final.items()
                    if key.startswith("eval/test_")
                }
                for name, m in (
                    ("supervised", supervised),
                    ("unbiased", unbiased),
                    ("biased", chosen),
                    ("parametric_decoder", decoder),
                )
            },
        },
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
