"""The one 17-joint skeleton of the library (Human3.6M order, as in VideoPose3D), forward
kinematics, and named mappings from fixed skeletons (CMU ASF, 32-joint Human3.6M). BVH and
C3D rigs of any naming are mapped by meaning in :mod:`unpaired.data.rigs`.

Joint order (index: name, parent)::

     0 pelvis      -1        9 neck        8  (H36M "Neck/Nose": top of the neck, chin level)
     1 r_hip        0       10 head        9  (top of the head)
     2 r_knee       1       11 l_shoulder  8
     3 r_ankle      2       12 l_elbow    11
     4 l_hip        0       13 l_wrist    12
     5 l_knee       4       14 r_shoulder  8
     6 l_ankle      5       15 r_elbow    14
     7 spine        0       16 r_wrist    15
     8 thorax       7  (base of the neck, between the shoulders)

Coordinate conventions (all positions in metres):

- **World / mocap frame**: right-handed, **y up**. A person in the canonical orientation
  faces **+z**, so their left side is **+x**. CMU ASF/AMC is natively y up; Human3.6M
  (z up) is converted on load by :mod:`unpaired.data.h36m`, BVH and C3D files by
  :mod:`unpaired.data.mocap` (up axis detected).
- **Camera frame** (used by :mod:`unpaired.renderers.projection` and
  :mod:`unpaired.data.pose2d`): OpenCV convention, x right, **y down**, z forward (depth);
  pixels ``u = f X / Z + c_x``, ``v = f Y / Z + c_y`` (AIGN Eq. 2).

Mappings (:data:`MAPPINGS`) say, for every one of the 17 joints, which source joints it is
taken from: a tuple of source joint names whose positions are averaged (usually one).
Source names are matched after dropping any namespace prefix (``"07:root"`` -> ``"root"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch

from unpaired._checks import check_shape
from unpaired.errors import DataError

H36M17_JOINTS: tuple[str, ...] = (
    "pelvis",
    "r_hip",
    "r_knee",
    "r_ankle",
    "l_hip",
    "l_knee",
    "l_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "r_shoulder",
    "r_elbow",
    "r_wrist",
)
NUM_JOINTS = len(H36M17_JOINTS)
#: Parent of every joint (-1 for the root), the VideoPose3D 17-joint tree.
H36M17_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
#: Bones as (child, parent) pairs, one per non-root joint.
H36M17_BONES: tuple[tuple[int, int], ...] = tuple(
    (j, p) for j, p in enumerate(H36M17_PARENTS) if p >= 0
)
LEFT_JOINTS: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
RIGHT_JOINTS: tuple[int, ...] = (1, 2, 3, 14, 15, 16)
#: Left/right joint pairs (left, right), in the order hip, knee, ankle, shoulder, elbow, wrist.
SYMMETRIC_PAIRS: tuple[tuple[int, int], ...] = tuple(zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True))
#: Index permutation that swaps every left joint with its right twin.
MIRROR_PERMUTATION: tuple[int, ...] = tuple(
    {**{a: b for a, b in SYMMETRIC_PAIRS}, **{b: a for a, b in SYMMETRIC_PAIRS}}.get(j, j)
    for j in range(NUM_JOINTS)
)
ROOT, R_HIP, L_HIP = 0, 1, 4

#: The 32 joints of the original Human3.6M layout (as stored in VideoPose3D's
#: ``data_3d_h36m.npz``); ``*Site``/``*End`` are end effectors.
H36M32_JOINTS: tuple[str, ...] = (
    "Hips",
    "RightUpLeg",
    "RightLeg",
    "RightFoot",
    "RightToeBase",
    "RightToeSite",
    "LeftUpLeg",
    "LeftLeg",
    "LeftFoot",
    "LeftToeBase",
    "LeftToeSite",
    "Spine",
    "Spine1",
    "Neck",
    "Head",
    "HeadSite",
    "LeftShoulder",
    "LeftArm",
    "LeftForeArm",
    "LeftHand",
    "LeftHandThumb",
    "LeftThumbSite",
    "LeftWristEnd",
    "LeftWristSite",
    "RightShoulder",
    "RightArm",
    "RightForeArm",
    "RightHand",
    "RightHandThumb",
    "RightThumbSite",
    "RightWristEnd",
    "RightWristSite",
)


JointMapping = Mapping[str, tuple[str, ...]]


def _mapping(**names: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out = {k: (v,) if isinstance(v, str) else v for k, v in names.items()}
    if tuple(out) != H36M17_JOINTS:
        raise ValueError("a joint mapping must list the 17 joints in order")
    return out


#: CMU Acclaim ASF: a bone's joint is its *end point* (``rfemur`` = right knee); the root is
#: the pelvis. Choices: hip = end of ``*hipjoint`` (start of the femur); spine = midpoint of
#: the ends of ``lowerback`` and ``upperback`` (halfway up the torso, like H36M's Spine1);
#: thorax = end of ``thorax`` (base of the neck, where the clavicles attach); neck = end of
#: ``upperneck`` (chin level, H36M's Neck/Nose); head = end of ``head`` (top of the head);
#: shoulder = end of ``*clavicle``; elbow = end of ``*humerus``; wrist = end of ``*radius``.
FROM_CMU_ASF: JointMapping = _mapping(
    pelvis="root",
    r_hip="rhipjoint",
    r_knee="rfemur",
    r_ankle="rtibia",
    l_hip="lhipjoint",
    l_knee="lfemur",
    l_ankle="ltibia",
    spine=("lowerback", "upperback"),
    thorax="thorax",
    neck="upperneck",
    head="head",
    l_shoulder="lclavicle",
    l_elbow="lhumerus",
    l_wrist="lradius",
    r_shoulder="rclavicle",
    r_elbow="rhumerus",
    r_wrist="rradius",
)

#: 32-joint Human3.6M -> 17: the VideoPose3D selection of indices
#: (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27).
FROM_H36M32: JointMapping = _mapping(
    pelvis="Hips",
    r_hip="RightUpLeg",
    r_knee="RightLeg",
    r_ankle="RightFoot",
    l_hip="LeftUpLeg",
    l_knee="LeftLeg",
    l_ankle="LeftFoot",
    spine="Spine1",
    thorax="Neck",
    neck="Head",
    head="HeadSite",
    l_shoulder="LeftArm",
    l_elbow="LeftForeArm",
    l_wrist="LeftHand",
    r_shoulder="RightArm",
    r_elbow="RightForeArm",
    r_wrist="RightHand",
)

#: Every named mapping; :func:`mapping_for` tries them in this order.
MAPPINGS: dict[str, JointMapping] = {
    "cmu_asf": FROM_CMU_ASF,
    "h36m32": FROM_H36M32,
}


def _strip_namespace(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def mapping_for(joint_names: Sequence[str]) -> str:
    """Name of the first mapping in :data:`MAPPINGS` whose source joints all exist.

    Raises :class:`DataError` when no mapping fits ``joint_names``.
    """
    names = {_strip_namespace(n) for n in joint_names}
    for key, mapping in MAPPINGS.items():
        if all(src in names for sources in mapping.values() for src in sources):
            return key
    raise DataError(
        f"no joint mapping fits a skeleton with joints {sorted(names)[:8]}...; "
        f"known skeletons: {', '.join(MAPPINGS)} (BVH and C3D rigs are matched by meaning: unpaired.data.rigs)"
    )


def map_joints(
    positions: torch.Tensor, joint_names: Sequence[str], *, mapping: JointMapping
) -> torch.Tensor:
    """Positions (*, J_src, D) of a source skeleton (D = 3, or 2 for keypoints) -> (*, 17, D)
    on the H36M-17 skeleton. Each target joint is the mean of its source joints in ``mapping``.
    """
    check_shape("positions", positions, ("*", len(joint_names), "D"))
    index = {_strip_namespace(n): i for i, n in enumerate(joint_names)}
    missing = sorted({s for srcs in mapping.values() for s in srcs if s not in index})
    if missing:
        raise DataError(f"skeleton lacks joints {missing} needed by the mapping")
    return torch.stack(
        [positions[..., [index[s] for s in mapping[j]], :].mean(dim=-2) for j in H36M17_JOINTS],
        dim=-2,
    )


def bone_vectors(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS) -> torch.Tensor:
    """Poses (*, J, 3) -> vectors parent->child (*, J, 3); the root's entry (index 0) is its
    position."""
    check_shape("poses", poses, ("*", len(parents), 3))
    _check_parents(parents)
    index = torch.tensor([max(p, 0) for p in parents], device=poses.device)
    vectors = poses - poses[..., index, :]
    return torch.cat([poses[..., :1, :], vectors[..., 1:, :]], dim=-2)


def from_bone_vectors(
    vectors: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS
) -> torch.Tensor:
    """Inverse of :func:`bone_vectors`: (*, J, 3) bone vectors -> (*, J, 3) positions.

    ``parents`` must be topologically ordered (every parent before its children).
    """
    check_shape("vectors", vectors, ("*", len(parents), 3))
    _check_parents(parents)
    positions: list[torch.Tensor] = []
    for j, p in enumerate(parents):
        v = vectors[..., j, :]
        positions.append(v if j == 0 else positions[p] + v)
    return torch.stack(positions, dim=-2)


def bone_lengths(poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS) -> torch.Tensor:
    """Poses (*, J, 3) -> lengths (*, J - 1) of the bone ending at every non-root joint."""
    return bone_vectors(poses, parents)[..., 1:, :].norm(dim=-1)


def mirror(poses: torch.Tensor, *, axis: int = 0) -> torch.Tensor:
    """Mirror H36M-17 poses (*, 17, 3): negate coordinate ``axis`` and swap left/right joints."""
    check_shape("poses", poses, ("*", NUM_JOINTS, 3))
    sign = torch.ones(3, dtype=poses.dtype, device=poses.device)
    sign[axis] = -1.0
    return poses[..., list(MIRROR_PERMUTATION), :] * sign


def _check_parents(parents: Sequence[int]) -> None:
    if not parents or parents[0] != -1 or any(not 0 <= p < j for j, p in enumerate(parents) if j):
        raise ValueError(
            f"parents must hold one root (-1) at index 0 and list every parent before its "
            f"children, got {tuple(parents)}"
        )


def forward_kinematics(
    local_rotations: torch.Tensor,
    offsets: torch.Tensor,
    parents: Sequence[int],
    root_position: torch.Tensor,
    *,
    offset_frame: Literal["parent", "own"] = "parent",
) -> torch.Tensor:
    """Joint positions from local rotations, vectorized over frames.

    Args:
        local_rotations: (T, J, 3, 3) rotation of every joint relative to its parent.
        offsets: (J, 3) or (T, J, 3) rest offset of every joint from its parent (the
            root's entry is ignored).
        parents: J parent indices, -1 for the root (index 0), parents before children.
        root_position: (T, 3) position of the root joint.
        offset_frame: ``"parent"`` (BVH: ``p_j = p_parent + G_parent @ offset_j``) or
            ``"own"`` (Acclaim ASF, a joint is the end of its bone:
            ``p_j = p_parent + G_j @ offset_j``), with ``G_j = G_parent @ local_j``.

    Returns:
        (T, J, 3) positions. Rotations keep ``|p_j - p_parent| = |offset_j|`` in every frame.
    """
    if offset_frame not in ("parent", "own"):
        raise ValueError(f"offset_frame must be 'parent' or 'own', got {offset_frame!r}")
    _check_parents(parents)
    n = len(parents)
    check_shape("local_rotations", local_rotations, ("T", n, 3, 3))
    check_shape("root_position", root_position, (local_rotations.shape[0], 3))
    if offsets.dim() == 2:
        check_shape("offsets", offsets, (n, 3))
        offsets = offsets.expand(local_rotations.shape[0], n, 3)
    check_shape("offsets", offsets, (local_rotations.shape[0], n, 3))
    own = offset_frame == "own"
    glob: list[torch.Tensor] = []
    pos: list[torch.Tensor] = []
    for j, p in enumerate(parents):
        if j == 0:
            glob.append(local_rotations[:, j])
            pos.append(root_position)
            continue
        glob.append(glob[p] @ local_rotations[:, j])
        frame = glob[j] if own else glob[p]
        pos.append(pos[p] + (frame @ offsets[:, j, :, None])[..., 0])
    return torch.stack(pos, dim=1)
