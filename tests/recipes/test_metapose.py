"""metapose-synthetic / metapose-cmu and their shared wiring (``recipes/_metapose``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unpaired.errors import ConfigError
from unpaired.recipes._metapose import LABELS
from unpaired.recipes.runner import run_recipe

TINY = {
    "n_train": 200,
    "n_val": 20,
    "n_test_per_style": 2,
    "solvers.views": (2,),
    "solvers.s2_hidden": 16,
    "solvers.s2_max_stages": 1,
    "solvers.s2_train.steps": 5,
    "solvers.ir_steps": 5,
    "solvers.ba_frames": 1,
    "solvers.ba_rounds": 1,
    "lifter.hidden": 16,
    "lifter.train.steps": 5,
}


def test_bad_sizes_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="n_train"):
        run_recipe("metapose-synthetic", out=tmp_path, overrides={"n_train": 3}, progress=False)
    with pytest.raises(ConfigError, match="test_stride"):
        run_recipe("metapose-cmu", out=tmp_path / "c", overrides={"test_stride": 0}, progress=False)


@pytest.mark.slow
def test_metapose_synthetic_runs_every_method(tmp_path: Path) -> None:
    outcome = run_recipe(
        "metapose-synthetic",
        out=tmp_path,
        overrides={**TINY, "solvers.settings": ("exact",), "solvers.init": "synthetic"},
        threads=1,
        progress=False,
    )
    assert outcome.status == "completed" and outcome.report is not None
    table, goals = outcome.report.tables[0], outcome.report.tables[-1]
    assert [r[0] for r in table.rows] == list(LABELS.values())
    assert table.columns == ["method", "PMPJPE 2v", "NMPJPE 2v", "s/sample 2v"]
    assert goals.rows[0][:2] == ["exact", 2]
    metrics = outcome.report.metrics
    assert set(metrics["goals"]["exact-2v"]) >= {"s2_over_s1", "below_ba_random", "speed"}
    assert (tmp_path / "figures" / "sample_exact_2v.png").is_file()
