"""rift-shapes: config checks, and the quick run end to end (tables, metrics, figures)."""

from __future__ import annotations

import pytest

from unpaired.errors import ConfigError
from unpaired.recipes.rift_shapes import Config
from unpaired.recipes.runner import run_recipe


def test_bad_config_values_fail_at_set_time() -> None:
    with pytest.raises(ConfigError, match="unknown rift-shapes method"):
        Config(methods=("rift", "drit"))
    with pytest.raises(ConfigError, match="split"):
        Config(split="D")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="multiple of 8"):
        Config(size=20)


@pytest.mark.slow
def test_quick_run_writes_the_tables(tmp_path) -> None:
    out = run_recipe("rift-shapes", quick=True, out=tmp_path / "run", progress=False)
    assert out.status == "completed"
    report = out.report
    titles = [t.title for t in report.tables]
    assert titles[0].startswith("Manipulation accuracy") and any("classifier" in t for t in titles)
    methods = [r[0] for r in report.tables[0].rows]
    assert methods[0] == "RIFT" and "chance (uniform random levels)" in methods
    s = report.metrics["summaries"]["chance"]
    assert 0 <= s["acc"] <= 100 and s["acc_A"] == s["acc"]
    assert all((tmp_path / "run" / f.path).exists() for f in report.figures)
    assert report.metrics["goals"] == {}  # goals need split=all
    diag = report.metrics["diagnosis"]
    assert {"rift/A", "munit/A", "rand/A"} <= set(diag)
    assert {"shared_from_source", "target_from_guide", "guide_effect_l1"} <= set(diag["rift/A"])
    assert "mean_abs_s" in diag["rift/A"] and "rift/A" in report.metrics["capacity"]
    # every declared claim finds its metric (recipes/_claims_translation.py), but the goal
    assert [v.label for v in out.verdicts if v.detail.startswith("no metric")] == [
        "RIFT's ACC above every baseline's (all splits)"
    ]
