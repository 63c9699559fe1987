"""pose-synthetic and the shared ladder wiring (``unpaired.recipes._pose``; the task and its
data sources: tests/aign/test_pose.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unpaired.data.synthetic.skeletons import STYLES
from unpaired.errors import ConfigError
from unpaired.recipes._pose import LABELS, Ladder, make_prior
from unpaired.recipes.runner import run_recipe


def test_ladder_priors_by_kind() -> None:
    cfg = Ladder(critic_hidden=16)
    logistic = make_prior("logistic", cfg)
    assert logistic.distance.learned and logistic.prediction == "shape"
    for kind, weight in (("mmd", cfg.mmd_weight), ("dual", cfg.dual_weight)):
        prior = make_prior(kind, cfg)
        assert not prior.distance.learned and prior.weight == weight
    with pytest.raises(ConfigError, match="unknown pose prior 'wgan'; choose one of logistic"):
        make_prior("wgan", cfg)  # type: ignore[arg-type]


@pytest.mark.slow
def test_pose_synthetic_runs_the_ladder(tmp_path: Path) -> None:
    outcome = run_recipe(
        "pose-synthetic",
        out=tmp_path,
        overrides={
            "n_train": 400,
            "n_test_per_style": 20,
            "settings": ("exact",),
            "extra_priors": (),
            "ladder.hidden": 32,
            "ladder.batch_size": 64,
            "ladder.supervised.steps": 40,
            "ladder.finetune.steps": 30,
            "ladder.finetune.lr": 1e-3,
            "ladder.finetune.critic_lr": 1e-3,
        },
        threads=1,
        progress=False,
    )
    assert outcome.status == "completed" and outcome.report is not None
    table = outcome.report.tables[0]
    assert table.columns[1 : 1 + len(STYLES)] == list(STYLES)
    models = ("martinez", "forward2dto3d", "interpreter", "aign")
    assert [r[0] for r in table.rows] == [LABELS[m] for m in models]
    scores = outcome.report.metrics["exact"]["models"]
    assert all(math.isfinite(scores[m]["torso"]) for m in models)
    # Sup3 at work: finetuning on the test 2D fits it better than the supervised model.
    assert scores["interpreter"]["reproj_px"] < scores["forward2dto3d"]["reproj_px"]
    assert scores["martinez"]["reproj_px"] is None
    ratio = outcome.report.metrics["exact"]["ratios"]
    assert set(ratio) == {"aign_over_interpreter", "aign_over_forward2dto3d", "ordering_holds"}
    assert (tmp_path / "figures" / "skeletons_exact.png").is_file()
    # every declared claim finds its metric (recipes/_claims_table.py)
    assert [v.label for v in outcome.verdicts if v.detail.startswith("no metric")] == [
        "noisy 2D: AIGN < 3D interpreter < Forward2Dto3D"  # settings=("exact",)
    ]
    assert (tmp_path / "checkpoints" / "exact-aign" / "last.pt").is_file()
