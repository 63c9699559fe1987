"""Figure of one multi-view sample: every view's 2D (input and annotation) and the 3D of
each method against the truth."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from unpaired._checks import check_shape
from unpaired.data.skeleton import H36M17_BONES, LEFT_JOINTS, RIGHT_JOINTS
from unpaired.viz._figure import new_figure, save


def _colour(j: int) -> str:
    return "tab:blue" if j in LEFT_JOINTS else "tab:red" if j in RIGHT_JOINTS else "0.2"


def plot_multiview_sample(
    path: str | Path,
    inputs: torch.Tensor,
    annotation: torch.Tensor,
    estimates: Mapping[str, torch.Tensor],
    truth: torch.Tensor,
    *,
    title: str = "",
) -> Path:
    """PNG: top row, each view's input 2D ``inputs`` (C, J, 2) (colour; left blue, right
    red) over the exact 2D ``annotation`` (C, J, 2) (grey), image axes (y down); bottom
    row, each method's 3D ``{name: (J, 3)}`` (colour) over ``truth`` (J, 3) (black),
    both in the reference camera's frame (x right, y down, z forward; pass estimates
    already aligned to the truth, e.g. by Procrustes)."""
    check_shape("inputs", inputs, ("C", "J", 2))
    check_shape("annotation", annotation, tuple(inputs.shape))
    check_shape("truth", truth, (inputs.shape[1], 3))
    views, n = inputs.shape[0], len(estimates)
    cols = max(views, n)
    fig = new_figure(2.6 * cols, 5.4)
    for c in range(views):
        ax = fig.add_subplot(2, cols, c + 1)
        for j, p in H36M17_BONES:
            ax.plot(annotation[c, [j, p], 0], annotation[c, [j, p], 1], color="0.7", lw=3)
            ax.plot(inputs[c, [j, p], 0], inputs[c, [j, p], 1], color=_colour(j), lw=1.3)
        ax.invert_yaxis()
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"view {c}", fontsize=8)
    t = truth.double()
    for k, (name, pose) in enumerate(estimates.items()):
        check_shape(f"estimates[{name!r}]", pose, tuple(truth.shape))
        ax = fig.add_subplot(2, cols, cols + k + 1, projection="3d")
        q = pose.double()
        for j, p in H36M17_BONES:
            ax.plot(t[[j, p], 0], t[[j, p], 2], -t[[j, p], 1], color="k", lw=1.0)
            ax.plot(q[[j, p], 0], q[[j, p], 2], -q[[j, p], 1], color=_colour(j), lw=1.6)
        centre = t.mean(0)
        for axis, i in ((ax.set_xlim, 0), (ax.set_ylim, 2)):
            axis(float(centre[i]) - 1.0, float(centre[i]) + 1.0)
        ax.set_zlim(-float(centre[1]) - 1.0, -float(centre[1]) + 1.0)
        ax.view_init(elev=10, azim=-70)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        ax.set_title(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, path, dpi=90)
