"""A session: several named models trained into one run (one Fabric, one log, one folder).

Every training in the library goes through :meth:`Session.fit`: the recipes (their
:class:`~unpaired.recipes.base.RunContext` is a session), :func:`unpaired.alignment.align`
and the ``unpaired align`` command. A session keeps the fits by name (a name is a
checkpoint folder, so it is used once), resumes each from its checkpoint with
``resume``, seeds each from the run seed and its name unless told otherwise, and stops
the run when the ``deadline`` passes (:class:`BudgetExhausted`, the model checkpointed).

Example:
    >>> import torch
    >>> from unpaired.engine import Task, TensorSampler, TrainConfig
    >>> class Mean(Task):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.m = torch.nn.Parameter(torch.zeros(2))
    ...     def generator_losses(self, batch):
    ...         return {"mse": (batch - self.m).square().mean()}
    >>> with Session.open(progress=False) as s:
    ...     result = s.fit("mean", Mean(), TensorSampler(torch.ones(8, 2), batch_size=4),
    ...                    TrainConfig(steps=5, lr=0.1, log_every=5))
    >>> result.steps, list(s.fits)
    (5, ['mean'])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from lightning_fabric import Fabric

from unpaired.engine.data import BatchSource
from unpaired.engine.logging import RunLogger
from unpaired.engine.loop import FitResult, TrainConfig, fit, make_fabric
from unpaired.engine.rng import mix
from unpaired.engine.task import Task
from unpaired.errors import UnpairedError

__all__ = ["BudgetExhausted", "Session"]


class BudgetExhausted(UnpairedError):
    """The run's ``--max-minutes`` budget ran out; the current model was checkpointed."""

    exit_code = 0

    def __init__(self, model: str, step: int) -> None:
        self.model, self.step = model, step
        super().__init__(
            f"time budget reached at step {step} of '{model}'; checkpoint saved, continue with --resume"
        )


@dataclass
class Session:
    """Named fits into one run directory ``out`` (None: nothing written) on one ``fabric``.

    ``seed``: the run seed (each fit's default seed is mixed from it and the fit's
    name); ``resume``: continue every fit from its checkpoint in ``out``; ``deadline``:
    a ``time.monotonic()`` after which a fit stops and the run raises
    :class:`BudgetExhausted`; ``progress``: show progress bars (None: when a terminal).
    """

    out: Path | None
    fabric: Fabric
    logger: RunLogger
    seed: int = 0
    resume: bool = False
    deadline: float | None = None
    progress: bool | None = None
    fits: dict[str, FitResult] = field(default_factory=dict)

    @classmethod
    @contextmanager
    def open(
        cls,
        out: str | os.PathLike[str] | None = None,
        *,
        seed: int = 0,
        resume: bool = False,
        progress: bool | None = None,
    ) -> Iterator[Session]:
        """A one-process session (one device) writing into ``out``; closes its log at exit."""
        fabric = make_fabric(1)
        fabric.launch()
        path = Path(out) if out is not None else None
        logger = RunLogger(path)
        try:
            yield cls(path, fabric, logger, seed=seed, resume=resume, progress=progress)
        finally:
            logger.close()

    @property
    def is_main(self) -> bool:
        return self.fabric.global_rank == 0

    @property
    def device(self) -> torch.device:
        return self.fabric.device

    def fit(
        self,
        name: str,
        task: Task,
        data: BatchSource,
        config: TrainConfig,
        *,
        seed: int | None = None,
    ) -> FitResult:
        """Train one model of the run with the engine; resumable by ``name``.

        ``seed``: the fit's seed (per-step batches and randomness); default: mixed from
        the session's seed and ``name``, so adding a model leaves the others unchanged.
        """
        if name in self.fits:
            raise ValueError(f"model name '{name}' used twice in one run")
        result = fit(
            task,
            data,
            config,
            name=name,
            out=self.out,
            seed=mix(self.seed, *name.encode()) if seed is None else seed,
            resume=self.resume,
            fabric=self.fabric,
            logger=self.logger,
            deadline=self.deadline,
            progress=self.progress,
        )
        self.fits[name] = result
        if result.stopped == "max_minutes":
            raise BudgetExhausted(name, result.steps)
        return result
