"""Tiny trained runs written by the tests themselves (a few engine steps each)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from unpaired.engine import Task, TrainConfig
from unpaired.engine.session import Session

sys.path.insert(0, str(Path(__file__).parents[1] / "aign"))
from _tiny import image_task, lifting_task, sfm_task


class Fixed:
    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.batch


def train(
    out: Path, models: dict[str, tuple[Task, Any]], *, steps: int = 2, recipe: str = "tiny"
) -> Path:
    """Fit each ``{name: (task, batch)}`` for ``steps`` steps into the run ``out`` (with a
    ``config.yaml`` like a recipe's)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump({"recipe": recipe, "seed": 0, "config": {}}))
    with Session.open(out, progress=False) as s:
        for name, (task, batch) in models.items():
            s.fit(
                name, task, Fixed(batch), TrainConfig(steps=steps, log_every=1, checkpoint_every=1)
            )
    return out


def pose_run(out: Path) -> Path:
    return train(out, {"lifter": lifting_task(prior="mmd")})


def image_run(out: Path) -> Path:
    return train(out, {"sr": image_task("sr"), "inpaint": image_task("inpaint")})


def sfm_run(out: Path) -> Path:
    return train(out, {"sfm": sfm_task()})
