"""What a recipe sees while it runs: the run directory, data, devices and ``fit``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from unpaired.data.root import data_dir
from unpaired.engine.rng import mix
from unpaired.engine.session import BudgetExhausted, Session

__all__ = ["BudgetExhausted", "RunContext"]


@dataclass
class RunContext(Session):
    """Handed to ``recipe.run(cfg, ctx)``: a :class:`~unpaired.engine.session.Session`
    (``ctx.fit(name, task, data, config)``, ``ctx.fits``, ``ctx.is_main``) plus the data
    directory, seeded generators and the run folder."""

    out: Path
    quick: bool = False
    data_dir_option: str | None = None

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
