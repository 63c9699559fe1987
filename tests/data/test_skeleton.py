from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from unpaired.data.skeleton import (
    FROM_CMU_ASF,
    FROM_H36M32,
    H36M17_BONES,
    H36M17_JOINTS,
    H36M17_PARENTS,
    H36M32_JOINTS,
    L_HIP,
    LEFT_JOINTS,
    MAPPINGS,
    MIRROR_PERMUTATION,
    R_HIP,
    RIGHT_JOINTS,
    ROOT,
    bone_lengths,
    bone_vectors,
    forward_kinematics,
    from_bone_vectors,
    map_joints,
    mapping_for,
    mirror,
)
from unpaired.errors import DataError
from unpaired.geometry import euler_to_matrix
from unpaired.metrics import pose as pose_metrics


def test_skeleton_tree_and_symmetry() -> None:
    assert len(H36M17_JOINTS) == 17 and len(H36M17_BONES) == 16
    assert H36M17_PARENTS == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS, strict=True):
        assert H36M17_JOINTS[left].replace("l_", "") == H36M17_JOINTS[right].replace("r_", "")
    perm = torch.tensor(MIRROR_PERMUTATION)
    assert torch.equal(perm[perm], torch.arange(17))
    # Metric defaults (which cannot import data/) agree with the skeleton.
    assert (ROOT, R_HIP, L_HIP) == (0, 1, 4)
    kw = pose_metrics.face_front.__kwdefaults__
    assert (kw["root"], kw["right_hip"], kw["left_hip"]) == (ROOT, R_HIP, L_HIP)


def test_h36m32_mapping_is_videopose3d_selection() -> None:
    poses = torch.randn(2, 32, 3)
    kept = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]
    torch.testing.assert_close(
        map_joints(poses, H36M32_JOINTS, mapping=FROM_H36M32), poses[:, kept]
    )


def test_map_joints_averages_and_reports_missing() -> None:
    names = ["root", *sorted({s for srcs in FROM_CMU_ASF.values() for s in srcs} - {"root"})]
    poses = torch.randn(3, len(names), 3)
    out = map_joints(poses, names, mapping=FROM_CMU_ASF)
    spine = (poses[:, names.index("lowerback")] + poses[:, names.index("upperback")]) / 2
    torch.testing.assert_close(out[:, 7], spine)
    torch.testing.assert_close(out[:, 0], poses[:, 0])
    with pytest.raises(DataError, match="lacks joints"):
        map_joints(poses[:, 1:], names[1:], mapping=FROM_CMU_ASF)


def test_mapping_for_recognises_skeletons() -> None:
    def names(key: str, prefix: str = "") -> list[str]:
        return [prefix + s for srcs in MAPPINGS[key].values() for s in srcs]

    assert mapping_for(names("cmu_asf")) == "cmu_asf"
    assert mapping_for(list(H36M32_JOINTS)) == "h36m32"
    assert mapping_for(names("cmu_asf", "07:")) == "cmu_asf"
    with pytest.raises(DataError, match="no joint mapping"):
        mapping_for(["a", "b"])


def test_mirror_swaps_sides_and_is_an_involution() -> None:
    poses = torch.randn(4, 17, 3)
    m = mirror(poses)
    torch.testing.assert_close(m[:, 4, 0], -poses[:, 1, 0])
    torch.testing.assert_close(mirror(m), poses)


def test_forward_kinematics_hand_computed_parent_vs_own_frame() -> None:
    # chain root -> a -> b, offsets along x; joint a turned 90 deg about z.
    rot = torch.eye(3).repeat(1, 3, 1, 1)
    rot[0, 1] = euler_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    offsets = torch.tensor([[0.0, 0, 0], [1, 0, 0], [1, 0, 0]])
    root = torch.tensor([[0.0, 0.0, 5.0]])
    parent = forward_kinematics(rot, offsets, (-1, 0, 1), root, offset_frame="parent")
    own = forward_kinematics(rot, offsets, (-1, 0, 1), root, offset_frame="own")
    # BVH: a's rotation moves b; ASF: a's rotation moves a's own bone.
    torch.testing.assert_close(
        parent[0], torch.tensor([[0.0, 0, 5], [1, 0, 5], [1, 1, 5]]), atol=1e-6, rtol=0
    )
    torch.testing.assert_close(
        own[0], torch.tensor([[0.0, 0, 5], [0, 1, 5], [0, 2, 5]]), atol=1e-6, rtol=0
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.sampled_from(["parent", "own"]), st.integers(0, 2**31 - 1))
def test_forward_kinematics_keeps_bone_lengths(frames: int, frame: str, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    rot = euler_to_matrix(torch.randn(frames, 17, 3, generator=g, dtype=torch.float64) * 2)
    offsets = torch.randn(17, 3, generator=g, dtype=torch.float64)
    root = torch.randn(frames, 3, generator=g, dtype=torch.float64)
    pos = forward_kinematics(rot, offsets, H36M17_PARENTS, root, offset_frame=frame)  # type: ignore[arg-type]
    torch.testing.assert_close(bone_lengths(pos), offsets[1:].norm(dim=-1).expand(frames, 16))
    torch.testing.assert_close(pos[:, 0], root)


def test_bone_vectors_round_trip_and_bad_parents() -> None:
    poses = torch.randn(5, 17, 3)
    torch.testing.assert_close(from_bone_vectors(bone_vectors(poses)), poses)
    with pytest.raises(ValueError, match="parents"):
        from_bone_vectors(torch.zeros(1, 3, 3), (-1, 2, 0))
    with pytest.raises(ValueError, match="offset_frame"):
        forward_kinematics(
            torch.eye(3).repeat(1, 2, 1, 1),
            torch.zeros(2, 3),
            (-1, 0),
            torch.zeros(1, 3),
            offset_frame="x",
        )  # type: ignore[arg-type]
