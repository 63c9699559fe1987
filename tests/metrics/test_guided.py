"""ACC and RD of guided translation on hand-made predictions."""

from __future__ import annotations

import math

import pytest
import torch

from unpaired.metrics.guided import (
    Record,
    manipulation_accuracy,
    relative_discrepancy,
    summarize,
)

ROLES = ("shared", "source", "target", "target")
ORDINAL = (False, False, False, True)


def _inputs(n: int = 200):
    g = torch.Generator().manual_seed(0)
    src = torch.randint(0, 8, (n, 4), generator=g)
    guide = torch.randint(0, 8, (n, 4), generator=g)
    return src, guide


def test_perfect_translator_scores_one_and_copying_scores_by_role():
    src, guide = _inputs()
    right = torch.where(torch.tensor([True, False, False, False]), src, guide)
    assert manipulation_accuracy(right, src, guide, ROLES, ORDINAL).tolist() == [1.0] * 4
    # copy the source: shared right, every specific factor wrong
    assert manipulation_accuracy(src, src, guide, ROLES, ORDINAL).tolist() == [1.0, 0, 0, 0]
    # copy the guide: the opposite
    assert manipulation_accuracy(guide, src, guide, ROLES, ORDINAL).tolist() == [0.0, 1, 1, 1]


def test_only_pairs_that_differ_count_and_ordinal_is_closer_than_the_other():
    src = torch.tensor([[0, 2], [3, 2], [5, 0]])
    guide = torch.tensor([[0, 6], [4, 2], [1, 6]])
    pred = torch.tensor([[9, 5], [4, 9], [1, 3]])  # ordinal: 5 closer to 6; 3 equidistant
    acc = manipulation_accuracy(pred, src, guide, ("target", "target"), (False, True))
    assert acc.tolist() == [1.0, 1.0]
    acc = manipulation_accuracy(pred, src, guide, ("shared", "shared"), (False, True))
    assert acc.tolist() == [0.0, 0.5]  # the tie counts for the right input
    nan = manipulation_accuracy(src, src, src, ("shared", "shared"), (False, False))
    assert all(math.isnan(v) for v in nan.tolist())
    with pytest.raises(ValueError, match="roles"):
        manipulation_accuracy(src, src, guide, ("shared", "kept"), (False, False))


def test_relative_discrepancy():
    assert relative_discrepancy([1.0, 0.5], [1.0, 0.5]) == 0.0
    assert relative_discrepancy([0.0, 0.0], [1.0, 1.0]) == 100.0
    assert relative_discrepancy([0.5], [0.25]) == pytest.approx(100 * 0.25 / 0.75)
    with pytest.raises(ValueError):
        relative_discrepancy([1.0], [])


def test_summarize_averages_and_rd():
    recs = [
        Record("A", "a2b", "x", "shared", 1.0),
        Record("B", "a2b", "x", "target", 0.0),
        Record("B", "b2a", "x", "source", 0.5),
        Record("A", "a2b", "y", "target", 1.0),
        Record("B", "a2b", "y", "shared", 1.0),
        Record("B", "a2b", "z", "shared", float("nan")),
    ]
    s = summarize(recs)
    assert s["acc"] == pytest.approx(70.0)
    assert s["acc_A"] == 100.0 and s["acc_B"] == pytest.approx(50.0)
    assert s["x_S"] == 25.0 and s["x_C"] == 100.0
    assert s["y_S"] == 100.0 and s["rd"] == pytest.approx(100 * 75 / (125 + 200))
