"""``inpaint-digits``: class-biased inpainting of digits (AIGN Sec. 2.4, 3.3).

The middle horizontal band of each 32x32 digit is hidden (``digit_band``); the renderer
is the mask, ``m ⊙ G(x)``. The memories show one digit class only; the inputs are the
other classes. See :mod:`unpaired.recipes._images` (and :mod:`unpaired.aign.images`) for the models, baselines, metrics
and the choice of ``beta``; docs/IMAGES.md for results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from unpaired.engine import TrainConfig
from unpaired.recipes._images import (
    QUICK_STEPS,
    DigitsConfig,
    aign_train,
    inpainting,
    supervised_optim,
)
from unpaired.recipes._images_run import run_biased
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config(DigitsConfig):
    box: str = "digit_band"  # a name of unpaired.renderers.mask.BOXES
    betas: tuple[float, ...] = (0.0, 0.02, 0.04)
    # the U-Net costs ~2x the super-resolution generator per step: fewer, shorter fits
    train: TrainConfig = field(default_factory=lambda: aign_train(steps=600, lr=5e-4))
    supervised: TrainConfig = field(default_factory=lambda: supervised_optim(steps=600))

    QUICK: ClassVar[dict] = {**QUICK_STEPS, "betas": (0.04,), "n_test": 500, "n_val": 500}


def run(cfg: Config, ctx: RunContext) -> Report:
    data = cfg.split(ctx.data_root(), ctx.generator("images/digits-split"))
    return run_biased(
        cfg,
        ctx,
        data,
        inpainting(cfg.box, data.test.images.shape[-1]),
        title=f"inpaint-digits: class-biased inpainting ({cfg.box}, {cfg.dataset})",
    )
