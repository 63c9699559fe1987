"""Unpaired image translation (thesis talk, "Improving Semantic Consistency with
Translation Honesty"; docs/TRANSLATION.md).

* :mod:`unpaired.translation.base`: the :class:`Translator` interface every translator
  implements, ``translate(x, direction="a2b" | "b2a", guide=None)``, and helpers;
* :mod:`unpaired.translation.cyclegan`: :class:`CycleGAN` (a Task) with the noise and
  guess self-defenses, :class:`ImagePool`, :func:`default_prior`, :func:`guess_critic`;
* :mod:`unpaired.translation.evaluation`: :class:`MapsEvaluator`, the honesty and
  segmentation scores of any translator on photo <-> map tiles;
* :mod:`unpaired.translation.munit`: MUNIT (content/style codes, guided translation,
  the optional cycle term of "MUNIT + cycle");
* :mod:`unpaired.translation.pix2pix`: pix2pix, paired (the supervised upper bound and
  the frozen network of IoU p2p).
"""

from unpaired.translation.base import (
    DIRECTIONS,
    Direction,
    Translator,
    as_callable,
    check_direction,
    check_guide,
    opposite,
    translate_batched,
)
from unpaired.translation.cyclegan import (
    CycleGAN,
    ImagePool,
    default_prior,
    guess_critic,
)
from unpaired.translation.evaluation import MapsEvaluator, honesty_images, sn_key
from unpaired.translation.honesty import guess_loss, guess_pairs
from unpaired.translation.munit import MUNIT
from unpaired.translation.pix2pix import Pix2Pix

__all__ = [
    "DIRECTIONS",
    "MUNIT",
    "CycleGAN",
    "Direction",
    "ImagePool",
    "MapsEvaluator",
    "Pix2Pix",
    "Translator",
    "as_callable",
    "check_direction",
    "check_guide",
    "default_prior",
    "guess_critic",
    "guess_loss",
    "guess_pairs",
    "honesty_images",
    "opposite",
    "sn_key",
    "translate_batched",
]
