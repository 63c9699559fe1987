"""puppet-digits end to end on the real data with tiny networks, and its config checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unpaired.errors import ConfigError
from unpaired.recipes.puppet_digits import MODELS, Config
from unpaired.recipes.runner import run_recipe

TINY = {
    "width": 4,
    "attr_dim": 4,
    "rest_dim": 4,
    "classifier_width": 4,
    "train.steps": 2,
    "train.eval_every": 0,
    "classifier.steps": 2,
    "n_test": 40,
    "groups": 4,
    "per_group": 3,
}


@pytest.mark.slow
@pytest.mark.parametrize("aoi,real", [("rotation", "mnist"), ("size", "usps")])
def test_puppet_digits_end_to_end(aoi: str, real: str, shared_data: Path, tmp_path: Path) -> None:
    outcome = run_recipe(
        "puppet-digits",
        out=tmp_path,
        overrides={**TINY, "aoi": aoi, "real": real},
        threads=1,
        progress=False,
        data_dir_option=str(shared_data),
    )
    report = outcome.report
    assert outcome.status == "completed" and report is not None
    quality, j = report.tables
    names = [r[0] for r in quality.rows]
    assert names[:2] == [
        "identity (output = real input)",
        "reference (output = synthetic reference)",
    ]
    assert names[2:] == [MODELS[m] for m in MODELS]
    for row in quality.rows:
        assert all(isinstance(v, float) and math.isfinite(v) for v in row[1:]), row
    ref = quality.rows[1]
    assert ref[2] == pytest.approx(1.0) and ref[3] == pytest.approx(1.0)  # r_attr, r_rest
    assert quality.rows[0][4] == 0.0  # V_rest of the identity
    assert 0 <= j.rows[0][0] <= math.log(2) + 1e-9
    assert (tmp_path / f"figures/grid_{aoi}_{real}.png").is_file()


def test_bad_config_values_fail_clearly() -> None:
    with pytest.raises(ConfigError, match="aoi"):
        Config(aoi="stroke")
    with pytest.raises(ConfigError, match="real"):
        Config(real="svhn")
    with pytest.raises(ConfigError, match="unknown puppet-digits model"):
        Config(models=("pix2pix",))
