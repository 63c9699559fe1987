from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unpaired.engine import checkpoint as ckpt
from unpaired.errors import UnpairedError


class _Boom:
    def __reduce__(self):
        raise RuntimeError("disk full")


def test_failed_save_keeps_previous_checkpoint_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    ckpt.save_atomic({"step": 1}, path)
    with pytest.raises(RuntimeError, match="disk full"):
        ckpt.save_atomic({"step": 2, "x": _Boom()}, path)
    assert ckpt.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    ckpt.save_atomic({"w": torch.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(UnpairedError, match=r"cannot read checkpoint .*last\.pt"):
        ckpt.load(path)
