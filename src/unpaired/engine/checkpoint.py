"""Atomic checkpoints: write to a temporary file in the same folder, then rename.

A crash while saving leaves the previous checkpoint untouched; readers never see a
half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from unpaired.errors import UnpairedError


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` to ``path`` atomically (same-directory temp file + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_atomic`, with a clear error if unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # corrupt or truncated file
        raise UnpairedError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from None
