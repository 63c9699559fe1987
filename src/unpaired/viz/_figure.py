"""A new figure and an atomic save: the two things every plotting function needs."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches, with no backend or pyplot state."""
    return Figure(figsize=(width, height))


def save(fig: Figure, path: str | Path, *, dpi: int) -> Path:
    """Write ``fig`` to ``path`` (format from its suffix, e.g. ``.png``) through a temporary
    file and a rename, so a reader never sees half a figure; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    os.replace(tmp, path)
    return path
