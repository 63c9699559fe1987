"""3D skeleton figures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure

from unpaired._checks import check_shape
from unpaired.data.skeleton import H36M17_JOINTS, H36M17_PARENTS, LEFT_JOINTS, RIGHT_JOINTS


def plot_pose_3d(
    path: str | Path,
    pose: torch.Tensor | None,
    *,
    rig: torch.Tensor | None = None,
    rig_parents: Sequence[int] | None = None,
    title: str = "",
) -> Path:
    """PNG of one pose in the mocap frame (metres, y up, facing +z): a 3D view and a front
    view of the 17-joint ``pose`` (17, 3) (left side blue, right red, each joint named),
    over the file's own skeleton ``rig`` (J, 3) in grey (bones from ``rig_parents``; markers
    as dots when every parent is -1). Either may be None. Written atomically."""
    if pose is None and rig is None:
        raise ValueError("plot_pose_3d needs a pose or a rig")
    if pose is not None:
        check_shape("pose", pose, (len(H36M17_JOINTS), 3))
    if rig is not None:
        check_shape("rig", rig, ("J", 3))
        if rig_parents is not None and len(rig_parents) != rig.shape[0]:
            raise ValueError(
                f"rig_parents has {len(rig_parents)} entries for {rig.shape[0]} joints"
            )
    points = torch.cat([p for p in (pose, rig) if p is not None]).double()
    centre = 0.5 * (points.max(0).values + points.min(0).values)
    half = 0.55 * float((points.max(0).values - points.min(0).values).max()) or 1.0
    fig = Figure(figsize=(10.0, 5.2))
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    ax2 = fig.add_subplot(1, 2, 2)

    def colour(j: int) -> str:
        return "tab:blue" if j in LEFT_JOINTS else "tab:red" if j in RIGHT_JOINTS else "black"

    if rig is not None:
        r = rig.double()
        bones = [(j, p) for j, p in enumerate(rig_parents or ()) if p >= 0]
        for j, p in bones:
            ax2.plot(r[[p, j], 0], r[[p, j], 1], color="0.75", lw=1.0, zorder=1)
            ax3.plot(r[[p, j], 0], r[[p, j], 2], r[[p, j], 1], color="0.75", lw=1.0)
        if not bones:
            ax2.scatter(r[:, 0], r[:, 1], s=6, color="0.6", zorder=1)
            ax3.scatter(r[:, 0], r[:, 2], r[:, 1], s=6, color="0.6")
    if pose is not None:
        q = pose.double()
        for j, p in enumerate(H36M17_PARENTS):
            if p >= 0:
                ax2.plot(q[[p, j], 0], q[[p, j], 1], color=colour(j), lw=2.2, zorder=2)
                ax3.plot(q[[p, j], 0], q[[p, j], 2], q[[p, j], 1], color=colour(j), lw=2.2)
        ax2.scatter(q[:, 0], q[:, 1], s=14, color="black", zorder=3)
        for j, name in enumerate(H36M17_JOINTS):
            ax2.annotate(
                name,
                (float(q[j, 0]), float(q[j, 1])),
                fontsize=6,
                xytext=(3, 2),
                textcoords="offset points",
            )
    ax2.set_xlim(float(centre[0]) - half, float(centre[0]) + half)
    ax2.set_ylim(float(centre[1]) - half, float(centre[1]) + half)
    ax2.set_aspect("equal")
    ax2.set_xlabel("x (m): the person's left")
    ax2.set_ylabel("y (m): up")
    ax2.set_title("front view")
    ax3.set_xlim(float(centre[0]) - half, float(centre[0]) + half)
    ax3.set_ylim(float(centre[2]) - half, float(centre[2]) + half)
    ax3.set_zlim(float(centre[1]) - half, float(centre[1]) + half)
    ax3.set_box_aspect((1.0, 1.0, 1.0))
    ax3.set_xlabel("x")
    ax3.set_ylabel("z (forward)")
    ax3.set_zlabel("y (up)")
    ax3.view_init(elev=12.0, azim=-60.0)
    if title:
        fig.suptitle(title, fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=110, format="png")
    os.replace(tmp, path)
    return path
