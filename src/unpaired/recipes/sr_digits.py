"""``sr-digits``: class-biased super-resolution of digits (AIGN Sec. 2.3, 3.3).

8x8 digits go in, 32x32 digits come out (MNIST padded to 32x32, or USPS); the renderer
is 4x average pooling. The memories show one digit class only; the inputs are the other
classes. See :mod:`unpaired.recipes._images` (and :mod:`unpaired.aign.images`) for the models, baselines, metrics and the
choice of ``beta``; docs/IMAGES.md for results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from unpaired.recipes._images import QUICK_STEPS, DigitsConfig, super_resolution
from unpaired.recipes._images_run import run_biased
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config(DigitsConfig):
    factor: int = 4  # 32x32 -> 8x8
    betas: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02)

    QUICK: ClassVar[dict] = {**QUICK_STEPS, "betas": (0.02,), "n_test": 500, "n_val": 500}


def run(cfg: Config, ctx: RunContext) -> Report:
    return run_biased(
        cfg,
        ctx,
        cfg.split(ctx.data_root(), ctx.generator("images/digits-split")),
        super_resolution(cfg.factor),
        title=f"sr-digits: class-biased {cfg.factor}x super-resolution ({cfg.dataset})",
    )
