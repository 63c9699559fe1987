"""Fault injection for tests: signal or kill a training run right after a chosen step.

In-process: ``with fault_at(37, signal.SIGTERM): fit(...)`` installs a hook in the
engine's debug hook list (``unpaired.engine.loop.STEP_HOOKS``) for the block.

As a script, for a real process kill: ``python tests/engine/_faults.py 31:KILL run
align-toy ...`` runs the ``unpaired`` CLI with that fault installed (``K`` alone means
SIGTERM; ``K:INT``, ``K:KILL`` pick the signal).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from unpaired.engine.loop import STEP_HOOKS


def signal_at(step: int, signum: int = signal.SIGTERM) -> Callable[[str, int], None]:
    """A step hook sending ``signum`` to this process after ``step`` (of every fit), rank 0."""

    def hook(name: str, at: int) -> None:
        rank0 = not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0
        if at == step and rank0:
            os.kill(os.getpid(), signum)

    return hook


@contextmanager
def fault_at(step: int, signum: int = signal.SIGTERM) -> Iterator[None]:
    """Send ``signum`` to this process right after step ``step`` of every fit in the block."""
    hook = signal_at(step, signum)
    STEP_HOOKS.append(hook)
    try:
        yield
    finally:
        STEP_HOOKS.remove(hook)


def parse(spec: str) -> tuple[int, int]:
    """``"K"`` / ``"K:TERM"`` / ``"K:INT"`` / ``"K:KILL"`` -> (step, signal number)."""
    step, _, sig = spec.partition(":")
    return int(step), getattr(signal, f"SIG{sig or 'TERM'}")


def main() -> None:
    from unpaired.cli import main as cli

    STEP_HOOKS.append(signal_at(*parse(sys.argv[1])))
    sys.argv = ["unpaired", *sys.argv[2:]]
    cli()


if __name__ == "__main__":
    main()
