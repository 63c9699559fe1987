"""3D skeleton figures: predicted poses over the truth, torso-aligned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from unpaired._checks import check_shape
from unpaired.data.skeleton import H36M17_BONES
from unpaired.geometry import face_front
from unpaired.viz._figure import new_figure, save


def plot_skeletons(
    path: str | Path,
    predictions: Mapping[str, torch.Tensor],
    target: torch.Tensor,
    frames: Sequence[int],
    *,
    title: str = "",
    bones: Sequence[tuple[int, int]] = H36M17_BONES,
    extent: float = 0.9,
) -> Path:
    """PNG: for each frame (rows) and model (columns, ``{name: (N, J, 3) poses}``), the
    predicted skeleton (colour) over the true one ``target`` (N, J, 3) (black), both
    torso-aligned (:func:`~unpaired.geometry.face_front`: root-centred, facing the
    viewer). Poses are camera-frame metres (x right, y down, z forward); the axes span
    ``[-extent, extent]`` m."""
    check_shape("target", target, ("N", "J", 3))
    for name, pred in predictions.items():
        check_shape(f"predictions[{name!r}]", pred, tuple(target.shape))
    index = list(frames)
    truth = face_front(target[index])
    fig = new_figure(3.0 * len(predictions), 3.0 * len(index))
    for c, (name, pred) in enumerate(predictions.items()):
        aligned = face_front(pred[index])
        for r in range(len(index)):
            ax = fig.add_subplot(
                len(index), len(predictions), r * len(predictions) + c + 1, projection="3d"
            )
            for pose, color in ((truth[r], "k"), (aligned[r], f"C{c}")):
                for j, p in bones:
                    # camera frame (x right, y down, z forward) -> plot x, depth, up
                    xs, ys, zs = pose[[j, p], 0], pose[[j, p], 2], -pose[[j, p], 1]
                    ax.plot(xs, ys, zs, color=color, lw=1.5)
            ax.set_xlim(-extent, extent)
            ax.set_ylim(-extent, extent)
            ax.set_zlim(-extent, extent)
            ax.view_init(elev=10, azim=-60)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_zticks([])
            if r == 0:
                ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path, dpi=90)
