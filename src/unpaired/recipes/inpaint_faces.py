"""``inpaint-faces``: identity-biased inpainting of Olivetti faces (AIGN Sec. 2.4, 3.3;
Fig. 6).

A fixed box of each 64x64 face is hidden; the renderer is the mask, ``m ⊙ G(x)``. The
memories show one person only; the inputs are other people, and the test people are
never seen by any generator. See :mod:`unpaired.recipes._images` (and :mod:`unpaired.aign.images`) for the models,
baselines, metrics and the choice of ``beta``; docs/IMAGES.md for results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from unpaired.recipes._images import QUICK_FACES, FacesConfig, inpainting
from unpaired.recipes._images_run import run_biased
from unpaired.recipes.base import RunContext
from unpaired.report import Report


@dataclass(frozen=True)
class Config(FacesConfig):
    box: str = "olivetti_mouth"  # a name of unpaired.renderers.mask.BOXES

    QUICK: ClassVar[dict] = QUICK_FACES


def run(cfg: Config, ctx: RunContext) -> Report:
    data = cfg.split(ctx.data_root(), ctx.generator("images/faces-split"))
    return run_biased(
        cfg,
        ctx,
        data,
        inpainting(cfg.box, data.test.images.shape[-1]),
        title=f"inpaint-faces: identity-biased inpainting ({cfg.box})",
    )
