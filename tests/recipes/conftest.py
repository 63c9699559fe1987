"""Fixtures of the recipe tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from unpaired.recipes.base import RunContext


@pytest.fixture
def data_ctx(shared_data: Path, tmp_path: Path) -> RunContext:
    """A RunContext for the data side of a recipe (``data_root``, ``generator``, ``path``,
    ``seeded``) on the real data, seed 0; it has no Fabric, so it cannot ``fit``."""
    return RunContext(
        out=tmp_path,
        fabric=None,  # type: ignore[arg-type]
        logger=None,  # type: ignore[arg-type]
        data_dir_option=str(shared_data),
    )
