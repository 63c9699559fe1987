"""``sr-faces``: identity-biased super-resolution of Olivetti faces (AIGN Sec. 2.3, 3.3;
Figs. 5, 7).

16x16 faces go in, 64x64 faces come out; the renderer is 4x average pooling. The
memories show one person only (the paper's "Tom Cruise"); the inputs are other people,
and the test people are never seen by any generator. See :mod:`unpaired.recipes._images`
for the models, baselines, metrics and the choice of ``beta``; docs/IMAGES.md for results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from unpaired.recipes._images import QUICK_FACES, FacesConfig, super_resolution
from unpaired.recipes._images_run import run_biased
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config(FacesConfig):
    factor: int = 4  # 64x64 -> 16x16

    QUICK: ClassVar[dict] = QUICK_FACES


def run(cfg: Config, ctx: RunContext) -> Report:
    return run_biased(
        cfg,
        ctx,
        cfg.split(ctx.data_root(), ctx.generator("images/faces-split")),
        super_resolution(cfg.factor),
        title=f"sr-faces: identity-biased {cfg.factor}x super-resolution",
    )
