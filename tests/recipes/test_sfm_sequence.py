"""sfm-sequence end to end on small TUM, KITTI and Virtual KITTI sequences the tests write
from procedural streets (known depth and motion), and its bad-input errors."""

from __future__ import annotations

import math
import sys
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

import unpaired
from unpaired.cli import app
from unpaired.data.sequences import SEQUENCE_FORMATS
from unpaired.recipes._names import SequenceFormatName
from unpaired.recipes.runner import run_recipe

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from _sequences import write_kitti_street, write_memories, write_tum_street, write_vkitti_street

TINY = {
    "height": 16,
    "width": 32,
    "depth_channels": "4,8",
    "ego_channels": "4,8",
    "train_seeds": "1",
    "memory_seeds": "5",
    "train_frames": 4,
    "batch_size": 4,
    "pretrain.steps": 3,
    "pretrain.eval_every": 3,
    "pretrain.log_every": 3,
    "finetune.steps": 3,
    "finetune.eval_every": 3,
    "finetune.log_every": 3,
}


def _finite(table) -> bool:  # type: ignore[no-untyped-def]
    return all(isinstance(v, float) and math.isfinite(v) for r in table.rows for v in r[1:])


@pytest.fixture(scope="module")
def tum_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("sfmseq")
    write_tum_street(root / "rgbd_dataset_freiburg1_street")
    overrides = {
        **TINY,
        "data.sequence": str(root / "rgbd_dataset_freiburg1_street"),
        "data.format": "tum",
        "data.memories": str(write_memories(root / "memories")),
        "finetune_depth_lr_scale": 0.1,  # the depth net trains: the depth prior is used
    }
    out = root / "run"
    outcome = run_recipe("sfm-sequence", out=out, overrides=overrides, threads=1, progress=False)
    return out, outcome


def test_tum_pretrains_finetunes_and_reports_depth_and_trajectory_errors(tum_run) -> None:
    out, outcome = tum_run
    assert outcome.status == "completed"
    report = outcome.report
    titles = [t.title for t in report.tables]
    assert titles == [
        "Depth, median-scaled per frame",
        "Depth, no scaling",
        "Camera motion (AIGN Table 3) and trajectory",
    ]
    for table in report.tables:
        assert [r[0] for r in table.rows] == ["Pretrain", "Pret.+SelfSup"]
        assert _finite(table), table.rows
    seq = report.metrics["sequence"]
    assert seq["frames"] == 6 and seq["size"] == [16, 32]
    assert "freiburg1" in seq["calibration"] and seq["ground_truth"] == ["depth", "poses"]
    fine = report.metrics["test"]["Pret.+SelfSup"]
    assert fine["ate"] >= 0 and fine["ate_scale"] > 0 and fine["pairs"] == 5
    assert "3 depth memories" in report.summary
    assert report.metrics["test"]["Pretrain"] != fine  # finetuning changed the model
    model = unpaired.load(out, "pretrain-selfsup")
    assert model.kind == "sfm" and model.meta["generator"]["height"] == 16


def test_the_docs_table_script_prints_the_runs_metrics(tum_run, tmp_path) -> None:
    import json
    import subprocess

    from unpaired.report import fmt

    out, _ = tum_run
    script = Path(__file__).parents[2] / "benchmarks" / "sfm_sequence_table.py"
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, check=True
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 4  # header, rule, Pretrain, Pret.+SelfSup
    test = json.loads((out / "metrics.json").read_text())["metrics"]["test"]
    for line, model in zip(lines[2:], ("Pretrain", "Pret.+SelfSup"), strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == model
        assert cells[7] == fmt(test[model]["trl_err"]) and cells[10] == fmt(test[model]["ate"])
    bad = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True)
    assert bad.returncode != 0 and b"metrics.json" in bad.stderr


def test_kitti_from_a_loaded_run_reports_camera_errors_only(tum_run, tmp_path) -> None:
    out, _ = tum_run
    write_kitti_street(tmp_path / "odometry")
    overrides = {
        **{k: v for k, v in TINY.items() if k not in ("height", "width")},
        "data.sequence": str(tmp_path / "odometry" / "sequences" / "07"),
        "data.format": "kitti",
        "data.memories": str(out.parent / "memories"),
        "init": str(out),
    }
    outcome = run_recipe(
        "sfm-sequence", out=tmp_path / "run", overrides=overrides, threads=1, progress=False
    )
    report = outcome.report
    assert [t.title for t in report.tables] == ["Camera motion (AIGN Table 3) and trajectory"]
    assert _finite(report.tables[0])
    assert report.metrics["steps"]["pretrain"].startswith("loaded: ")
    assert report.metrics["sequence"]["size"] == [16, 32]  # the loaded model's
    assert report.metrics["sequence"]["ground_truth"] == ["poses"]
    assert not (tmp_path / "run" / "models" / "pretrain.pt").exists()


def test_vkitti_with_the_rgbd_frames_memories(tmp_path, shared_data) -> None:
    write_vkitti_street(tmp_path / "vkitti")
    overrides = {
        **TINY,
        "width": 48,
        "data.sequence": str(tmp_path / "vkitti" / "vkitti_1.3.1_rgb" / "0001" / "clone"),
        "data.format": "vkitti",
    }
    outcome = run_recipe(
        "sfm-sequence",
        out=tmp_path / "run",
        overrides=overrides,
        threads=1,
        progress=False,
        data_dir_option=str(shared_data),
    )
    report = outcome.report
    assert len(report.tables) == 3 and all(_finite(t) for t in report.tables)
    assert "Virtual KITTI" in report.metrics["sequence"]["calibration"]


@pytest.mark.parametrize(
    "sets,needle",
    [
        ([], "set data.sequence=PATH"),
        (["data.sequence={tmp}/nope"], "nope: no such sequence folder"),
        (["data.sequence={tmp}", "data.format=colmap"], "data.format"),
        (["data.sequence={tmp}"], "rgb.txt: file not found"),
        (
            ["data.sequence={tmp}/odo/sequences/07", "data.format=kitti"],
            "calib.txt: calibration file not found",
        ),
        (["data.sequence={tmp}/tum", "init={tmp}"], "has no model 'pretrain'"),
        (["data.sequence={tmp}/tum", "data.memories={tmp}/none"], "no such depth-memory folder"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    sets: list[str], needle: str, tmp_path: Path
) -> None:
    write_tum_street(tmp_path / "tum", n=3)
    write_kitti_street(tmp_path / "odo", n=3)
    (tmp_path / "odo" / "sequences" / "07" / "calib.txt").unlink()
    args = ["run", "sfm-sequence", "--out", str(tmp_path / "never")]
    for s in sets:
        args += ["--set", s.format(tmp=tmp_path)]
    res = CliRunner().invoke(app, args)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert needle in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "never").exists()


def test_the_format_names_are_the_loaders() -> None:
    assert typing.get_args(SequenceFormatName) == SEQUENCE_FORMATS
