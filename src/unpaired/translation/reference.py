"""Reference translators of guided translation: RAND and the copy baselines.

* :class:`RandomTarget` (the RIFT table's RAND): ignores its inputs and returns a random
  real image of the target domain, so its ACC is chance level for every factor the
  target domain varies and exact for the factors it freezes.
* :class:`Copy`: returns the source (``"source"``) or the guide (``"guide"``): ACC 100 on
  shared (resp. specific) factors, 0 on the others, RD 100.

Example:
    >>> t = RandomTarget(torch.zeros(5, 3, 4, 4), torch.ones(5, 3, 4, 4), seed=0)
    >>> float(t.translate(torch.zeros(2, 3, 4, 4), "a2b").mean())
    1.0
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape
from unpaired.translation.base import Direction, check_direction, check_guide


class RandomTarget:
    """RAND: ``translate`` returns images drawn uniformly from ``images_b`` (a2b) or
    ``images_a`` (b2a), from its own generator (seeded by ``seed``)."""

    def __init__(self, images_a: torch.Tensor, images_b: torch.Tensor, *, seed: int = 0) -> None:
        check_shape("images_a", images_a, ("N", "C", "H", "W"))
        check_shape("images_b", images_b, ("M", "C", "H", "W"))
        self.images = {"a2b": images_b, "b2a": images_a}
        self.generator = torch.Generator().manual_seed(seed)

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        pool = self.images[check_direction(direction)]
        return pool[torch.randint(0, len(pool), (x.shape[0],), generator=self.generator)]


class Copy:
    """Returns the source images (``what="source"``) or the guides (``"guide"``)."""

    def __init__(self, what: str = "source") -> None:
        if what not in ("source", "guide"):
            raise ValueError(f"what must be 'source' or 'guide', got {what!r}")
        self.what = what

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        check_direction(direction)
        check_guide(guide, x)
        if self.what == "guide":
            if guide is None:
                raise ValueError("Copy('guide') needs a guide")
            return guide
        return x
