"""Unpaired image translation (thesis talk, "Improving Semantic Consistency with
Translation Honesty"; docs/TRANSLATION.md).

* :mod:`unpaired.translation.base`: the :class:`Translator` interface every translator
  implements, ``translate(x, direction="a2b" | "b2a", guide=None)``, and helpers;
* :mod:`unpaired.translation.cyclegan`: :class:`CycleGAN` (a Task) with the noise and
  guess self-defenses, :class:`ImagePool`, :func:`default_prior`, :func:`guess_critic`;
* :mod:`unpaired.translation.evaluation`: :class:`MapsEvaluator`, the honesty and
  segmentation scores of any translator on photo <-> map tiles.
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
    guess_pairs,
)
from unpaired.translation.evaluation import MapsEvaluator, honesty_images, sn_key

__all__ = [
    "DIRECTIONS",
    "CycleGAN",
    "Direction",
    "ImagePool",
    "MapsEvaluator",
    "Translator",
    "as_callable",
    "check_direction",
    "check_guide",
    "default_prior",
    "guess_critic",
    "guess_pairs",
    "honesty_images",
    "opposite",
    "sn_key",
    "translate_batched",
]
