"""Summaries of logged curves (the ``history`` of a fit: one mapping per logged step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def curve(history: Sequence[Mapping[str, Any]], key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of every row of ``history`` that logged a number under ``key``."""
    return [
        (r["step"], r[key])
        for r in history
        if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)
    ]


@dataclass(frozen=True)
class CurveSummary:
    """The last value of a curve, its minimum and the step of the (first) minimum."""

    final: float
    minimum: float
    argmin: int

    @property
    def final_over_min(self) -> float:
        """``final / minimum``: 1 when training ended at its best point."""
        return self.final / self.minimum


def summarize_curve(history: Sequence[Mapping[str, Any]], key: str) -> CurveSummary:
    """:class:`CurveSummary` of the curve ``key`` of ``history``.

    >>> summarize_curve([{"step": 1, "e": 3.0}, {"step": 2, "e": 1.0}, {"step": 3, "e": 2.0}], "e")
    CurveSummary(final=2.0, minimum=1.0, argmin=2)
    """
    points = curve(history, key)
    if not points:
        raise ValueError(f"the history logged no value of {key!r}")
    step, best = min(points, key=lambda p: p[1])
    return CurveSummary(points[-1][1], best, step)
