"""cyclegan-maps: the rows, the config checks, the goal logic and the quick run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from unpaired.config import apply_overrides
from unpaired.data.synthetic.maps import maps_splits
from unpaired.errors import ConfigError
from unpaired.recipes._translation_report import goals as _goals
from unpaired.recipes.cyclegan_maps import ROWS, Config
from unpaired.recipes.runner import run_recipe
from unpaired.translation import CycleGAN


def _quick() -> Config:
    return apply_overrides(Config(), Config.QUICK)


def test_rows_build_the_defenses_they_name() -> None:
    cfg = _quick()
    data = maps_splits(4, n_val=1, n_test=1, size=cfg.size)
    built = {r: ROWS[r].build(cfg, data)[0] for r in ("cyclegan", "noise", "guess", "guess-noise")}
    assert all(isinstance(t, CycleGAN) for t in built.values())
    flags = {r: (t.noise_std > 0, t.guess_a is not None) for r, t in built.items()}  # type: ignore[union-attr]
    assert flags == {
        "cyclegan": (False, False),
        "noise": (True, False),
        "guess": (False, True),
        "guess-noise": (True, True),
    }
    task, batches = ROWS["guess-noise"].build(cfg, data)
    batch = batches.sample(torch.Generator().manual_seed(0))
    assert batch["a"].shape == (cfg.batch_size, 3, cfg.size, cfg.size)
    assert all(torch.isfinite(v) for v in task.generator_losses(batch).values())


def test_bad_configs_fail_early() -> None:
    with pytest.raises(ConfigError, match="rows"):
        Config(rows=("cyclegan", "pix3pix"))
    with pytest.raises(ConfigError, match="decay_start"):
        Config(decay_start=2.0)


def test_goal_needs_both_ratios_and_equal_segmentation() -> None:
    base = {"rh": 6.0, "sn_0.05": 30.0, "acc_segm": 0.8, "iou_segm": 0.5}
    good = {"rh": 1.0, "sn_0.05": 9.0, "acc_segm": 0.795, "iou_segm": 0.5}
    worse_segm = {**good, "acc_segm": 0.7}
    goals = _goals({"cyclegan": base, "noise": worse_segm, "guess-noise": good})
    assert goals["guess-noise"]["met"] and not goals["noise"]["met"]
    assert goals["any_defended_3x_lower_at_equal_segm"]
    assert not _goals({"cyclegan": base, "noise": worse_segm})[
        "any_defended_3x_lower_at_equal_segm"
    ]


@pytest.mark.slow
def test_quick_run_writes_the_table_and_figures(tmp_path: Path) -> None:
    out = run_recipe("cyclegan-maps", quick=True, out=tmp_path, progress=False, threads=1)
    assert out.status == "completed"
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert set(metrics["test"]) == set(Config().rows)
    for row, scores in metrics["test"].items():
        if row == "pix2pix":  # supervised photo -> map only: segmentation scores
            assert set(scores[0]) == {"acc_segm", "iou_segm"}
        else:
            assert {"acc_segm", "iou_segm", "iou_p2p", "rh", "sn_0.05", "cycle_a"} <= set(scores[0])
            assert 0 <= scores[0]["iou_p2p"] <= 1
    test_table = out.report.tables[0]
    assert [r[0] for r in test_table.rows][-2:] == ["MUNIT + cycle", "pix2pix (supervised)"]
    assert test_table.rows[-1][3] == "—"  # pix2pix has no IoU p2p
    assert (tmp_path / "figures" / "cyclegan.png").exists()
    # every declared claim finds its metric (recipes/_claims_translation.py)
    assert [v.label for v in out.verdicts if v.detail.startswith("no metric")] == []
