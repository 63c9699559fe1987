"""Output folders written whole or not at all, and the progress bar of ``predict``."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from unpaired.errors import DataError


@contextmanager
def atomic_dir(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder next to ``out``; on success it becomes ``out``, on any
    error it is removed (``out`` untouched). An ``out`` that exists must be empty."""
    final = Path(out)
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise DataError(f"--out {final} already exists and is not empty; choose another folder")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        if final.exists():
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class Bar:
    """``with Bar("poses", total, enabled) as bar: bar.advance(n)``."""

    def __init__(self, what: str, total: int | None, *, enabled: bool) -> None:
        self.what, self.total, self.enabled = what, total, enabled
        self._progress: Progress | None = None
        self._task = None

    def __enter__(self) -> Bar:
        if self.enabled:
            self._progress = Progress(
                TextColumn(f"[bold]{self.what}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                refresh_per_second=4,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.what, total=self.total)
        return self

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
