from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from unpaired import __version__
from unpaired.cli import app
from unpaired.engine import read_log
from unpaired.errors import ConfigError
from unpaired.recipes._claims import summarize

runner = CliRunner()
FAULTS = Path(__file__).parent / "engine" / "_faults.py"  # runs the CLI with a fault injected
SMALL = [
    "--set",
    "train.steps=40",
    "--set",
    "n_points=300",
    "--set",
    "train.checkpoint_every=20",
    "--set",
    "methods=minmax-logistic",
    "--set",
    "seeds=1",
    "--no-progress",
]


def _invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def _one_error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_version_and_recipes() -> None:
    assert _invoke("--version").stdout.strip() == f"unpaired {__version__}"
    res = _invoke("recipes")
    assert res.exit_code == 0 and "align-toy" in res.stdout


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run", "align-tyo"], "unknown recipe 'align-tyo'; did you mean 'align-toy'"),
        (["run", "align-toy", "--set", "stepz=3"], "unknown config key 'stepz'"),
        (
            ["run", "align-toy", "--set", "train.steps=many"],
            "bad value for 'train.steps': expected int",
        ),
        (["run", "align-toy", "--set", "angle_deg"], "--set expects key=value"),
        (["run", "align-toy", "--devices", "0"], "devices must be >= 1"),
        (["run", "align-toy", "--precision", "8-bit"], "precision must be one of"),
        (["run", "align-toy", "--num-nodes", "0"], "num_nodes must be >= 1, got 0"),
        (
            ["run", "align-toy", "--strategy", "deepspeed"],
            "strategy must be one of ddp, fsdp; got 'deepspeed'",
        ),
        (["run", "align-toy", "--max-minutes", "0"], "--max-minutes must be > 0"),
        (["run", "align-toy", "--threads", "0"], "--threads must be >= 1"),
        (
            ["run", "align-toy", "--data-dir", "/no/such/dir"],
            "/no/such/dir (from --data-dir) does not exist",
        ),
        (["data", "check", "--data-dir", "/no/such/dir"], "does not exist"),
    ],
)
def test_user_errors_exit_2_with_one_line(args: list[str], needle: str, tmp_path: Path) -> None:
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "never-written")]
    res = _invoke(*args)
    assert res.exit_code == 2
    assert needle in _one_error_line(res)
    assert not (tmp_path / "never-written").exists()


def test_devices_nodes_and_strategy_reach_fabric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lightning_fabric.strategies import ModelParallelStrategy

    from unpaired.recipes import runner as runner_module

    made, real = [], runner_module.make_fabric

    def make_and_stop(*args, **kwargs):  # the real Fabric, not launched (no processes)
        made.append(real(*args, **kwargs))
        raise ConfigError("stopped before launching")

    monkeypatch.setattr(runner_module, "make_fabric", make_and_stop)
    out = tmp_path / "never-written"
    res = _invoke(
        "run", "align-toy", "--devices", "2", "--num-nodes", "3", "--strategy", "fsdp",
        "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 2 and "stopped before launching" in _one_error_line(res)
    (fabric,) = made
    assert isinstance(fabric.strategy, ModelParallelStrategy)
    assert fabric.strategy.num_nodes == 3 and fabric.strategy.num_processes == 2
    assert not out.exists()


def test_data_check_real_and_empty_dirs(shared_data: Path, tmp_path: Path) -> None:
    res = _invoke("data", "check", "--data-dir", str(shared_data), env={"COLUMNS": "250"})
    assert res.exit_code == 0
    rows = {
        line.split("│")[1].strip(): line for line in res.stdout.splitlines() if line.count("│") > 3
    }
    for found in ("cmu_mocap", "mnist", "usps", "olivetti_faces", "rgbd_frames"):
        assert "found" in rows[found], found
    for missing in ("human36m", "kitti_odometry", "virtual_kitti", "celeba"):
        assert "missing" in rows[missing], missing
    res = _invoke("data", "check", env={"UNPAIRED_DATA": str(tmp_path), "COLUMNS": "250"})
    assert res.exit_code == 0 and str(tmp_path) in res.stdout.replace("\n", "")
    assert " found " not in res.stdout


def test_run_directory_contents(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _invoke("run", "align-toy", "--out", str(out), *SMALL)
    assert res.exit_code == 0, res.output
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert (
        cfg["recipe"] == "align-toy" and cfg["config"]["train"]["steps"] == 40 and cfg["seed"] == 0
    )
    rows = read_log(out / "log.jsonl")
    assert (
        rows[-1]["model"] == "minmax-logistic"
        and rows[-1]["step"] == 40
        and "gen/adversarial" in rows[-1]
    )
    assert list((out / "tb").glob("events.out.tfevents.*"))
    assert (out / "checkpoints/minmax-logistic/last.pt").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["models"]["minmax-logistic"]["steps"] == 40
    assert "final_error" in metrics["metrics"]["minmax-logistic"]
    md = (out / "report.md").read_text()
    assert "| min-max logistic |" in md and "figures/curves_minmax-logistic.png" in md
    assert "<table>" in (out / "report.html").read_text()
    for png in ("figures/alignment.png", "figures/curves_minmax-logistic.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"

    again = _invoke("run", "align-toy", "--out", str(out), *SMALL)
    assert again.exit_code == 2 and "--resume" in _one_error_line(again)
    changed = _invoke(
        "run", "align-toy", "--out", str(out), "--resume", *SMALL, "--set", "angle_deg=10"
    )
    assert (
        changed.exit_code == 2
        and "different config (config.angle_deg: 40.0 -> 10.0)" in _one_error_line(changed)
    )


def test_nan_exits_3_with_one_line(tmp_path: Path) -> None:
    res = _invoke(
        "run",
        "align-toy",
        "--out",
        str(tmp_path / "nan"),
        *SMALL,
        "--set",
        "train.lr=1e38",
        "--set",
        "train.critic_lr=1e38",
    )
    assert res.exit_code == 3
    line = _one_error_line(res)
    assert "non-finite value in" in line and "at step" in line


def test_max_minutes_stops_cleanly_then_resume_finishes(tmp_path: Path) -> None:
    out = tmp_path / "budget"
    res = _invoke("run", "align-toy", "--out", str(out), *SMALL, "--max-minutes", "1e-9")
    assert res.exit_code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "stopped" and "time budget reached at step 1" in metrics["note"]
    res = _invoke("run", "align-toy", "--out", str(out), *SMALL, "--resume")
    assert res.exit_code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["status"] == "completed"
        and metrics["models"]["minmax-logistic"]["resumed_from"] == 1
    )


@pytest.mark.slow
def test_killed_run_resumes_bitwise_identical(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "unpaired.cli", "run", "align-toy", *SMALL]
    ref = subprocess.run([*cmd, "--out", str(tmp_path / "ref")], capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    # The same CLI with a SIGKILL right after step 31 (after the step-20 checkpoint).
    faulty = [sys.executable, str(FAULTS), "31:KILL", "run", "align-toy", *SMALL]
    killed = subprocess.run(
        [*faulty, "--out", str(tmp_path / "run")], capture_output=True, text=True
    )
    assert killed.returncode == -9
    resumed = subprocess.run(
        [*cmd, "--out", str(tmp_path / "run"), "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    a = torch.load(tmp_path / "ref/checkpoints/minmax-logistic/last.pt", weights_only=False)
    b = torch.load(tmp_path / "run/checkpoints/minmax-logistic/last.pt", weights_only=False)
    assert b["step"] == a["step"] == 40
    for k in a["task"]:
        assert torch.equal(a["task"][k], b["task"][k]), k
    assert a["history"] == b["history"]
    ma = json.loads((tmp_path / "ref/metrics.json").read_text())
    mb = json.loads((tmp_path / "run/metrics.json").read_text())
    assert ma["metrics"] == mb["metrics"] and mb["models"]["minmax-logistic"]["resumed_from"] == 20


@pytest.mark.slow
def test_run_ends_with_the_verdict_quiet_or_as_json(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _invoke("run", "align-toy", "--out", str(out), *SMALL, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["recipe"] == "align-toy" and data["status"] == "completed"
    assert data["report"] == str(out / "report.html") and "minmax-logistic" in data["metrics"]
    assert data["verdicts"] == json.loads((out / "metrics.json").read_text())["verdicts"]
    assert {v["status"] for v in data["verdicts"]} <= {"met", "not met", "n/a"}
    # the real report: every image and link resolves inside the run folder
    page = (out / "report.html").read_text()
    ids = set(re.findall(r"id='([^']+)'", page))
    for ref in re.findall(r"(?:src|href)='([^']+)'", page):
        assert (ref[1:] in ids) if ref.startswith("#") else (out / ref).is_file(), ref
    assert "figures/compare.png" not in page  # one model: nothing to compare
    assert page.index("Claim:") < page.index("<img")
    # the same run again (reloaded from its checkpoints): one verdict line and the path
    quiet = _invoke("run", "align-toy", "--out", str(out), *SMALL, "--resume", "--quiet")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout.splitlines() == [
        f"align-toy: {summarize(outcome_verdicts(data))}",
        f"report: {out / 'report.html'}",
    ]
    # by default the verdict table, sized to the (80-column, piped) terminal
    table = _invoke("run", "align-toy", "--out", str(out), *SMALL, "--resume")
    assert table.exit_code == 0 and "…" not in table.stdout
    assert "claim" in table.stdout and "verdict" in table.stdout
    *rows, path = table.stdout.splitlines()
    assert max(len(line) for line in rows) <= 80 and path == f"report: {out / 'report.html'}"


def outcome_verdicts(data: dict) -> list:
    from unpaired.recipes._claims import Verdict

    return [Verdict(**v) for v in data["verdicts"]]


@pytest.mark.slow
def test_demo_writes_one_combined_report_and_reruns_by_resuming(tmp_path: Path) -> None:
    from unpaired.recipes.runner import run_demo

    out = tmp_path / "demo"
    tiny = {"align-toy": {"train.steps": 40, "n_points": 300, "methods": ("minmax-logistic",)}}
    outcomes = run_demo(out, names=["align-toy"], threads=1, progress=False, overrides=tiny)
    assert [o.status for o in outcomes] == ["completed"]
    md = (out / "report.md").read_text()
    assert md.startswith("# unpaired demo") and "## align-toy" in md
    assert (
        "(align-toy/figures/alignment.png)" in md
        and (out / "align-toy/figures/alignment.png").is_file()
    )
    page = (out / "report.html").read_text()
    assert "<h2 id='align-toy-verdict'>align-toy" in page
    assert page.index("<th>recipe</th>") < page.index("<h2")  # the summary table comes first
    ids = set(re.findall(r"id='([^']+)'", page))
    for ref in re.findall(r"(?:src|href)='([^']+)'", page):
        assert (ref[1:] in ids) if ref.startswith("#") else (out / ref).is_file(), ref
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["align-toy"]["status"] == "completed"
    assert [v["label"] for v in metrics["align-toy"]["verdicts"]] == [
        v.label for v in outcomes[0].verdicts
    ]
    # resumes: nothing retrained
    again = run_demo(out, names=["align-toy"], threads=1, progress=False, overrides=tiny)
    assert again[0].report.metrics == outcomes[0].report.metrics


def test_data_check_images(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    root = tmp_path / "apples2oranges"
    for name in ("trainA", "testA"):
        (root / name).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 6, 3), np.uint8)).save(root / name / "x.png")
    res = _invoke("data", "check", "--images", str(root), env={"COLUMNS": "200"})
    assert res.exit_code == 2
    line = _one_error_line(res)
    assert "trainB is missing" in line and "DIR/trainA/ and DIR/trainB/" in line
    assert "trainA/" in res.stdout and "8x6" in res.stdout
    (root / "trainB").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "trainB" / "y.jpg")
    res = _invoke("data", "check", "--images", str(root), env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "cyclegan" in res.stdout and "L 1" in res.stdout
    (root / "trainB" / "z.png").write_bytes(b"not a png")
    res = _invoke("data", "check", "--images", str(root), env={"COLUMNS": "200"})
    assert res.exit_code == 2 and "z.png: cannot read image" in _one_error_line(res)
    res = _invoke("data", "check", env={"UNPAIRED_DATA": str(tmp_path), "COLUMNS": "250"})
    assert res.exit_code == 0 and "--images DIR" in res.stdout


def test_demo_ends_with_one_row_per_recipe_quiet_or_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unpaired.recipes import RECIPES, runner
    from unpaired.report import Report

    def fake_demo(out: Path, **_: object) -> list:
        done = []
        for name in ("align-toy", "sfm-scenes"):
            report = Report(name, metrics={"linear-dual": {"final_error": 0.05}})
            view = runner.write_run(
                out / name, RECIPES[name], report, {}, status="completed", message=""
            )
            done.append(runner.Outcome(name, out / name, "completed", "", report, view=view))
        return done

    monkeypatch.setattr(runner, "run_demo", fake_demo)
    res = _invoke("demo", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout and "align-toy" in res.stdout and "sfm-scenes" in res.stdout
    assert "1/1 met (2 n/a)" in res.stdout and "n/a" in res.stdout
    quiet = _invoke("demo", "--out", str(tmp_path), "--quiet")
    assert quiet.stdout.splitlines() == [
        "align-toy: 1/1 met (2 n/a)",
        "sfm-scenes: n/a",
        f"report: {tmp_path / 'report.html'} (and report.md)",
    ]
    data = json.loads(_invoke("demo", "--out", str(tmp_path), "--json").stdout)
    assert [d["recipe"] for d in data] == ["align-toy", "sfm-scenes"]
    assert data[0]["verdicts"][2]["status"] == "met" and data[0]["claim"]
