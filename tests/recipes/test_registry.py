from __future__ import annotations

import dataclasses

import pytest

from unpaired.config import apply_overrides
from unpaired.recipes import RECIPES, get
from unpaired.recipes.runner import resolve_config


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_has_a_config_with_valid_quick_overrides_and_a_run(name: str) -> None:
    spec = get(name)
    module = spec.load()
    assert callable(module.run), name
    cfg = module.Config()
    assert dataclasses.is_dataclass(cfg) and type(cfg).__dataclass_params__.frozen, name
    quick = getattr(module.Config, "QUICK", None)
    assert isinstance(quick, dict) and quick, f"{name}: --quick must change something"
    assert resolve_config(spec, quick=True) == apply_overrides(cfg, quick)
    assert module.__doc__ and len(spec.summary) < 100


def test_demo_recipes_are_the_embedded_ones() -> None:
    assert {n for n, s in RECIPES.items() if s.embedded} == {
        "align-toy",
        "align-gmm",
        "gan-dirac",
        "metapose-synthetic",
        "pose-synthetic",
        "sfm-scenes",
        "rift-shapes",
        "cyclegan-maps",
    }
