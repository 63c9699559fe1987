"""The training engine: one loop (Lightning Fabric) for every model in the library."""

from unpaired.engine.data import BatchSource, TensorSampler, Unpaired
from unpaired.engine.logging import RunLogger, read_log
from unpaired.engine.loop import FitResult, Interrupted, TrainConfig, fit, make_fabric
from unpaired.engine.rng import seed_everything
from unpaired.engine.task import Task

__all__ = [
    "BatchSource",
    "FitResult",
    "Interrupted",
    "RunLogger",
    "Task",
    "TensorSampler",
    "TrainConfig",
    "Unpaired",
    "fit",
    "make_fabric",
    "read_log",
    "seed_everything",
]
