"""cyclegan-digits: a tiny end-to-end run on MNIST and USPS (every row), and its config."""

from __future__ import annotations

from pathlib import Path

import pytest

from unpaired.errors import ConfigError
from unpaired.recipes.cyclegan_digits import Config
from unpaired.recipes.runner import run_recipe


def test_unknown_rows_and_bad_sizes_fail_at_config_time() -> None:
    with pytest.raises(ConfigError, match="unknown or no rows"):
        Config(rows=("cyclegan", "cyclegam"))
    with pytest.raises(ConfigError, match="n_test, n_val and n_eval"):
        Config(n_test=0)


@pytest.mark.slow
@pytest.mark.timeout(900)  # MNIST + USPS loading and five scored rows: slow on a busy machine
def test_tiny_run_scores_every_row(shared_data: Path, tmp_path: Path) -> None:
    out = run_recipe(
        "cyclegan-digits",
        quick=True,
        out=tmp_path / "run",
        data_dir_option=str(shared_data),
        overrides={
            "translator.steps": 2,
            "classifier.steps": 5,
            "n_test": 20,
            "n_val": 20,
            "rows": ("cyclegan", "noise", "guess-noise", "munit-cycle"),
        },
        threads=1,
        progress=False,
    )
    table = out.report.tables[0]
    assert [r[0] for r in table.rows] == [
        "no translation", "CycleGAN", "CycleGAN + noise", "CycleGAN + guess + noise",
        "MUNIT + cycle",
    ]  # fmt: skip
    identity = table.rows[0]
    assert identity[5] == 0.0 and identity[6] == 0.0  # no translation: no cycle error
    assert abs(identity[3] / (0.05 * 32) - 1) < 0.05  # SN of an identity: the noise itself
    for row in table.rows:
        assert 0 <= row[1] <= 1 and 0 <= row[2] <= 1
    goals = out.report.metrics["goals"]
    assert goals["best_defended"] in ("noise", "guess-noise")
    assert isinstance(goals["defended_keeps_class_at_least_as_well"], bool)
    assert (tmp_path / "run" / "figures" / "translations.png").is_file()
    assert [v.label for v in out.verdicts if v.detail.startswith("no metric")] == []
