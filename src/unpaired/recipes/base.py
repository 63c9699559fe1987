"""What a recipe sees while it runs: the run directory, data, devices and ``fit``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from lightning_fabric import Fabric

from unpaired.data.root import data_dir
from unpaired.engine import FitResult, RunLogger, Task, TrainConfig, fit
from unpaired.engine.data import BatchSource
from unpaired.engine.rng import mix
from unpaired.errors import UnpairedError


class BudgetExhausted(UnpairedError):
    """The run's ``--max-minutes`` budget ran out; the current model was checkpointed."""

    exit_code = 0

    def __init__(self, model: str, step: int) -> None:
        self.model, self.step = model, step
        super().__init__(
            f"time budget reached at step {step} of '{model}'; checkpoint saved, continue with --resume"
        )


@dataclass
class RunContext:
    """Handed to ``recipe.run(cfg, ctx)``."""

    out: Path
    fabric: Fabric
    logger: RunLogger
    seed: int = 0
    quick: bool = False
    resume: bool = False
    data_dir_option: str | None = None
    deadline: float | None = None
    progress: bool | None = None
    fits: dict[str, FitResult] = field(default_factory=dict)

    @property
    def is_main(self) -> bool:
        return self.fabric.global_rank == 0

    @property
    def device(self) -> torch.device:
        return self.fabric.device

    def data_root(self) -> Path:
        """The data directory (``--data-dir``, ``$UNPAIRED_DATA``, ``~/.cache/unpaired``)."""
        return data_dir(self.data_dir_option)

    def generator(self, stream: str) -> torch.Generator:
        """A CPU generator for data synthesis/splits, fixed by the run seed and ``stream``."""
        return torch.Generator().manual_seed(mix(self.seed, *stream.encode()))

    @contextmanager
    def seeded(self, name: str) -> Iterator[None]:
        """Draw torch's global RNG from a stream fixed by the run seed and ``name`` inside
        the block, then restore it: ``with ctx.seeded("aign"): model = Net()`` gives the
        model the same initial weights whichever models the recipe built before it."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(mix(self.seed, *f"init/{name}".encode()))
            yield

    def path(self, name: str) -> Path:
        """A file in the run directory (figures, arrays); parent folders are created."""
        p = self.out / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def fit(self, name: str, task: Task, data: BatchSource, config: TrainConfig) -> FitResult:
        """Train one model of the recipe with the engine; resumable by name."""
        if name in self.fits:
            raise ValueError(f"model name '{name}' used twice in one recipe")
        result = fit(
            task,
            data,
            config,
            name=name,
            out=self.out,
            seed=mix(self.seed, *name.encode()),
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
