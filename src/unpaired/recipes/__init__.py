"""Named experiments. Each recipe module defines a frozen ``Config`` dataclass (with a
``QUICK`` dict of overrides for ``--quick``) and ``run(cfg, ctx) -> Report``; it builds
its data, the method and its baselines, trains them with the engine and returns tables.
A recipe may also define ``check(cfg)``: the runner calls it before writing anything (a
user's folders are checked there, so bad input leaves no run directory behind).

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
    RecipeSpec(
        "align-gmm",
        "unpaired.recipes.align_gmm",
        "LRMF on two Gaussian mixtures: vanishing gradients as the means move apart",
        embedded=True,
    ),
    RecipeSpec(
        "gan-dirac",
        "unpaired.recipes.gan_dirac",
        "min-max toy games: xy and the Dirac-GAN, regularizers' measured vs analytic rates",
        embedded=True,
    ),
    RecipeSpec(
        "gan-augment",
        "unpaired.recipes.gan_augment",
        "MNIST DCGAN with critic-side rot90 augmentation: leak rate vs p and its threshold",
        embedded=False,
    ),
    RecipeSpec(
        "align-digits",
        "unpaired.recipes.align_digits",
        "USPS -> MNIST alignment in embedding and pixel space with every distance",
        embedded=False,
    ),
    RecipeSpec(
        "pose-synthetic",
        "unpaired.recipes.pose_synthetic",
        "3D pose lifting (AIGN vs 3D interpreter vs Forward2Dto3D) on procedural skeletons",
        embedded=True,
    ),
    RecipeSpec(
        "pose-cmu",
        "unpaired.recipes.pose_cmu",
        "3D pose lifting on CMU motion capture, held-out subject (AIGN Tables 1-2)",
        embedded=False,
    ),
    RecipeSpec(
        "metapose-synthetic",
        "unpaired.recipes.metapose_synthetic",
        "multi-view 3D pose without 3D supervision (MetaPose vs bundle adjustment), procedural skeletons",
        embedded=True,
    ),
    RecipeSpec(
        "metapose-cmu",
        "unpaired.recipes.metapose_cmu",
        "multi-view 3D pose without 3D supervision (MetaPose vs bundle adjustment), CMU mocap",
        embedded=False,
    ),
    RecipeSpec(
        "sfm-scenes",
        "unpaired.recipes.sfm_scenes",
        "depth and egomotion from frame pairs of procedural driving scenes (AIGN Fig. 3, Table 3)",
        embedded=True,
    ),
    RecipeSpec(
        "sfm-sequence",
        "unpaired.recipes.sfm_sequence",
        "your TUM / KITTI / VKITTI sequence (--set data.sequence=DIR): pretrain, finetune, errors",
        embedded=False,
    ),
    RecipeSpec(
        "cyclegan-digits",
        "unpaired.recipes.cyclegan_digits",
        "MNIST <-> USPS: CycleGAN with and without self-defense, MUNIT + cycle; class kept, SN",
        embedded=False,
    ),
    RecipeSpec(
        "cyclegan",
        "unpaired.recipes.cyclegan",
        "your CycleGAN-layout folder (--set data.root=DIR): translated test PNGs, SN, cycle error",
        embedded=False,
    ),
    RecipeSpec(
        "rift-shapes",
        "unpaired.recipes.rift_shapes",
        "guided many-to-many translation (RIFT vs StarGAN v2, RAND) on procedural 3D Shapes",
        embedded=True,
    ),
    RecipeSpec(
        "sr-faces",
        "unpaired.recipes.sr_faces",
        "identity-biased super-resolution of Olivetti faces (AIGN Fig. 5, 7)",
        embedded=False,
    ),
    RecipeSpec(
        "sr-digits",
        "unpaired.recipes.sr_digits",
        "class-biased super-resolution of MNIST/USPS digits",
        embedded=False,
    ),
    RecipeSpec(
        "inpaint-faces",
        "unpaired.recipes.inpaint_faces",
        "identity-biased inpainting of Olivetti faces (AIGN Fig. 6)",
        embedded=False,
    ),
    RecipeSpec(
        "cyclegan-maps",
        "unpaired.recipes.cyclegan_maps",
        "CycleGAN and its self-defenses (noise, guess): honesty of photo <-> map translation",
        embedded=True,
    ),
    RecipeSpec(
        "inpaint-digits",
        "unpaired.recipes.inpaint_digits",
        "class-biased inpainting of MNIST digits (middle band masked)",
        embedded=False,
    ),
    RecipeSpec(
        "puppet-digits",
        "unpaired.recipes.puppet_digits",
        "PuppetGAN: change the rotation or size of real digits with font-digit references",
        embedded=False,
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
