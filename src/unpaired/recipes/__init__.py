"""Named experiments. Each recipe module defines a frozen ``Config`` dataclass (with a
``QUICK`` dict of overrides for ``--quick``) and ``run(cfg, ctx) -> Report``; it builds
its data, the method and its baselines, trains them with the engine and returns tables.

The registry below is the one list of recipes; modules are imported only when used.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from types import ModuleType

from unpaired.errors import ConfigError


@dataclass(frozen=True)
class RecipeSpec:
    name: str
    module: str
    summary: str
    embedded: bool  # runs on embedded (procedural) data: part of `unpaired demo`

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


_SPECS = (
    RecipeSpec(
        "align-toy",
        "unpaired.recipes.align_toy",
        "align a 2D point cloud to a rotated, scaled, shifted copy with an adversarial critic",
        embedded=True,
    ),
)

RECIPES: dict[str, RecipeSpec] = {s.name: s for s in _SPECS}


def get(name: str) -> RecipeSpec:
    """The recipe called ``name``, or a :class:`ConfigError` suggesting the closest one."""
    try:
        return RECIPES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(RECIPES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"unknown recipe '{name}'{hint} (run `unpaired recipes` to list them)"
        ) from None
