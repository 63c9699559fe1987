"""Use what a run trained: apply its models to files (``unpaired predict``), export them
(``unpaired export``) and list runs (``unpaired runs``).

The models themselves are loaded by :func:`unpaired.load` (:mod:`unpaired.engine.records`).
"""

from unpaired.inference.keypoints import read_keypoints
from unpaired.inference.predict import PREDICTORS, predict_files

__all__ = ["PREDICTORS", "predict_files", "read_keypoints"]
