"""Shared fixtures.

``shared_data`` is the real development data (``$UNPAIRED_DATA``, else ``../shared/data``
beside the repository). CI sets ``UNPAIRED_DATA``; tests that need it skip elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# Tests use tiny models: one intra-op thread is fastest and immune to a busy machine
# (subprocesses started by tests inherit it).
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def _shared_data() -> Path | None:
    env = os.environ.get("UNPAIRED_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand.resolve()
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = _shared_data()
    if root is None:
        pytest.skip("real development data not found (set UNPAIRED_DATA)")
    return root


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _every_run_table_says_its_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every recipe run in the tests fails when one of its report's tables has a column
    of numbers whose unit nothing states (``unpaired.report.missing_units``; add the
    column's name to ``unpaired.report.UNITS``, or write its unit into the name)."""
    from unpaired.recipes import runner
    from unpaired.report import missing_units

    write = runner.write_report

    def checked(out, name, report, data, claims):
        missing = {t.title: m for t in report.tables if (m := missing_units(t))}
        assert missing == {}, f"{name}: columns of numbers without a unit: {missing}"
        return write(out, name, report, data, claims)

    monkeypatch.setattr(runner, "write_report", checked)
