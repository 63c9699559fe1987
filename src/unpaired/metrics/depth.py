"""Depth errors: the AIGN paper's L1 in log depth (Sec. 3.2) plus the usual set.

All metrics are computed per image over its valid pixels and then averaged over images
(the Eigen et al. 2014 / Zhou et al. 2017 convention). Valid pixels: true depth in
``(min_depth, max_depth]`` (default (1e-3, 80] m, the usual KITTI cap; the synthetic
scenes' sky lies far beyond it) and inside ``mask`` when given. Predictions are clamped
to ``[min_depth, max_depth]`` after the optional scaling, as in Zhou et al.'s evaluation.

* ``log_l1``: mean ``|log d_hat - log d|``, the paper's metric. The paper deliberately
  uses no scale oracle, so ``median_scaling`` defaults to False.
* ``abs_rel`` mean ``|d_hat - d| / d``; ``sq_rel`` mean ``(d_hat - d)^2 / d``;
  ``rmse`` ``sqrt(mean (d_hat - d)^2)``; ``log_rmse`` ``sqrt(mean (log d_hat - log d)^2)``;
  ``delta1..3`` fraction of pixels with ``max(d_hat/d, d/d_hat) < 1.25^k``.
* ``median_scaling=True``: each prediction is multiplied by
  ``median(d) / median(d_hat)`` over its valid pixels first (Zhou et al.'s convention for
  monocular methods, which know depth only up to scale). State which one you report.
"""

from __future__ import annotations

import torch

from unpaired._checks import check_shape

DEPTH_METRICS = ("log_l1", "abs_rel", "sq_rel", "rmse", "log_rmse", "delta1", "delta2", "delta3")


def _image_errors(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    log_diff = pred.log() - true.log()
    diff = pred - true
    ratio = torch.maximum(pred / true, true / pred)
    return torch.stack(
        [
            log_diff.abs().mean(),
            (diff.abs() / true).mean(),
            (diff**2 / true).mean(),
            (diff**2).mean().sqrt(),
            (log_diff**2).mean().sqrt(),
            (ratio < 1.25).float().mean(),
            (ratio < 1.25**2).float().mean(),
            (ratio < 1.25**3).float().mean(),
        ]
    )


def depth_errors(
    pred: torch.Tensor,
    true: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    median_scaling: bool = False,
) -> dict[str, torch.Tensor]:
    """Per-image depth errors: pred, true (B, 1, H, W) metres -> dict of (B,) tensors.

    Images without a valid pixel get NaN.
    """
    check_shape("pred", pred, ("B", 1, "H", "W"))
    check_shape("true", true, tuple(pred.shape))
    valid = (true > min_depth) & (true <= max_depth)
    if mask is not None:
        check_shape("mask", mask, tuple(pred.shape))
        valid &= mask.bool()
    rows = []
    for p, t, m in zip(pred.detach(), true, valid, strict=True):
        if not m.any():
            rows.append(torch.full((len(DEPTH_METRICS),), torch.nan))
            continue
        p, t = p[m].double(), t[m].double()
        if median_scaling:
            p = p * (t.median() / p.median())
        rows.append(_image_errors(p.clamp(min_depth, max_depth), t).float())
    table = torch.stack(rows)
    return {name: table[:, i] for i, name in enumerate(DEPTH_METRICS)}


def depth_metrics(
    pred: torch.Tensor,
    true: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    median_scaling: bool = False,
) -> dict[str, float]:
    """:func:`depth_errors` averaged over images (images without valid pixels skipped)."""
    errors = depth_errors(
        pred,
        true,
        mask=mask,
        min_depth=min_depth,
        max_depth=max_depth,
        median_scaling=median_scaling,
    )
    return {k: float(v.nanmean()) for k, v in errors.items()}
