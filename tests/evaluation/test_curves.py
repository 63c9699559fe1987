"""evaluation.curves: points and summaries of logged curves."""

from __future__ import annotations

import pytest

from unpaired.evaluation import CurveSummary, curve, summarize_curve

HISTORY = [
    {"step": 10, "loss": 4.0, "eval/err": 3.0},
    {"step": 20, "loss": 3.0},
    {"step": 30, "eval/err": 1.0, "flag": True},
    {"step": 40, "eval/err": 1.0},
    {"step": 50, "eval/err": 2.0, "note": "text"},
]


def test_curve_keeps_numeric_points_only() -> None:
    assert curve(HISTORY, "eval/err") == [(10, 3.0), (30, 1.0), (40, 1.0), (50, 2.0)]
    assert curve(HISTORY, "flag") == [] and curve(HISTORY, "note") == []


def test_summary_final_first_minimum_and_ratio() -> None:
    s = summarize_curve(HISTORY, "eval/err")
    assert s == CurveSummary(final=2.0, minimum=1.0, argmin=30)
    assert s.final_over_min == 2.0
    with pytest.raises(ValueError, match="logged no value of 'missing'"):
        summarize_curve(HISTORY, "missing")
