from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).with_name("_ddp_script.py")


def _run(out: Path, devices: int, batch: int) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), str(devices), str(batch)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.slow
def test_two_cpu_processes_keep_identical_parameters_and_match_one_process(tmp_path: Path) -> None:
    _run(tmp_path / "ddp", devices=2, batch=16)
    _run(tmp_path / "single", devices=1, batch=32)
    r0 = torch.load(tmp_path / "ddp/rank0.pt")
    r1 = torch.load(tmp_path / "ddp/rank1.pt")
    single = torch.load(tmp_path / "single/rank0.pt")
    assert r0.keys() == r1.keys() == single.keys()
    for k in r0:
        assert torch.equal(r0[k], r1[k]), f"ranks differ in {k}"
        # Two ranks x 16 = the same 32 samples one process draws; averaged gradients agree
        # up to float summation order.
        torch.testing.assert_close(r0[k], single[k], rtol=1e-4, atol=1e-5)
