"""Unpaired image translation (thesis talk, "Improving Semantic Consistency with
Translation Honesty"; docs/TRANSLATION.md).

* :mod:`unpaired.translation.base`: the :class:`Translator` interface every translator
  implements, ``translate(x, direction="a2b" | "b2a", guide=None)``, and helpers.
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

__all__ = [
    "DIRECTIONS",
    "Direction",
    "Translator",
    "as_callable",
    "check_direction",
    "check_guide",
    "opposite",
    "translate_batched",
]
