"""What the alignment recipes share: summaries of error curves and table cells over seeds.

(``align-toy`` trains the seeds of a method side by side as one
:class:`~unpaired.alignment.Replicas` task.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ErrorSummary:
    """Convergence figures of one error curve (eval steps ``steps``, values ``errors``).

    ``reach``: first step with error <= threshold (None: never); ``settle``: first step
    from which the error stays <= threshold to the end (None: it does not end below);
    ``oscillation``: std of the error over the last 20% of evaluations.
    """

    final: float
    best: float
    reach: int | None
    settle: int | None
    oscillation: float


def summarize(steps: Sequence[int], errors: Sequence[float], threshold: float) -> ErrorSummary:
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
    return ErrorSummary(float(errors[-1]), float(min(errors)), reach, settle, osc)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; (nan, nan) for no values."""
    if not values:
        return math.nan, math.nan
    t = torch.tensor(list(values), dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def pm(values: Sequence[float], digits: int = 3) -> str:
    """``"m ± s"`` (or ``"m"`` for one value, ``"-"`` for none) for a table cell."""
    if not values:
        return "-"
    m, s = mean_std(values)
    if len(values) == 1:
        return f"{m:.{digits}g}"
    return f"{m:.{digits}g} ± {s:.2g}"


def pm_steps(values: Sequence[int | None]) -> str:
    """Step counts over seeds (None: never): ``"m ± s (k/R)"`` over the k that got there."""
    got = [v for v in values if v is not None]
    if not got:
        return f"never (0/{len(values)})"
    m, s = mean_std(got)
    text = f"{m:.0f}" if len(got) == 1 else f"{m:.0f} ± {s:.0f}"
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)})"
