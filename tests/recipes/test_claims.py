"""Claims (``recipes._claims``): declared per recipe, checked against ``metrics.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unpaired.recipes import RECIPES
from unpaired.recipes import _claims_table as table
from unpaired.recipes._claims import (
    Claim,
    RecipeClaims,
    at_least,
    at_most,
    claims_for,
    evaluate,
    holds,
    less,
    lookup,
    ratio,
    summarize,
)
from unpaired.recipes.runner import run_recipe, write_run
from unpaired.report import Report, Table

RUN = {
    "status": "completed",
    "metrics": {
        "aign": {"err": 60.0, "curve": [3.0, 1.0, 2.0]},
        "base": {"err": 80.0},
        "ordering": True,
        "broken": float("nan"),
    },
}

TINY_TOY = {
    "train.steps": 20,
    "n_points": 200,
    "seeds": 1,
    "methods": ("linear-dual", "linear-minmax"),
}


def _statuses(*claims: Claim, run: dict = RUN) -> list[str]:
    return [v.status for v in evaluate(RecipeClaims("c", claims), run)]


def test_each_kind_of_claim_is_met_or_not_with_its_numbers() -> None:
    assert _statuses(
        ratio("r", ("aign", "err"), ("base", "err"), at_most=0.8),
        ratio("r", ("aign", "err"), ("base", "err"), at_most=0.7),
        ratio("r", ("aign", "err"), ("base", "err"), at_least=0.7),
        at_most("a", ("aign", "err"), 60.0),
        at_least("a", ("aign", "err"), 61.0),
        holds("h", ("ordering",)),
        less("l", ("aign", "err"), ("base", "err")),
        less("l", ("base", "err"), ("aign", "err")),
    ) == ["met", "not met", "met", "met", "not met", "met", "met", "not met"]
    v = evaluate(
        RecipeClaims("c", (ratio("r", ("aign", "err"), ("base", "err"), at_most=0.8, paper=0.61),)),
        RUN,
    )[0]
    assert v.value == pytest.approx(0.75) and v.goal == "<= 0.8" and v.paper == 0.61
    assert v.detail == "0.75 <= 0.8"
    cmp = evaluate(RecipeClaims("c", (less("l", ("aign", "err"), ("base", "err")),)), RUN)[0]
    assert cmp.goal == "< 80 (base > err)" and cmp.detail == "60 < 80"


def test_lists_are_indexed_and_reduced() -> None:
    m = RUN["metrics"]
    assert lookup(m, ("aign", "curve", -1)) == 2.0 and lookup(m, ("aign", "curve", "max")) == 3.0
    assert lookup(m, ("aign", "curve", "min")) == 1.0
    assert lookup(m, ("aign", "curve", "mean")) == pytest.approx(2.0)
    last_over_max = ratio("r", ("aign", "curve", -1), ("aign", "curve", "max"), at_most=0.5)
    assert _statuses(last_over_max) == ["not met"]


def test_absent_or_non_finite_metrics_and_stopped_runs_are_na() -> None:
    missing = at_most("m", ("noisy", "err"), 1.0)
    nan = at_most("n", ("broken",), 1.0)
    vs = evaluate(RecipeClaims("c", (missing, nan)), RUN)
    assert [v.status for v in vs] == ["n/a", "n/a"]
    assert vs[0].detail == "no metric noisy > err" and vs[1].detail == "not a finite number"
    stopped = evaluate(RecipeClaims("c", (holds("h", ("ordering",)),)), {"status": "stopped"})
    assert [(v.status, v.detail) for v in stopped] == [("n/a", "the run stopped early")]
    # a boolean is not compared with a number
    assert _statuses(at_most("b", ("ordering",), 1.0)) == ["n/a"]


def test_summary_counts_what_was_checked() -> None:
    vs = evaluate(
        RecipeClaims(
            "c",
            (
                holds("h", ("ordering",)),
                at_least("a", ("aign", "err"), 61.0),
                at_most("m", ("noisy", "err"), 1.0),
            ),
        ),
        RUN,
    )
    assert summarize(vs) == "1/2 met (1 n/a)"
    assert summarize(vs[:1]) == "1/1 met" and summarize(vs[2:]) == "n/a"
    assert summarize([]) == "no claims declared"


def test_declarations_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ratio("r", ("a",), ("b",))
    with pytest.raises(ValueError, match="op must be"):
        Claim("c", ("a",), "~", 1.0)


def test_every_declaration_names_a_recipe_and_says_what_it_claims() -> None:
    assert set(table.CLAIMS) <= set(RECIPES), set(table.CLAIMS) - set(RECIPES)
    for name, claims in table.CLAIMS.items():
        assert claims.claim and claims.goals, name
        assert all(c.label and c.source for c in claims.goals), name
        assert len({c.label for c in claims.goals}) == len(claims.goals), name


def test_the_recipes_of_this_issue_declare_claims() -> None:
    existing = (
        "align-toy align-gmm align-digits pose-synthetic pose-cmu sfm-scenes "
        "sr-faces sr-digits inpaint-faces inpaint-digits"
    )
    assert [n for n in existing.split() if claims_for(n) is None] == []
    assert claims_for("no-such-recipe") is None


def test_write_run_records_verdicts_and_a_missing_declaration_breaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = RECIPES["align-toy"]
    metrics = {"linear-dual": {"oscillation": 0.01, "final_error": 0.05}}
    metrics["linear-minmax"] = {"oscillation": 0.1}
    report = Report("toy", tables=[Table("t", ["model"], [["a"]])], metrics=metrics)
    view = write_run(tmp_path / "with", spec, report, {}, status="completed", message="")
    claim, verdicts = view.claim, view.verdicts
    data = json.loads((tmp_path / "with/metrics.json").read_text())
    assert claim == data["claim"] == table.CLAIMS["align-toy"].claim
    assert [v["label"] for v in data["verdicts"]] == [
        c.label for c in table.CLAIMS["align-toy"].goals
    ]
    assert [v.to_dict() for v in verdicts] == data["verdicts"]
    assert [v.status for v in verdicts] == ["met", "n/a", "met"]

    monkeypatch.delitem(table.CLAIMS, "align-toy")
    view = write_run(tmp_path / "no", spec, report, {}, status="completed", message="")
    claim, verdicts = view.claim, view.verdicts
    data = json.loads((tmp_path / "no/metrics.json").read_text())
    assert (claim, verdicts) == ("", []) and data["verdicts"] == [] and data["claim"] == ""
    assert data["metrics"] == metrics and (tmp_path / "no/report.html").is_file()


@pytest.mark.slow
def test_a_real_run_carries_its_verdicts(tmp_path: Path) -> None:
    done = run_recipe("align-toy", out=tmp_path, overrides=TINY_TOY, threads=1, progress=False)
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert [v.to_dict() for v in done.verdicts] == data["verdicts"] and len(data["verdicts"]) == 3
    # the affine methods were not run: their claim is n/a for want of the metric
    assert done.verdicts[1].detail == "no metric dual-rbf > oscillation"
    assert done.verdicts[2].status in ("met", "not met")


def test_docs_list_the_claims_of_every_recipe() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "REPORTS.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    listed = {line.split("`")[1] for line in rows}
    assert set(table.CLAIMS) <= listed, set(table.CLAIMS) - listed
    for name, claims in table.CLAIMS.items():
        row = next(line for line in rows if line.startswith(f"| `{name}` |"))
        assert claims.claim in row and all(c.label in row for c in claims.goals), name


def test_a_value_next_to_its_goal_shows_the_digits_that_decide() -> None:
    run = {"status": "completed", "metrics": {"rate": 1.0003, "err": 0.2345}}
    near, far = evaluate(
        RecipeClaims("c", (Claim("r", ("rate",), ">", 1.0), at_most("e", ("err",), 0.5))), run
    )
    assert (near.status, near.shown, near.detail) == ("met", "1.0003", "1.0003 > 1")
    assert (far.shown, far.detail) == ("0.234", "0.234 <= 0.5")
