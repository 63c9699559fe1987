"""Scalar logging for a run: ``log.jsonl`` (one JSON row per logged step) + TensorBoard.

Rows carry the model name and step; keys under ``time/`` are wall-clock figures that
differ between otherwise identical runs, everything else is reproducible.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TIME_PREFIX = "time/"


class RunLogger:
    """Appends rows to ``<out>/log.jsonl`` and ``<out>/tb`` (TensorBoard), on rank 0 only."""

    def __init__(self, out: Path | None, *, enabled: bool = True, tensorboard: bool = True) -> None:
        self.out = out
        self.enabled = enabled and out is not None
        self._tensorboard = tensorboard
        self._writer: Any = None

    @property
    def path(self) -> Path | None:
        return None if self.out is None else self.out / "log.jsonl"

    def truncate(self, model: str, after_step: int) -> None:
        """Drop rows of ``model`` logged after ``after_step`` (before resuming from it)."""
        if not self.enabled or self.path is None or not self.path.exists():
            return
        kept = []
        for line in self.path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("model") == model and row.get("step", 0) > after_step:
                continue
            kept.append(line)
        self.path.write_text("".join(k + "\n" for k in kept))

    def log(self, model: str, step: int, scalars: dict[str, float]) -> None:
        if not self.enabled:
            return
        assert self.out is not None and self.path is not None
        self.out.mkdir(parents=True, exist_ok=True)
        row = {"model": model, "step": step}
        row.update({k: (v if math.isfinite(v) else str(v)) for k, v in scalars.items()})
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        if self._tensorboard:
            writer = self._tb()
            for k, v in scalars.items():
                if not k.startswith(TIME_PREFIX):
                    writer.add_scalar(f"{model}/{k}", v, step)

    def _tb(self) -> Any:
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter  # slow import: only when used

            assert self.out is not None
            self._writer = SummaryWriter(log_dir=str(self.out / "tb"))
        return self._writer

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_log(path: Path) -> list[dict[str, Any]]:
    """All rows of a ``log.jsonl``."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
