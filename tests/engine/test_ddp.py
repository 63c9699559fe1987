"""Two CPU processes (gloo): data parallel (ddp) and sharded (fsdp) training."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("_ddp_script.py")


def _run(out: Path, devices: int, batch: int, *options: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), str(devices), str(batch), *options],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def _checkpoint(out: Path) -> dict:
    return torch.load(out / "run/checkpoints/model/last.pt", weights_only=False)


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One process on the global batch of 32 (two ranks x 16 below)."""
    out = tmp_path_factory.mktemp("single")
    _run(out, 1, 32)
    return out


def _assert_ranks_identical_and_close_to(out: Path, single: Path) -> None:
    r0, r1, one = (torch.load(p) for p in (out / "rank0.pt", out / "rank1.pt", single / "rank0.pt"))
    assert r0.keys() == r1.keys() == one.keys()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        # Two ranks x 16 = the same 32 samples one process draws; averaged gradients agree
        # up to float summation order.
        torch.testing.assert_close(r0[k], one[k], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_two_cpu_processes_keep_identical_parameters_and_match_one_process(
    tmp_path: Path, single: Path
) -> None:
    _run(tmp_path, 2, 16)
    _assert_ranks_identical_and_close_to(tmp_path, single)


@pytest.mark.slow
def test_fsdp_matches_one_process_resumes_exactly_and_keeps_the_checkpoint_format(
    tmp_path: Path, single: Path
) -> None:
    _run(tmp_path / "ref", 2, 16, "--strategy", "fsdp")
    _assert_ranks_identical_and_close_to(tmp_path / "ref", single)
    # Checkpoints hold the gathered weights and optimizer states in the standard formats.
    sharded, plain = _checkpoint(tmp_path / "ref"), _checkpoint(single)
    assert sharded.keys() == plain.keys() and sharded["task"].keys() == plain["task"].keys()
    for k, opt in plain["optimizers"].items():
        assert sharded["optimizers"][k]["param_groups"] == opt["param_groups"]
        assert sharded["optimizers"][k]["state"].keys() == opt["state"].keys()
        for i, s in opt["state"].items():
            assert {n: v.shape for n, v in sharded["optimizers"][k]["state"][i].items()} == {
                n: v.shape for n, v in s.items()
            }
    # SIGTERM on rank 0 after step 25: both ranks stop at the next logged step (30) with
    # a checkpoint; resumed, the run ends bitwise-identical to the uninterrupted one.
    _run(tmp_path / "cut", 2, 16, "--strategy", "fsdp", "--fault", "25")
    for r in (0, 1):
        assert json.loads((tmp_path / f"cut/rank{r}.json").read_text()) == {"step": 30}
    _run(tmp_path / "cut", 2, 16, "--strategy", "fsdp", "--resume")
    ref, resumed = _checkpoint(tmp_path / "ref"), _checkpoint(tmp_path / "cut")
    assert resumed["history"] == ref["history"]
    for r in (0, 1):
        a, b = torch.load(tmp_path / f"ref/rank{r}.pt"), torch.load(tmp_path / f"cut/rank{r}.pt")
        assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_a_nan_loss_on_one_rank_stops_every_rank_at_the_same_step(
    tmp_path: Path, strategy: str
) -> None:
    # Only rank 1's loss is NaN (its gradients stay finite): a rank stopping alone would
    # leave the other one waiting in the next collective (the run would hang).
    _run(tmp_path, 2, 16, "--nan", "--strategy", strategy)
    errors = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [e["step"] for e in errors] == [5, 5]
    assert errors[1]["what"] == "generator loss 'logged'"
    assert errors[0]["what"] == "generator loss (on another rank)"
    # Nothing was checkpointed at the failed step (the first checkpoint is due at 20).
    assert not (tmp_path / "run/checkpoints/model/last.pt").exists()
