"""The commands that use trained runs: ``predict``, ``runs``, ``runs compare``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from unpaired.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from _runs import pose_run

runner = CliRunner()


def _one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pose_run(tmp_path_factory.mktemp("runs") / "pose")


def test_predict_command_writes_poses_and_bad_input_exits_2(run: Path, tmp_path: Path) -> None:
    kp = (500 + 50 * np.random.default_rng(0).standard_normal((6, 17, 2))).astype(np.float32)
    np.save(tmp_path / "kp.npy", kp)
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "kp.npy"), "--out", str(tmp_path / "o"),
              "--figures", "0", "--batch-size", "4"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "lifter (pose): 6 frames" in res.stdout
    assert np.load(tmp_path / "o" / "poses.npy").shape == (6, 17, 3)
    np.save(tmp_path / "bad.npy", kp[:, :15])
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "bad.npy"), "--out", str(tmp_path / "o2")]
    )
    assert res.exit_code == 2 and "bad.npy: keypoints of shape (6, 15, 2)" in _one_error_line(res)
    assert not (tmp_path / "o2").exists()
    res = runner.invoke(app, ["predict", str(run), str(tmp_path / "kp.npy"), "--model", "nope"])
    assert res.exit_code == 2 and "has no model 'nope'; its models: lifter" in _one_error_line(res)


def test_runs_lists_status_and_compare_puts_metrics_side_by_side(run: Path, tmp_path: Path) -> None:
    root = run.parent
    for name, status, value in (("b", "completed", 2.0), ("c", "stopped", 3.0)):
        d = root / name
        d.mkdir()
        (d / "config.yaml").write_text("recipe: toy\n")
        (d / "metrics.json").write_text(json.dumps({"status": status, "metrics": {"err": value}}))
    (root / "d").mkdir()
    (root / "d" / "config.yaml").write_text("recipe: toy\n")  # nothing else: failed
    (root / "e" / "checkpoints" / "m").mkdir(parents=True)
    (root / "e" / "config.yaml").write_text("recipe: toy\n")
    torch.save({"finished": False}, root / "e" / "checkpoints" / "m" / "last.pt")  # killed
    res = runner.invoke(app, ["runs", str(root)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = {
        ln.split()[0].rsplit("/", 1)[-1]: ln for ln in res.stdout.splitlines()[1:] if ln.strip()
    }
    assert "interrupted" in rows["pose"]  # checkpoints but no metrics.json
    assert "complete" in rows["b"] and "err=2" in rows["b"]
    assert "interrupted" in rows["c"] and "failed" in rows["d"] and "interrupted" in rows["e"]
    assert "lifter" in rows["pose"] and "tiny" in rows["pose"]
    res = runner.invoke(
        app, ["runs", "compare", str(root / "b"), str(root / "c")], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("err"))
    assert line.split() == ["err", "2", "3", "1"]
    res = runner.invoke(app, ["runs", "compare", str(root / "b")])
    assert res.exit_code == 2 and "usage: unpaired runs compare" in _one_error_line(res)
    res = runner.invoke(app, ["runs", str(tmp_path / "none")])
    assert res.exit_code == 2 and "no such folder" in _one_error_line(res)


def test_align_save_transform_then_predict_on_new_arrays(tmp_path: Path) -> None:
    g = np.random.default_rng(0)
    a, b = g.normal(5, 2, (64, 2)), g.normal(0, 1, (64, 2))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    res = runner.invoke(
        app, ["align", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--distance", "mmd",
              "--steps", "5", "--out", str(tmp_path / "al"), "--save-transform", str(tmp_path / "T.pt")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["predict", str(tmp_path / "T.pt"), str(tmp_path / "a.npy"), "--out", str(tmp_path / "p")],
    )
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(
        np.load(tmp_path / "p" / "aligned.npy"), np.load(tmp_path / "al" / "aligned.npy"), atol=1e-5
    )
