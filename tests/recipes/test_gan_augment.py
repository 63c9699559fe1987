"""gan-augment: config checks, and a tiny end-to-end run on MNIST."""

from __future__ import annotations

from pathlib import Path

import pytest

from unpaired.errors import ConfigError
from unpaired.recipes.gan_augment import Config, _rotations
from unpaired.recipes.runner import run_recipe


def test_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ps"):
        Config(ps=(0.5, 1.5))


def test_rotations_are_labelled_by_quarter_turns() -> None:
    import torch

    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    rx, ry = _rotations(x)
    assert ry.tolist() == [0, 1, 2, 3]
    assert torch.equal(rx[1], torch.rot90(x[0], 1, (-2, -1)))


@pytest.mark.slow
def test_tiny_run_reports_every_case(shared_data: Path, tmp_path: Path) -> None:
    out = run_recipe(
        "gan-augment",
        out=tmp_path / "run",
        data_dir_option=str(shared_data),
        overrides={
            "ps": (0.0, 1.0),
            "gan.steps": 5,
            "classifier.steps": 5,
            "n_train": 256,
            "n_eval": 64,
            "width": 4,
        },
        threads=1,
        progress=False,
    )
    rows = out.report.tables[0].rows
    assert [r[0] for r in rows] == [
        "rot90 p=0.0",
        "rot90 p=1.0",
        "brightness sigma=0.3 p=1",
        "real held-out digits",
    ]
    for r in rows:
        assert abs(sum(r[2:6]) - 1) < 1e-9 and r[1] == pytest.approx(1 - r[2])
    assert out.report.metrics["threshold"] == 0.75
    # every declared claim finds its metric (recipes/_claims_translation.py); p = 0.5 not run
    assert [v.label for v in out.verdicts if v.detail.startswith("no metric")] == [
        "leak rate: rot90 p = 0.5 (below the threshold) below p = 1"
    ]
