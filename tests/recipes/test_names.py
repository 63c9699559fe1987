"""The one name -> distance / prior / transform table (``recipes._names``)."""

from __future__ import annotations

import math
import typing

import pytest
import torch

from unpaired.distances import (
    MMD,
    AdversarialDistance,
    Distance,
    DualAdversarialDistance,
    FlowLRMF,
    Sinkhorn,
    mlp_critic,
)
from unpaired.errors import ConfigError
from unpaired.recipes import _names as names
from unpaired.recipes.runner import resolve_config


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_literal_types_match_the_tables() -> None:
    assert set(typing.get_args(names.DistanceName)) == set(names.DISTANCES)
    assert set(names.ALIGNMENT_DISTANCES) <= set(names.DISTANCES)
    assert set(typing.get_args(names.SfMPriorName)) == set(names.SFM_PRIORS)
    for family in (names.POSE_PRIORS, names.IMAGE_PRIORS, names.SFM_PRIORS):
        assert set(family.values()) <= set(names.DISTANCES)


@pytest.mark.parametrize("name", list(names.DISTANCES))
def test_every_name_builds_a_distance_with_a_finite_value(name: str) -> None:
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, 3, generator=gen), torch.randn(32, 3, generator=gen) + 1
    d = names.make_distance(name, critic=lambda: mlp_critic(3, hidden=8), features=3)
    spec = names.DISTANCES[name]
    assert isinstance(d, spec.cls) and isinstance(d, Distance)
    assert d.learned == (spec.critic or spec.features)
    kw = {}
    if isinstance(d, FlowLRMF):
        d.private_loglik.fill_(0.0)  # c(A, B): fit by the engine in real use
        kw = {"logdet": torch.zeros(32)}
    assert math.isfinite(float(d.generator_loss(a, b, **kw).detach()))


def test_missing_critic_or_features_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a critic"):
        names.make_distance("adversarial")
    with pytest.raises(ValueError, match="needs the feature count"):
        names.make_distance("flow-lrmf")


def test_bad_names_list_the_choices() -> None:
    with pytest.raises(ConfigError, match="unknown distance 'mmd2'; choose one of mean, coral"):
        names.make_distance("mmd2")
    with pytest.raises(ConfigError, match="unknown distance 'hinge'; choose one of mean"):
        names.alignment_distance("hinge", 2)  # not an alignment name (no Lipschitz control)
    with pytest.raises(ConfigError, match="unknown transform 'rigid'; choose one of shift"):
        names.make_transform("rigid", 2)
    with pytest.raises(ConfigError, match="unknown pose prior 'gan'; choose one of logistic"):
        names.family_distance(names.POSE_PRIORS, "gan", kind="pose prior")
    with pytest.raises(ConfigError, match="flow-lrmf needs an invertible transform"):
        names.check_pairing("flow-lrmf", "mlp")


def test_alignment_defaults_are_those_the_tables_were_made_with() -> None:
    """Numbers must not move: the alignment defaults, written out by hand."""
    mmd = names.alignment_distance("mmd", 4)
    assert isinstance(mmd, MMD) and mmd.kernel == "multiscale"
    sk = names.alignment_distance("sinkhorn", 9)
    assert isinstance(sk, Sinkhorn) and (sk.blur, sk.scaling) == (0.05 * 3, 0.8)
    assert names.alignment_distance("sinkhorn", 9, blur=0.2).blur == 0.2
    assert names.alignment_distance("sliced", 2).projections == 128
    assert names.alignment_distance("gaussian-lrmf", 2).eps == 1e-4
    dual = names.alignment_distance("dual-rbf", 2, lam=0.3)
    assert isinstance(dual, DualAdversarialDistance) and (dual.kernel, dual.lam) == ("rbf", 0.3)
    flow = names.alignment_distance("flow-lrmf", 3, critic_hidden=16)
    assert isinstance(flow, FlowLRMF) and (flow.flow, flow.transforms, flow.hidden) == (
        "maf",
        3,
        (16, 16),
    )
    gp = names.alignment_distance("wgan-gp", 2)
    assert isinstance(gp, AdversarialDistance) and gp.gradient_penalty == 10.0


def test_a_critic_is_drawn_from_the_global_rng_exactly_as_by_hand() -> None:
    torch.manual_seed(3)
    table = names.alignment_distance("adversarial", 5, critic_hidden=12)
    torch.manual_seed(3)
    by_hand = AdversarialDistance(mlp_critic(5, hidden=12), loss="logistic")
    assert _same(table, by_hand)
    torch.manual_seed(4)
    names.alignment_distance("mmd", 5)  # builds no critic: the RNG is untouched
    after = torch.rand(3)
    torch.manual_seed(4)
    assert torch.equal(after, torch.rand(3))


def test_family_options_go_on_top_of_the_names() -> None:
    d = names.family_distance(
        names.POSE_PRIORS, "dual", options={"dual-rbf": {"lam": 0.25}, "mmd": {"kernel": "imq"}}
    )
    assert isinstance(d, DualAdversarialDistance) and (d.kernel, d.lam) == ("rbf", 0.25)
    img = names.family_distance(
        names.IMAGE_PRIORS,
        "hinge",
        critic=lambda: mlp_critic(2),
        options={"hinge": {"r1": 2.0}},
    )
    assert isinstance(img, AdversarialDistance) and (img.loss, img.r1) == ("hinge", 2.0)


def test_transforms_start_at_the_identity() -> None:
    x = torch.randn(7, 3)
    for name in names.TRANSFORMS:
        assert torch.allclose(names.make_transform(name, 3)(x), x, atol=1e-6), name


@pytest.mark.parametrize(
    ("recipe", "key", "value", "match"),
    [
        ("sfm-scenes", "motion_prior", "FlowLRMF", "expected one of 'mean'"),
        ("pose-synthetic", "extra_priors", "mmd,gan", "expected one of 'mmd', 'dual', got 'gan'"),
        ("align-toy", "methods", "dual", "unknown align-toy method"),
        ("align-digits", "methods", "mean,hinge", "unknown align-digits method"),
    ],
)
def test_a_bad_name_fails_at_set_time(recipe: str, key: str, value: str, match: str) -> None:
    from unpaired.recipes import get

    with pytest.raises(ConfigError, match=match):
        resolve_config(get(recipe), overrides={key: value})
