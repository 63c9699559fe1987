"""A rich progress bar with step, live losses, steps/s and ETA."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class TrainingProgress:
    """Context manager; ``update(step, losses)`` is cheap (rich refreshes on its own thread)."""

    def __init__(self, name: str, total: int, start: int, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task = None
        self._name = name
        self._total = total
        self._start = start

    def __enter__(self) -> TrainingProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=16),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}"),
                console=Console(stderr=True),
                transient=False,
                refresh_per_second=4,
            )
            self._progress.__enter__()
            name = self._name if len(self._name) <= 18 else self._name[:17] + "…"
            self._task = self._progress.add_task(
                name, total=self._total, completed=self._start, losses="", rate=""
            )
        return self

    def update(
        self, step: int, losses: dict[str, float] | None = None, rate: float | None = None
    ) -> None:
        if self._progress is None:
            return
        fields = {}
        if losses is not None:
            # Only the two players' totals: the full breakdown is in log.jsonl / TensorBoard.
            short = {"gen/total": "G", "critic/total": "C"}
            fields["losses"] = " ".join(
                f"{short[k]}={v:.4g}" for k, v in losses.items() if k in short
            )
        if rate is not None:
            fields["rate"] = f"{rate:.1f} it/s"
        self._progress.update(self._task, completed=step, **fields)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)
