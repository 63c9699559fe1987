"""align-toy: the replica trick, the convergence summaries, and the dual vs min-max run."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from unpaired.alignment import Affine, AlignTask, Replicas, Shift
from unpaired.distances import MMD, MeanDistance
from unpaired.engine import TensorSampler, TrainConfig, Unpaired, fit
from unpaired.evaluation import summarize_convergence as summarize
from unpaired.recipes._align_report import pm_steps
from unpaired.recipes.align_toy import Config, make_data
from unpaired.recipes.runner import run_recipe


def test_summarize_reach_settle_and_oscillation() -> None:
    steps = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    errors = [1.0, 0.5, 0.05, 0.3, 0.08, 0.06, 0.07, 0.05, 0.06, 0.04]
    s = summarize(steps, errors, 0.1)
    assert (s.reach, s.settle, s.final, s.best) == (30, 50, 0.04, 0.04)
    assert s.oscillation == pytest.approx(float(torch.tensor([0.06, 0.04]).std()))
    never = summarize(steps, [1.0] * 10, 0.1)
    assert never.reach is None and never.settle is None and never.oscillation == 0.0
    assert pm_steps([100, None, 300]) == "200 ± 100 (2/3)" and pm_steps([None]) == "never (0/1)"


def test_replicas_train_each_task_as_if_alone() -> None:
    """Mean of independent losses + Adam = each replica trained alone (same batches)."""
    g = torch.Generator().manual_seed(0)
    sets = [
        (torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 2) for _ in range(2)
    ]

    def source(a: torch.Tensor, b: torch.Tensor) -> Unpaired:
        return Unpaired(
            {"a": TensorSampler(a, batch_size=32), "b": TensorSampler(b, batch_size=32)}
        )

    cfg = TrainConfig(steps=30, lr=0.01, log_every=10, checkpoint_every=100)
    pair = Replicas([AlignTask(Affine(2), MMD(bandwidth=1.0)) for _ in sets])
    fit(
        pair,
        Unpaired({f"r{i}": source(*s) for i, s in enumerate(sets)}),
        cfg,
        seed=3,
        progress=False,
    )
    alone = AlignTask(Affine(2), MMD(bandwidth=1.0))
    fit(alone, source(*sets[0]), cfg, seed=3, progress=False)
    torch.testing.assert_close(
        pair.tasks[0].transform.weight, alone.transform.weight, atol=1e-5, rtol=0
    )
    assert not torch.allclose(pair.tasks[0].transform.weight, pair.tasks[1].transform.weight)


def test_toy_data_has_the_true_map_and_is_unpaired() -> None:
    cfg = Config(n_points=500)
    lin = make_data(cfg, "linear", torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        lin.target - lin.eval_a, torch.tensor(cfg.linear_shift).expand(500, 2)
    )
    aff = make_data(cfg, "affine", torch.Generator().manual_seed(0))
    assert not torch.allclose(aff.b, aff.target)  # B is an independent sample
    assert (aff.b.mean(0) - aff.target.mean(0)).norm() < 0.15  # of the same distribution


@pytest.mark.slow
def test_linear_dual_settles_where_linear_min_max_oscillates(tmp_path: Path) -> None:
    out = run_recipe(
        "align-toy",
        out=tmp_path / "run",
        overrides={
            "methods": ("linear-dual", "linear-minmax", "linear-mean"),
            "seeds": 1,
            "n_points": 2000,  # the finite-sample floor of the error stays well below 0.1
            "threshold": 0.15,
            "train.steps": 600,
            "train.lr": 1e-2,  # arrive within ~250 steps, then 350 steps to settle or orbit
            "train.eval_every": 50,
            "train.log_every": 50,
        },
        threads=1,
        progress=False,
    )
    m = out.report.metrics
    assert set(m) == {"identity-linear", "linear-dual", "linear-minmax", "linear-mean"}
    dual, minmax = m["linear-dual"], m["linear-minmax"]
    assert all(s is not None for s in dual["settle_steps"])  # the dual converges on every seed
    assert dual["final_error"] < 0.15 < m["identity-linear"]["final_error"]
    assert minmax["oscillation"] > 3 * dual["oscillation"]
    assert all(math.isfinite(v) for v in dual["final_errors"] + minmax["final_errors"])
    table = out.report.tables[0]
    assert table.rows[0][0] == "identity (no alignment)" and len(table.rows) == 4
    for png in ("trajectories", "convergence", "steps_oscillation", "alignment"):
        assert (tmp_path / f"run/figures/{png}.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_method_is_a_config_error(tmp_path: Path) -> None:
    from unpaired.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown align-toy method"):
        run_recipe(
            "align-toy", out=tmp_path / "x", overrides={"methods": ("dual",)}, progress=False
        )


def test_shift_tasks_move_only_the_translation() -> None:
    task = AlignTask(Shift(2), MeanDistance())
    assert [p.shape for p in task.generator_parameters()] == [torch.Size([2])]
