"""The one name -> distance / prior / transform table of the recipes and ``unpaired align``.

Names are for the edge (DESIGN.md, convention 5): library code takes objects; recipes and
the CLI turn the strings of configs and options into objects here, and nowhere else.

* :data:`DISTANCES`: every distance a config can name. A row says which class it is, the
  options that *define* the name (``wgan-gp`` is the Wasserstein critic loss with a
  gradient penalty of 10), and what it is built from: the family's critic network
  (``critic=True``: the min-max distances) or the feature count D (``features=True``:
  flow LRMF's densities). :func:`make_distance` builds one row; ``options`` adds the
  family's defaults (keyword arguments of the class) on top.
* Families choose which names they accept and spell them as their result tables do:
  :data:`ALIGNMENT_DISTANCES` (``unpaired align`` and the ``align-*`` recipes, built by
  :func:`alignment_distance` with the alignment defaults), :data:`POSE_PRIORS`,
  :data:`IMAGE_PRIORS` and :data:`SFM_PRIORS` (config spelling -> table name). The
  families' ``make_prior`` keep their critics and feature transforms and get the
  distance from here. Each family's names are a ``Literal`` type on its config field,
  so a bad name is refused by ``--set`` with the list of choices.
* :data:`TRANSFORMS`: the families of ``T`` for alignment (:func:`make_transform`).

The same name can mean different defaults in two families, on purpose: ``mmd`` is the
multiscale RBF kernel for alignment (one median-heuristic RBF is too smooth to resolve
clusters, see ``align-toy``'s ``mmd-median`` row), the median-heuristic RBF for the pose,
SfM and image priors.

Example:
    >>> d = alignment_distance("sinkhorn", 4)
    >>> type(d).__name__, d.blur, d.scaling
    ('Sinkhorn', 0.1, 0.8)
    >>> make_distance("wgan-gp", critic=lambda: mlp_critic(2)).gradient_penalty
    10.0
    >>> make_distance("nope")
    Traceback (most recent call last):
    ...
    unpaired.errors.ConfigError: unknown distance 'nope'; choose one of mean, coral, ...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from torch import nn

from unpaired.distances import (
    EMD,
    MMD,
    AdversarialDistance,
    Coral,
    Distance,
    DualAdversarialDistance,
    Energy,
    FlowLRMF,
    GaussianLRMF,
    MeanDistance,
    Sinkhorn,
    SlicedWasserstein,
    mlp_critic,
)
from unpaired.errors import ConfigError
from unpaired.models.transforms import Affine, FlowTransform, MLPTransform, Shift, Transform

# --------------------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistanceSpec:
    """One named distance: ``cls(critic(), **options)``, ``cls(D, **options)`` or
    ``cls(**options)``.

    ``options``: the keyword arguments that define the name (a family's defaults go on
    top, :func:`make_distance`); ``critic``: built around the family's critic network
    (a min-max distance, trained by the engine's critic player); ``features``: needs the
    feature count D (flow LRMF's densities).
    """

    cls: type[Distance]
    summary: str
    options: Mapping[str, Any] = field(default_factory=dict)
    critic: bool = False
    features: bool = False


_ClosedForm = Literal["mean", "coral", "mmd", "energy", "sinkhorn", "emd", "sliced"]
_Dual = Literal["dual-linear", "dual-rbf", "gaussian-lrmf"]
#: Every name that compares two sample sets as ``d(a, b)`` (all but flow LRMF).
PriorDistanceName = Literal[
    _ClosedForm, "adversarial", "hinge", "wasserstein", "wgan-gp", "lsgan", _Dual
]
DistanceName = Literal[PriorDistanceName, "flow-lrmf"]

#: Every distance a config or ``--distance`` can name, in this order.
DISTANCES: dict[str, DistanceSpec] = {
    "mean": DistanceSpec(MeanDistance, "squared distance of the means"),
    "coral": DistanceSpec(Coral, "CORAL: distance of the covariances"),
    "mmd": DistanceSpec(MMD, "maximum mean discrepancy (RBF kernel)"),
    "energy": DistanceSpec(Energy, "energy distance"),
    "sinkhorn": DistanceSpec(Sinkhorn, "Sinkhorn divergence (entropic OT, log-domain)"),
    "emd": DistanceSpec(EMD, "exact optimal transport (POT)"),
    "sliced": DistanceSpec(SlicedWasserstein, "sliced Wasserstein"),
    "adversarial": DistanceSpec(
        AdversarialDistance, "logistic critic (AIGN Eq. 1)", {"loss": "logistic"}, critic=True
    ),
    "hinge": DistanceSpec(AdversarialDistance, "hinge critic", {"loss": "hinge"}, critic=True),
    "wasserstein": DistanceSpec(
        AdversarialDistance, "Wasserstein critic", {"loss": "wasserstein"}, critic=True
    ),
    "wgan-gp": DistanceSpec(
        AdversarialDistance,
        "Wasserstein critic with a gradient penalty of 10 (WGAN-GP)",
        {"loss": "wasserstein", "gradient_penalty": 10.0},
        critic=True,
    ),
    "lsgan": DistanceSpec(
        AdversarialDistance,
        "least-squares critic (LSGAN; CycleGAN's default)",
        {"loss": "least-squares"},
        critic=True,
    ),
    "dual-linear": DistanceSpec(
        DualAdversarialDistance, "dual adversarial distance, linear kernel", {"kernel": "linear"}
    ),
    "dual-rbf": DistanceSpec(
        DualAdversarialDistance, "dual adversarial distance, RBF kernel", {"kernel": "rbf"}
    ),
    "gaussian-lrmf": DistanceSpec(GaussianLRMF, "LRMF with Gaussian densities (closed form)"),
    "flow-lrmf": DistanceSpec(
        FlowLRMF, "LRMF with normalizing-flow densities (needs log|det dT/dx|)", features=True
    ),
}


def _unknown(kind: str, name: str, choices: Mapping[str, Any] | tuple[str, ...]) -> ConfigError:
    return ConfigError(f"unknown {kind} '{name}'; choose one of {', '.join(choices)}")


def make_distance(
    name: str,
    *,
    critic: Callable[[], nn.Module] | None = None,
    features: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Distance:
    """The distance called ``name`` (a key of :data:`DISTANCES`).

    ``critic``: builds the family's critic network (needed by the min-max names);
    ``features``: D (needed by ``flow-lrmf``); ``options``: the family's keyword
    arguments for the class, on top of those that define the name.
    """
    spec = DISTANCES.get(name)
    if spec is None:
        raise _unknown("distance", name, DISTANCES)
    kwargs = {**spec.options, **(options or {})}
    if spec.critic:
        if critic is None:
            raise ValueError(f"distance '{name}' needs a critic network (critic=...)")
        return spec.cls(critic(), **kwargs)  # type: ignore[call-arg]
    if spec.features:
        if features is None:
            raise ValueError(f"distance '{name}' needs the feature count (features=...)")
        return spec.cls(features, **kwargs)  # type: ignore[call-arg]
    return spec.cls(**kwargs)


# --------------------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------------------

#: ``unpaired align --distance`` and the alignment recipes (every name but the critic
#: losses without a Lipschitz control, which diverge on unbounded sets: hinge, wasserstein).
AlignmentDistanceName = Literal[_ClosedForm, "adversarial", "wgan-gp", _Dual, "flow-lrmf"]
ALIGNMENT_DISTANCES: tuple[str, ...] = get_args(AlignmentDistanceName)
#: Distances whose value is a log-likelihood ratio (nats): ~0 means aligned.
LRMF_DISTANCES: tuple[str, ...] = ("gaussian-lrmf", "flow-lrmf")


def alignment_distance(
    name: str,
    dim: int,
    *,
    critic_hidden: int = 64,
    blur: float | None = None,
    lam: float = 1.0,
) -> Distance:
    """A distance of :data:`ALIGNMENT_DISTANCES` for D = ``dim`` features, alignment defaults.

    Meant for data standardized to unit variance per feature (as
    :func:`unpaired.alignment.align` does): Sinkhorn's ``blur`` defaults to
    ``0.05 * sqrt(D)`` (5% of the RMS spread), MMD uses the multiscale RBF kernel
    (bandwidths 0.25 to 4 times the median heuristic), the RBF dual the median-heuristic
    bandwidth (Sinkhorn: geomloss' solver at ``scaling=0.8``), the adversarial critics are 2-hidden-layer MLPs of width
    ``critic_hidden``, ``lam`` is the dual's L2 weight, flow LRMF uses a 3-step MAF
    (hidden width ``critic_hidden``) as shared density.
    """
    if name not in ALIGNMENT_DISTANCES:
        raise _unknown("distance", name, ALIGNMENT_DISTANCES)
    defaults: dict[str, dict[str, Any]] = {
        "mmd": {"kernel": "multiscale"},
        "sinkhorn": {"blur": blur or 0.05 * math.sqrt(dim), "scaling": 0.8, "solver": "geomloss"},
        "sliced": {"projections": 128},
        "dual-linear": {"lam": lam},
        "dual-rbf": {"lam": lam},
        "gaussian-lrmf": {"eps": 1e-4},
        "flow-lrmf": {"flow": "maf", "transforms": 3, "hidden": (critic_hidden, critic_hidden)},
    }
    return make_distance(
        name,
        critic=lambda: mlp_critic(dim, hidden=critic_hidden),
        features=dim,
        options=defaults.get(name),
    )


#: The Sup4 pose prior (``recipes._pose``): config spelling -> table name.
POSE_PRIORS: dict[str, str] = {"logistic": "adversarial", "mmd": "mmd", "dual": "dual-rbf"}
#: The image priors (``recipes._images``, ``nets.prior``): config spelling -> table name.
IMAGE_PRIORS: dict[str, str] = {
    "logistic": "adversarial",
    "hinge": "hinge",
    "wasserstein": "wasserstein",
    "mmd": "mmd",
}

#: The SfM depth and motion priors (``sfm-*``' ``depth_prior``/``motion_prior``): every table
#: name that compares sample sets as ``d(a, b)`` (not flow LRMF: it needs T's log-determinant),
#: and, as aliases, the class names the recipe accepted before this table (their defaults).
_ClassNames = Literal["Coral", "DualAdversarialDistance", "EMD", "Energy", "GaussianLRMF"]
SfMPriorName = Literal[
    PriorDistanceName, _ClassNames, "MMD", "MeanDistance", "Sinkhorn", "SlicedWasserstein"
]
SequenceFormatName = Literal["tum", "kitti", "vkitti"]  # sfm-sequence's data.format
SFM_PRIORS: dict[str, str] = {
    **{n: n for n, spec in DISTANCES.items() if not spec.features},
    "Coral": "coral",
    "DualAdversarialDistance": "dual-linear",
    "EMD": "emd",
    "Energy": "energy",
    "GaussianLRMF": "gaussian-lrmf",
    "MMD": "mmd",
    "MeanDistance": "mean",
    "Sinkhorn": "sinkhorn",
    "SlicedWasserstein": "sliced",
}


def family_distance(
    family: Mapping[str, str],
    name: str,
    *,
    kind: str = "prior",
    critic: Callable[[], nn.Module] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Distance:
    """The distance a family calls ``name`` (``family``: config spelling -> table name).

    ``options``: the family's defaults, by table name (e.g. ``{"dual-rbf": {"lam": 0.1}}``).
    """
    table_name = family.get(name)
    if table_name is None:
        raise _unknown(kind, name, tuple(family))
    return make_distance(table_name, critic=critic, options=(options or {}).get(table_name))


# --------------------------------------------------------------------------------------
# transforms
# --------------------------------------------------------------------------------------

TransformName = Literal["shift", "affine", "mlp", "flow"]
TRANSFORMS: tuple[str, ...] = get_args(TransformName)
ImageTransformName = Literal["affine", "warp", "conv"]  # T of flattened images (align-digits)
IMAGE_TRANSFORMS: tuple[str, ...] = get_args(ImageTransformName)


def make_transform(name: str, dim: int, *, hidden: int = 64, flow_transforms: int = 3) -> Transform:
    """The transformation family ``name`` for D = ``dim`` features, at the identity."""
    if name not in TRANSFORMS:
        raise _unknown("transform", name, TRANSFORMS)
    if name in ("shift", "affine"):
        return Shift(dim) if name == "shift" else Affine(dim)
    if name == "mlp":
        return MLPTransform(dim, hidden=hidden)
    return FlowTransform(dim, transforms=flow_transforms, hidden=(hidden, hidden))


def check_pairing(distance: str, transform: str) -> None:
    """Raise :class:`ConfigError` for an unknown name or a distance/transform pair that
    cannot work (flow LRMF needs an invertible T)."""
    if distance not in ALIGNMENT_DISTANCES:
        raise _unknown("distance", distance, ALIGNMENT_DISTANCES)
    if transform not in TRANSFORMS:
        raise _unknown("transform", transform, TRANSFORMS)
    if distance == "flow-lrmf" and transform == "mlp":
        raise ConfigError(
            "--distance flow-lrmf needs an invertible transform with a log-determinant: "
            "use --transform flow (or affine/shift); mlp is not invertible"
        )
