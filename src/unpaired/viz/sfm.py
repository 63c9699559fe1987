"""Structure-from-motion figures: depth maps and geometric flow (AIGN Fig. 4)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from unpaired.data.flow import PairSet
from unpaired.models.sfm import motion_from_vector
from unpaired.renderers.rigid_warp import rigid_flow
from unpaired.viz._figure import new_figure, save
from unpaired.viz.flow import flow_to_rgb


def plot_depth_and_flow(
    path: str | Path,
    pairs: PairSet,
    indices: Sequence[int],
    predictions: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    title: str = "",
    depth_range: tuple[float, float] = (2.0, 100.0),
    log_depth_range: tuple[float, float] = (-5.0, 10.0),
) -> Path:
    """PNG, one row per pair ``indices``: frame I1, the true depth, each model's predicted
    depth, the true rigid flow and each model's geometric flow (from its depth and motion,
    :func:`~unpaired.renderers.rigid_warp.rigid_flow`).

    ``predictions``: ``{model: (log_depth (N, 1, H, W), motion (N, 6))}`` on ``pairs``;
    log depth is clamped to ``log_depth_range`` before the flow is computed. Depth maps
    share one log colour scale over ``depth_range`` metres, flows one magnitude scale
    (the 95th percentile of the true flow).
    """
    idx = torch.tensor(list(indices))
    true_flow, _ = rigid_flow(
        pairs.depth[idx], pairs.rotation[idx], pairs.translation[idx], pairs.intrinsics
    )
    flows = {}
    for name, (log_depth, motion) in predictions.items():
        rot, trans = motion_from_vector(motion[idx])
        depth = log_depth[idx].clamp(*log_depth_range).exp()
        flows[name] = rigid_flow(depth, rot, trans, pairs.intrinsics)[0]
    max_norm = max(float(true_flow.norm(dim=1).flatten().quantile(0.95)), 1e-6)
    names = list(predictions)
    columns = ["frame I1", "true depth", *[f"depth: {n}" for n in names], "true flow"]
    columns += [f"flow: {n}" for n in names]
    fig = new_figure(2.3 * len(columns), 1.0 * len(idx) + 0.6)
    axes = fig.subplots(len(idx), len(columns), squeeze=False)
    lo, hi = math.log(depth_range[0]), math.log(depth_range[1])
    for row, i in enumerate(idx.tolist()):
        images = [pairs.frame1[i].permute(1, 2, 0), pairs.depth[i, 0].log()]
        images += [predictions[n][0][i, 0] for n in names]
        images += [flow_to_rgb(true_flow[row], max_norm)]
        images += [flow_to_rgb(flows[n][row], max_norm) for n in names]
        for col, image in enumerate(images):
            ax = axes[row, col]
            is_depth = 1 <= col <= 1 + len(names)
            shown = (image.clamp(lo, hi) if is_depth else image).detach().numpy()
            ax.imshow(shown, cmap="magma_r", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save(fig, path, dpi=120)
