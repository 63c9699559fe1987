"""`unpaired align`: outputs, resume, the LRMF warning, and one-line errors (exit 2)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from unpaired.cli import app

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from _faults import fault_at

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args))


def _one_error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def clouds(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(150, 2)).astype(np.float32)
    b = (rng.normal(size=(150, 2)) * 0.5 + [4.0, -2.0]).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    np.savetxt(tmp_path / "b.csv", b, delimiter=",", header="x,y", comments="")
    return tmp_path / "a.npy", tmp_path / "b.csv"


def test_align_writes_outputs_and_resumes(clouds: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = clouds
    out = tmp_path / "run"

    def args(steps: str = "40") -> list[str]:
        return [
            "align",
            str(a),
            str(b),
            "--distance",
            "mmd",
            "--steps",
            steps,
            "--lr",
            "0.02",
            "--out",
            str(out),
            "--no-progress",
        ]

    res = _invoke(*args())
    assert res.exit_code == 0, res.output
    aligned = np.load(out / "aligned.npy")
    assert aligned.shape == (150, 2) and aligned.dtype == np.float32
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["distance"] == "mmd" and metrics["steps"] == 40 and metrics["warning"] is None
    assert metrics["final_distance"] < metrics["initial_distance"]
    assert metrics["distance_curve"][-1][0] == 40
    assert (out / "distance.png").read_bytes()[:4] == b"\x89PNG"
    assert "d(T(A), B) =" in res.stdout

    again = _invoke(*args())
    assert again.exit_code == 2 and "--resume" in _one_error_line(again)
    resumed = _invoke(*args(), "--resume")
    assert resumed.exit_code == 0, resumed.output
    np.testing.assert_array_equal(np.load(out / "aligned.npy"), aligned)
    changed = _invoke(*args("50"), "--resume")
    assert changed.exit_code == 2 and "steps: 40 -> 50" in _one_error_line(changed)


def test_lrmf_failure_signal_warns(clouds: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = clouds  # far apart; one step cannot align them
    out = tmp_path / "lrmf"
    res = _invoke(
        "align",
        str(a),
        str(b),
        "--distance",
        "gaussian-lrmf",
        "--steps",
        "1",
        "--out",
        str(out),
        "--no-progress",
    )
    assert res.exit_code == 0, res.output
    assert "WARNING: final LRMF value" in res.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final_lrmf_nats"] > 0.1 and "far from 0" in metrics["warning"]


def _valid_target(d: Path) -> None:
    """A well-formed TARGET (10 samples, 2 features): the error must come from the options."""
    np.save(d / "t.npy", np.zeros((10, 2)))


@pytest.mark.parametrize(
    "make,extra,needle",
    [
        (
            lambda d: np.save(d / "t.npy", np.zeros((10, 3))),
            [],
            "has 2 features per sample but TARGET",
        ),
        (lambda d: None, [], "no such file"),
        (lambda d: (d / "t.npy").write_text("garbage"), [], "not a readable .npy array"),
        (lambda d: np.save(d / "t.npy", np.zeros((1, 2))), [], "needs at least 2 samples"),
        (_valid_target, ["--distance", "flow-lrmf", "--transform", "mlp"], "use --transform flow"),
        (_valid_target, ["--distance", "kl"], "unknown distance 'kl'"),
        (_valid_target, ["--transform", "rigid"], "unknown transform 'rigid'"),
        (_valid_target, ["--warn-above", "-1"], "--warn-above must be >= 0"),
        (_valid_target, ["--identity-weight", "-1"], "--identity-weight must be >= 0"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    clouds: tuple[Path, Path], tmp_path: Path, make, extra: list[str], needle: str
) -> None:
    a, _ = clouds
    make(tmp_path)
    opts = extra if "--distance" in extra else ["--distance", "mean", *extra]
    res = _invoke("align", str(a), str(tmp_path / "t.npy"), *opts, "--out", str(tmp_path / "never"))
    assert res.exit_code == 2
    assert needle in _one_error_line(res)
    assert not (tmp_path / "never").exists()


def test_help_lists_every_distance_and_transform() -> None:
    res = runner.invoke(app, ["align", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    from unpaired.recipes._names import ALIGNMENT_DISTANCES as DISTANCES
    from unpaired.recipes._names import TRANSFORMS

    text = " ".join(res.stdout.split()).replace("- ", "-")
    for name in (*DISTANCES, *TRANSFORMS):
        assert name in text, name


def test_interrupted_alignment_resumes_bitwise_identical(
    clouds: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = clouds
    cmd = ["align", str(a), str(b), "--distance", "adversarial", "--steps", "40", "--no-progress"]
    ref = _invoke(*cmd, "--out", str(tmp_path / "ref"))
    assert ref.exit_code == 0, ref.output
    # SIGTERM to this very process right after step 25 (after the step-20 checkpoint): the
    # engine's handler turns it into the one-line "interrupted" error, exit 128 + 15.
    with fault_at(25, signal.SIGTERM):
        killed = _invoke(*cmd, "--out", str(tmp_path / "run"))
    assert killed.exit_code == 143 and "continue with --resume" in killed.stderr
    resumed = _invoke(*cmd, "--out", str(tmp_path / "run"), "--resume")
    assert resumed.exit_code == 0, resumed.output
    np.testing.assert_array_equal(
        np.load(tmp_path / "ref/aligned.npy"), np.load(tmp_path / "run/aligned.npy")
    )
    ma = json.loads((tmp_path / "ref/metrics.json").read_text())
    mb = json.loads((tmp_path / "run/metrics.json").read_text())
    assert ma["distance_curve"] == mb["distance_curve"]


def test_the_command_draws_t_then_d_from_its_seed(
    clouds: tuple[Path, Path], tmp_path: Path
) -> None:
    """``unpaired align`` = seed, build T, build d, then align (the order its numbers
    were made with: T and the critic both draw from the seeded global RNG)."""
    import torch

    from unpaired.alignment import align
    from unpaired.engine import seed_everything
    from unpaired.recipes._names import alignment_distance, make_transform

    a, b = clouds
    opts = ["--distance", "wgan-gp", "--transform", "mlp", "--steps", "5", "--seed", "3"]
    res = _invoke("align", str(a), str(b), *opts, "--out", str(tmp_path / "r"), "--no-progress")
    assert res.exit_code == 0, res.output
    seed_everything(3)
    t = make_transform("mlp", 2)
    d = alignment_distance("wgan-gp", 2)
    src = torch.from_numpy(np.load(a))
    tgt = torch.from_numpy(np.loadtxt(b, delimiter=",", skiprows=1))
    by_hand = align(src, tgt, distance=d, transform=t, steps=5, seed=3, progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "r" / "aligned.npy"), by_hand.aligned.numpy())
