"""Evaluation shared by the method families: batched inference, a classifier that measures
outputs, the image evaluator, curve summaries and the SfM reference baselines."""

from unpaired.evaluation.classifier import ClassifierTask, accuracy
from unpaired.evaluation.curves import (
    ConvergenceSummary,
    CurveSummary,
    curve,
    summarize_convergence,
    summarize_curve,
)
from unpaired.evaluation.images import ImageEvaluator
from unpaired.evaluation.predict import predict
from unpaired.evaluation.sfm import (
    constant_motion_metrics,
    geometric_baseline,
    mean_motion,
    straight_ahead,
)

__all__ = [
    "ClassifierTask",
    "ConvergenceSummary",
    "CurveSummary",
    "ImageEvaluator",
    "accuracy",
    "constant_motion_metrics",
    "curve",
    "geometric_baseline",
    "mean_motion",
    "predict",
    "straight_ahead",
    "summarize_convergence",
    "summarize_curve",
]
