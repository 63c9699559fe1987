"""Figures of guided translation: sources down, guides across (the RIFT slides' grids)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from unpaired._checks import check_shape
from unpaired.viz.images import image_grid


def guided_grid(
    path: str | Path,
    translate: Callable[..., torch.Tensor],
    sources: torch.Tensor,
    guides: torch.Tensor,
    direction: str,
    *,
    title: str = "",
) -> Path:
    """PNG grid: the top row holds the ``guides`` (G, C, H, W), each further row a source
    (first cell, from ``sources`` (S, C, H, W)) and its translations guided by every
    guide, ``translate(x, direction, guide=g)``. Images in [-1, 1]."""
    check_shape("sources", sources, ("S", "C", "H", "W"))
    check_shape("guides", guides, ("G", "C", "H", "W"))
    n = guides.shape[0]
    blank = torch.ones_like(guides[:1])
    rows = [("guide", torch.cat([blank, (guides + 1) / 2]))]
    with torch.no_grad():
        for i, x in enumerate(sources):
            out = translate(x[None].expand(n, -1, -1, -1), direction, guide=guides)
            rows.append((f"source {i}", (torch.cat([x[None], out]) + 1) / 2))
    return image_grid(path, rows, title=title, cell=0.8)
