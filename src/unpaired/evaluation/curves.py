"""Summaries of logged curves (the ``history`` of a fit: one mapping per logged step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch


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


@dataclass(frozen=True)
class ConvergenceSummary:
    """How an error curve approaches a ``threshold`` (``align-toy``'s convergence table).

    ``reach``: first step with error <= threshold (None: never); ``settle``: first step
    from which the error stays <= threshold to the end (None: it does not end below);
    ``oscillation``: std of the error over the last 20% of evaluations (at least 2).
    """

    final: float
    best: float
    reach: int | None
    settle: int | None
    oscillation: float


def summarize_convergence(
    steps: Sequence[int], errors: Sequence[float], threshold: float
) -> ConvergenceSummary:
    """:class:`ConvergenceSummary` of ``errors`` evaluated at ``steps`` (same length).

    >>> summarize_convergence([1, 2, 3, 4], [0.5, 0.05, 0.2, 0.08], 0.1)
    ConvergenceSummary(final=0.08, best=0.05, reach=2, settle=4, oscillation=0.0848...)
    """
    if not errors:
        raise ValueError("no evaluations to summarize")
    reach = next((s for s, e in zip(steps, errors, strict=True) if e <= threshold), None)
    settle = None
    for s, e in zip(reversed(steps), reversed(errors), strict=True):
        if e > threshold:
            break
        settle = s
    tail = torch.tensor(list(errors[-max(2, len(errors) // 5) :]), dtype=torch.float64)
    osc = float(tail.std()) if tail.numel() > 1 else 0.0
    return ConvergenceSummary(float(errors[-1]), float(min(errors)), reach, settle, osc)
