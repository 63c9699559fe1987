"""``align-digits``' pieces: the feature spaces, the alignment of one (space, T family),
the references (target oracle) and the label-free referee distance.

Private to :mod:`unpaired.recipes.align_digits`, whose docstring describes the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from unpaired.alignment import ScoredAlignTask, Standardizer, fit_private_densities
from unpaired.data.augment import random_roll
from unpaired.data.digits import AlignmentSplits
from unpaired.distances import FlowLRMF, mmd
from unpaired.engine import TensorSampler, TrainConfig, Unpaired
from unpaired.evaluation import ClassifierTask, accuracy, predict
from unpaired.models.autoencoder import Autoencoder
from unpaired.models.images import ImageClassifier
from unpaired.models.transforms import Affine, ConvResidual, ImageWarp, Transform
from unpaired.recipes._names import IMAGE_TRANSFORMS, _unknown, alignment_distance
from unpaired.recipes.base import RunContext


def make_image_transform(
    name: str,
    size: int,
    *,
    center: torch.Tensor,
    scale: float,
    control: int = 0,
    logdet_floor: float = 1e-3,
) -> Transform:
    """The T family ``name`` of :data:`~unpaired.recipes._names.IMAGE_TRANSFORMS` for
    ``size`` x ``size`` grey images flattened and standardized by ``center`` (D,),
    ``scale``, at the identity: the free (D, D) affine map, the spatial warp (thin-plate
    grid ``control``, 0: affine warp) with its tone curve, or the residual convolution."""
    if name not in IMAGE_TRANSFORMS:
        raise _unknown("image transform", name, IMAGE_TRANSFORMS)
    if name == "affine":
        return Affine(size * size)
    if name == "warp":
        return ImageWarp(
            size, center=center, scale=scale, control=control, logdet_floor=logdet_floor
        )
    return ConvResidual(size, center=center, scale=scale)


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
    std: Standardizer


def features(
    name: str,
    splits: AlignmentSplits,
    ae: Autoencoder | None,
    g: torch.Generator,
    *,
    size: int,
    pixel_noise: float,
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
        noisy = [f + pixel_noise * torch.randn(f.shape, generator=g) for f in feats[:4]]
        feats = noisy + feats[4:]
        back = lambda x: x.clamp(0, 1).reshape(-1, 1, size, size)  # noqa: E731
    std = Standardizer.fit(feats[0], feats[1])
    z = [std(f) for f in feats]
    return Space(name, *z, to_images=lambda t: back(std.inverse(t)), std=std)


def referee(images: torch.Tensor, target: torch.Tensor) -> float:
    """The label-free referee of every row: multiscale-RBF MMD^2 between moved hold-out
    images and MNIST-val images, both flattened raw pixels in [0, 1] (one unit for all
    rows, unlike each method's own distance)."""
    return float(mmd(images.flatten(1), target.flatten(1), kernel="multiscale"))


@dataclass(frozen=True)
class AlignSettings:
    """What :func:`align_space` needs of the recipe's config."""

    methods: tuple[str, ...]
    train: TrainConfig
    density: TrainConfig
    batch_size: int
    eval_points: int
    critic_hidden: int
    identity_weight: float
    size: int
    control: int = 0
    logdet_floor: float = 1e-3


def align_space(
    st: AlignSettings,
    ctx: RunContext,
    space: Space,
    family: str,
    classifier: ImageClassifier,
    splits: AlignmentSplits,
    cache: dict[str, tuple[float, dict[str, torch.Tensor]]],
    *,
    first: bool = True,
) -> list[dict[str, Any]]:
    """One row per method of ``st.methods`` with a T of ``family`` (``"affine"``,
    ``"warp"``, ``"conv"``) in ``space``: T trained, scored on USPS test; plus the
    no-alignment row first when ``first`` (the space's first family). Flow LRMF is skipped for a
    T without a log-determinant (``conv``). ``cache``: flow LRMF's private densities
    per space (fit once, shared by the T families)."""
    dim = space.a.shape[1]

    def make_t() -> Transform:
        if space.name == "embedding":
            return Affine(dim)
        c, s = space.std.center, space.std.scale
        return make_image_transform(
            family, st.size, center=c, scale=s, control=st.control, logdet_floor=st.logdet_floor
        )

    def score_on(labels: torch.Tensor) -> Callable[[torch.Tensor], float]:
        return lambda feats: accuracy(classifier, space.to_images(feats), labels)

    holdout_score = score_on(splits.usps_holdout.labels)
    test_score = score_on(splits.usps_test.labels)
    target = splits.mnist_val.images
    data = Unpaired(
        {
            "a": TensorSampler(space.a, batch_size=st.batch_size),
            "b": TensorSampler(space.b, batch_size=st.batch_size),
        }
    )
    row = {"space": space.name, "T": family, "distance": None, "seconds": 0.0}
    rows = []
    if first:
        rows.append(
            row
            | {
                "method": "no alignment",
                "T": "none",
                "test": test_score(space.test),
                "holdout": holdout_score(space.holdout),
                "referee": referee(space.to_images(space.holdout), target),
                "transform": make_t(),
            }
        )
    prefix = space.name if family == "affine" else f"{space.name}-{family}"
    for method in st.methods:
        t = make_t()
        if method == "flow-lrmf" and not t.invertible:
            continue
        k = min(st.eval_points, 500) if method.startswith("dual") else st.eval_points
        eval_a, eval_b = space.holdout[:k], space.val_b[:k]
        dist = alignment_distance(method, dim, critic_hidden=st.critic_hidden)
        seconds = 0.0
        if isinstance(dist, FlowLRMF):
            seconds += _private_densities(st, ctx, space, dist, eval_a, eval_b, cache)
        task = ScoredAlignTask(
            t,
            dist,
            holdout=space.holdout,
            score=holdout_score,
            eval_a=eval_a,
            eval_b=eval_b,
            identity_weight=st.identity_weight,
        )
        fit = ctx.fit(f"{prefix}/{method}", task, data, st.train)
        moved_holdout = predict(task.transform, space.holdout, chunk=len(space.holdout))
        rows.append(
            row
            | {
                "method": method,
                "test": test_score(predict(task.transform, space.test, chunk=len(space.test))),
                "holdout": fit.final.get("eval/holdout_accuracy"),
                "distance": fit.final.get("eval/distance"),
                "referee": referee(space.to_images(moved_holdout), target),
                "seconds": seconds + fit.seconds,
                "transform": task.transform,
                "warp": warp_summary(task.transform, st.size),
            }
        )
    return rows


def warp_summary(t: Transform, size: int) -> dict[str, float] | None:
    """Where a learned :class:`ImageWarp` went (None for other T): the affine part's
    ``scale`` = sqrt|det A| (< 1: the digit shrinks), its ``anisotropy`` (ratio of A's
    singular values), the ``shift`` in pixels and the tone curve's slope range."""
    if not isinstance(t, ImageWarp):
        return None
    with torch.no_grad():
        a = torch.eye(2) + t.theta[:, :2]
        sv = torch.linalg.svdvals(a)
        slopes = t.curve.log_slopes.exp() if t.curve is not None else torch.ones(1)
        return {
            "scale": float(torch.linalg.det(a).abs().sqrt()),
            "anisotropy": float(sv[0] / sv[1]),
            "shift_px": float(t.theta[:, 2].norm() * (size - 1) / 2),
            "min_slope": float(slopes.min()),
            "max_slope": float(slopes.max()),
        }


def _private_densities(
    st: AlignSettings,
    ctx: RunContext,
    space: Space,
    dist: FlowLRMF,
    eval_a: torch.Tensor,
    eval_b: torch.Tensor,
    cache: dict[str, tuple[float, dict[str, torch.Tensor]]],
) -> float:
    """Flow LRMF's constant c(A, B) and initial shared density (= the private density of
    B): fit once per space as ``<space>/density-*``, then reused from ``cache`` by every
    T family. Returns the seconds spent fitting (0 when reused)."""
    if space.name in cache:
        c, shared = cache[space.name]
        dist.private_loglik.fill_(c)
        dist.shared.load_state_dict(shared)
        return 0.0
    prefix = f"{space.name}/"
    c = fit_private_densities(
        dist,
        space.a,
        space.b,
        session=ctx,
        config=st.density,
        batch_size=st.batch_size,
        eval_a=eval_a,
        eval_b=eval_b,
        prefix=prefix,
        monitor=True,
    )
    cache[space.name] = (c, {k: v.clone() for k, v in dist.shared.state_dict().items()})
    return sum(ctx.fits[f"{prefix}density-{s}"].seconds for s in ("source", "target"))


def target_oracle(
    ctx: RunContext,
    splits: AlignmentSplits,
    *,
    width: int,
    batch: int,
    config: TrainConfig,
) -> float:
    """The target-oracle reference: the same classifier trained on USPS-fit *labels*
    (validated on the USPS hold-out), scored on USPS test. Its initialisation draws from
    a forked RNG, so adding it leaves every other row of the run unchanged."""
    fit, held = splits.usps_fit, splits.usps_holdout
    with torch.random.fork_rng():
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=ctx.generator("oracle"))))
        net = ImageClassifier(1, num_classes=10, width=width, stages=3)
    task = ClassifierTask(net, held.images, held.labels, augment=lambda x: random_roll(x, 1))
    ctx.fit(
        "oracle-classifier", task, TensorSampler(fit.images, fit.labels, batch_size=batch), config
    )
    net.eval()
    return accuracy(net, splits.usps_test.images, splits.usps_test.labels)
