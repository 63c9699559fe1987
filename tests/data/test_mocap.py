from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unpaired.data.mocap import (
    INCH,
    list_takes,
    load_bvh,
    load_subject,
    load_take,
    parse_amc,
    parse_asf,
)
from unpaired.data.skeleton import bone_lengths
from unpaired.errors import DataError, DataNotFoundError

U = INCH / 0.45  # metres per ASF unit with ``length 0.45``

ASF = """# tiny test skeleton
:version 1.10
:name TEST
:units
  mass 1.0
  length 0.45
  angle deg
:documentation
   hand written for the tests
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name hip
     direction 1 0 0
     length 2
     axis 0 0 0 XYZ
  end
  begin
     id 2
     name thigh
     direction 0 -1 0
     length 4.5
     axis 0 0 0 XYZ
    dof rx ry rz
    limits (-160.0 20.0)
           (-70.0 70.0)
           (-60.0 70.0)
  end
  begin
     id 3
     name shin
     direction 0 -1 0
     length 4.5
     axis 0 0 90 XYZ   # local frame turned about z
    dof rz rx
    limits (-10 170) (-20 20)
  end
:hierarchy
  begin
    root hip
    hip thigh
    thigh shin
  end
"""

FRAMES = [
    ("0 0 0 0 0 0", "0 0 0", "0 0"),
    ("1 2 3 0 90 0", "90 0 0", "0 90"),
    ("0 0 0 0 0 0", "0 0 0", "90 90"),
]


def amc_text(
    frames: list[tuple[str, str, str]] = FRAMES, *, header: str = ":FULLY-SPECIFIED\n:DEGREES\n"
) -> str:
    lines = ["#!OML:ASF test.asf", *header.splitlines()]
    for k, (root, thigh, shin) in enumerate(frames, start=1):
        lines += [str(k), f"root {root}", f"thigh {thigh}", f"shin {shin}"]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str, *, crlf: bool = True) -> Path:
    path.write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode())
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "t.asf", ASF), write(tmp_path / "t.amc", amc_text())


def test_asf_parse_units_limits_and_order(tiny: tuple[Path, Path]) -> None:
    skel = parse_asf(tiny[0])
    assert skel.joint_names == ("root", "hip", "thigh", "shin")
    assert skel.parents == (-1, 0, 1, 2)
    assert skel.metres_per_unit == pytest.approx(U)
    assert skel.bones["thigh"].limits == ((-160.0, 20.0), (-70.0, 70.0), (-60.0, 70.0))
    assert skel.bones["shin"].dof == ("rz", "rx")
    assert skel.bones["shin"].axis == pytest.approx((0.0, 0.0, math.pi / 2))


def test_asf_amc_forward_kinematics_hand_computed(tiny: tuple[Path, Path]) -> None:
    motion = load_take(*tiny, fps=None)
    expected = U * torch.tensor(
        [
            # rest: bones along their directions
            [[0, 0, 0], [2, 0, 0], [2, -4.5, 0], [2, -9, 0]],
            # root at (1,2,3), turned 90 deg about y; thigh flexed 90 deg about x
            [[1, 2, 3], [1, 2, 1], [-3.5, 2, 1], [-8, 2, 1]],
            # shin: rz=90 applied first, then rx=90, in the frame C = Rz(90)
            [[0, 0, 0], [2, 0, 0], [2, -4.5, 0], [2, -4.5, -4.5]],
        ]
    )
    torch.testing.assert_close(motion.positions, expected.float(), atol=1e-6, rtol=0)
    assert motion.fps == 120.0


def test_lf_and_crlf_parse_the_same(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    asf = write(tmp_path / "lf.asf", ASF, crlf=False)
    amc = write(tmp_path / "lf.amc", amc_text(), crlf=False)
    torch.testing.assert_close(load_take(asf, amc).positions, load_take(*tiny).positions)


def test_irregular_layout_matches_regular(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    # Same data, bones listed in another order in frame 2 and a comment: the line parser.
    text = amc_text().replace(
        "2\nroot 1 2 3 0 90 0\nthigh 90 0 0\n", "2\n# comment\nthigh 90 0 0\nroot 1 2 3 0 90 0\n"
    )
    irregular = write(tmp_path / "irr.amc", text)
    torch.testing.assert_close(
        load_take(tiny[0], irregular, fps=None).positions, load_take(*tiny, fps=None).positions
    )


def test_not_fully_specified_keeps_previous_values(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    text = amc_text(header=":DEGREES\n").replace(
        "2\nroot 1 2 3 0 90 0\nthigh 90 0 0\nshin 0 90\n", "2\n"
    )
    values, degrees = parse_amc(write(tmp_path / "p.amc", text), parse_asf(tiny[0]))
    assert degrees
    assert values["root"].shape == (3, 6)
    np.testing.assert_array_equal(values["thigh"][1], values["thigh"][0])
    np.testing.assert_array_equal(values["shin"][2], [90, 90])


def test_radians_header_overrides_asf_degrees(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    frames = [(f"0 0 0 0 {math.pi / 2} 0", "0 0 0", "0 0")]
    amc = write(tmp_path / "r.amc", amc_text(frames, header=":FULLY-SPECIFIED\n:RADIANS\n"))
    pos = load_take(tiny[0], amc, fps=None).positions[0]
    torch.testing.assert_close(pos[1], U * torch.tensor([0.0, 0.0, -2.0]), atol=1e-6, rtol=0)


def test_subsampling_keeps_every_fourth_frame(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    frames = [(f"0 {k} 0 0 0 0", f"{k} 0 0", "0 0") for k in range(10)]
    amc = write(tmp_path / "s.amc", amc_text(frames))
    full = load_take(tiny[0], amc, fps=None)
    sub = load_take(tiny[0], amc)  # 30 of 120 fps
    assert sub.fps == 30.0 and sub.positions.shape[0] == 3
    torch.testing.assert_close(sub.positions, full.positions[::4])


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.rsplit("\n", 3)[0] + "\n", 12, "lists 1 of 3 bones"),  # truncated last frame
        (lambda t: t.replace("thigh 90 0 0", "thigh 90 zero 0"), 10, "expected numbers"),
        (lambda t: t.replace("thigh 90 0 0", "thigh 90 0"), 10, "expected 3 numbers"),
        (lambda t: t.replace("shin 0 90", "tail 0 90"), 11, "unknown bone 'tail'"),
        (lambda t: t.replace("\n3\n", "\n5\n"), 12, "frame 5 follows frame 2"),
    ],
)
def test_corrupt_amc_names_file_and_line(
    tmp_path: Path, tiny: tuple[Path, Path], edit, line: int, message: str
) -> None:
    bad = write(tmp_path / "bad.amc", edit(amc_text()))
    with pytest.raises(DataError) as err:
        load_take(tiny[0], bad)
    assert f"bad.amc, line {line}:" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            lambda t: t.replace("    limits (-10 170) (-20 20)", "    limits (-10 170)"),
            34,
            "2 dofs but 1 limits",
        ),
        (
            lambda t: t.replace(
                "     length 4.5\n     axis 0 0 90", "     length 4.5 4\n     axis 0 0 90"
            ),
            38,
            "expected 1 numbers",
        ),
        (lambda t: t.replace("    thigh shin", "    thigh knee"), 47, "unknown bone 'knee'"),
        (lambda t: t.replace("    dof rz rx", "    dof rz tx"), 40, "only distinct rx ry rz"),
        (lambda t: t.split(":hierarchy")[0].rsplit("  end", 1)[0], 34, "bone without 'end'"),
    ],
)
def test_corrupt_asf_names_file_and_line(tmp_path: Path, edit, line: int, message: str) -> None:
    bad = write(tmp_path / "bad.asf", edit(ASF))
    with pytest.raises(DataError) as err:
        parse_asf(bad)
    assert f"bad.asf, line {line}:" in str(err.value)
    assert message in str(err.value)


def test_missing_and_binary_files(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    with pytest.raises(DataNotFoundError, match=r"nope\.amc"):
        load_take(tiny[0], tmp_path / "nope.amc")
    garbage = tmp_path / "g.amc"
    garbage.write_bytes(b"\x00\x01\x02PK")
    with pytest.raises(DataError, match=r"g\.amc"):
        load_take(tiny[0], garbage)
    empty = write(tmp_path / "e.amc", ":FULLY-SPECIFIED\n:DEGREES\n")
    with pytest.raises(DataError, match="no frames"):
        load_take(tiny[0], empty)


angle = st.floats(-170, 170, allow_nan=False, width=32)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(*[angle] * 8), min_size=1, max_size=6))
def test_fk_keeps_bone_lengths_for_any_angles(
    tmp_path: Path, rows: list[tuple[float, ...]]
) -> None:
    asf = write(tmp_path / "h.asf", ASF)
    frames = [(f"1 2 3 {a} {b} {c}", f"{d} {e} {f}", f"{g} {h}") for a, b, c, d, e, f, g, h in rows]
    amc = write(tmp_path / "h.amc", amc_text(frames))
    motion = load_take(asf, amc, fps=None)
    lengths = bone_lengths(motion.positions.double(), motion.parents)
    expected = U * torch.tensor([2.0, 4.5, 4.5], dtype=torch.float64)
    torch.testing.assert_close(lengths, expected.expand_as(lengths), atol=1e-6, rtol=0)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_truncation_anywhere_is_an_error_or_a_prefix(tmp_path: Path, data: st.DataObject) -> None:
    asf = write(tmp_path / "h.asf", ASF)
    full_text = amc_text()
    full = load_take(asf, write(tmp_path / "full.amc", full_text), fps=None).positions
    cut = data.draw(st.integers(0, len(full_text) - 1))
    path = write(tmp_path / "cut.amc", full_text[:cut])
    try:
        part = load_take(asf, path, fps=None).positions
    except DataError as err:
        assert "cut.amc" in str(err)
    else:
        # A cut inside the very last number leaves a valid, shorter number (the format has
        # no terminator); every frame before the last, and whole lines, must be intact.
        n = part.shape[0]
        exact = full_text[:cut].endswith("\n")
        torch.testing.assert_close(part[: n if exact else n - 1], full[: n if exact else n - 1])


# --------------------------------------------------------------------------- BVH


def bvh_text(
    joints: list[tuple[str, int, tuple[float, float, float], str]],
    rows: list[list[float]],
    *,
    frames: int | None = None,
) -> str:
    """BVH from (name, parent, offset, channels) in depth-first order; parent -1 = ROOT;
    ``channels`` "" marks an End Site."""
    children: dict[int, list[int]] = {}
    for j, (_, parent, _, _) in enumerate(joints):
        children.setdefault(parent, []).append(j)
    out = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        name, parent, offset, channels = joints[j]
        pad = "  " * depth
        head = "End Site" if not channels else ("ROOT " if parent < 0 else "JOINT ") + name
        out.extend([pad + head, pad + "{", pad + "  OFFSET " + " ".join(map(str, offset))])
        if channels:
            out.append(pad + f"  CHANNELS {len(channels.split())} {channels}")
        for c in children.get(j, []):
            emit(c, depth + 1)
        out.append(pad + "}")

    emit(0, 0)
    out += ["MOTION", f"Frames: {len(rows) if frames is None else frames}", "Frame Time: 0.0333333"]
    out += [" ".join(map(str, r)) for r in rows]
    return "\n".join(out) + "\n"


ARM = [
    ("Hips", -1, (0.0, 100.0, 0.0), "Xposition Yposition Zposition Zrotation Xrotation Yrotation"),
    ("Arm", 0, (10.0, 0.0, 0.0), "Zrotation Xrotation Yrotation"),
    ("Hand", 1, (0.0, 0.0, 20.0), "Zrotation Xrotation Yrotation"),
    ("Hand", 2, (5.0, 0.0, 0.0), ""),
]


def test_bvh_forward_kinematics_hand_computed(tmp_path: Path) -> None:
    # Position channels replace the root's OFFSET (0, 100, 0): they hold its position.
    rows = [
        [0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 102, 3, 90, 0, 0, 0, 90, 0, 0, 0, 0],  # root: Rz(90); arm: Rx(90)
    ]
    path = write(tmp_path / "arm.bvh", bvh_text(ARM, rows))
    motion = load_bvh(path, fps=None, units="cm", up="y")
    assert motion.joint_names == ("Hips", "Arm", "Hand", "Hand_end")
    assert motion.parents == (-1, 0, 1, 2)
    assert motion.fps == pytest.approx(30.0, rel=1e-4)
    expected = 0.01 * torch.tensor(
        [
            [[0, 100, 0], [10, 100, 0], [10, 100, 20], [15, 100, 20]],
            # Rz(90): x -> y. Arm at root + Rz (10,0,0) = (0,10,0) offset; hand offset
            # (0,0,20) turned by Rz Rx(90): Rx(90) z -> -y, Rz(90) -y -> +x; end-site
            # offset (5,0,0): Rx(90) keeps x, Rz(90) x -> y.
            [[1, 102, 3], [1, 112, 3], [21, 112, 3], [21, 117, 3]],
        ]
    )
    torch.testing.assert_close(motion.positions, expected.float(), atol=1e-5, rtol=0)


def test_bvh_channel_order_is_left_to_right(tmp_path: Path) -> None:
    # Zrotation Xrotation Yrotation = Rz Rx Ry: with z=90, x=90 the hand offset (0,0,20)
    # goes Rx(90): (0,-20,0), then Rz(90): (20,0,0). The other order would give (0,-20,0).
    rows = [[0, 0, 0, 0, 0, 0, 90, 90, 0, 0, 0, 0]]
    motion = load_bvh(write(tmp_path / "o.bvh", bvh_text(ARM, rows)), fps=None, units="m")
    torch.testing.assert_close(
        motion.positions[0, 2] - motion.positions[0, 1],
        torch.tensor([20.0, 0.0, 0.0]),
        atol=1e-5,
        rtol=0,
    )


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda t: t.rsplit("\n", 2)[0] + "\n", 24, "'Frames: 2' but 1 frames"),  # truncated
        (lambda t: t.replace("\n1 102 3 90", "\n1 102 x 90"), 25, "must be numbers"),
        (lambda t: t.replace("\n1 102 3 90", "\n1 102 90"), 25, "expected 12 channel values"),
        (lambda t: t.replace("\n1 102 3 90", "\n1 102 nan 90"), 25, "must be finite"),
        (lambda t: t.replace("Frame Time: 0.0333333", "Frame Time: -1"), 23, "Frame Time"),
        (lambda t: t.replace("OFFSET 10.0 0.0 0.0", "OFFSET 10.0 inf 0.0"), 8, "finite"),
        (
            lambda t: t.replace(
                "CHANNELS 3 Zrotation Xrotation Yrotation\n    JOINT",
                "CHANNELS 3 Zrotation Xrot Yrotation\n    JOINT",
            ),
            9,
            "unknown or repeated",
        ),
        (lambda t: t.split("MOTION")[0], 20, "file ends"),
    ],
)
def test_corrupt_bvh_names_file_and_line(tmp_path: Path, edit, line: int, message: str) -> None:
    rows = [[0.0] * 12, [1, 102, 3, 90, 0, 0, 0, 90, 0, 0, 0, 0]]
    bad = write(tmp_path / "bad.bvh", edit(bvh_text(ARM, rows)))
    with pytest.raises(DataError) as err:
        load_bvh(bad)
    assert f"bad.bvh, line {line}:" in str(err.value)
    assert message in str(err.value)


def cmu_bvh_skeleton() -> list[tuple[str, int, tuple[float, float, float], str]]:
    """The CMU BVH conversion's joint names on a simple standing skeleton (cm)."""
    rot = "Zrotation Yrotation Xrotation"
    spec = [("Hips", -1, (0, 90, 0), "Xposition Yposition Zposition " + rot)]

    def add(
        name: str, parent: str, offset: tuple[float, float, float], channels: str = rot
    ) -> None:
        spec.append((name, [s[0] for s in spec].index(parent), offset, channels))

    for side, x in (("Left", 1.0), ("Right", -1.0)):
        add(f"{side[0]}HipJoint", "Hips", (0, 0, 0))
        add(f"{side}UpLeg", f"{side[0]}HipJoint", (10 * x, -5, 0))
        add(f"{side}Leg", f"{side}UpLeg", (0, -42, 0))
        add(f"{side}Foot", f"{side}Leg", (0, -42, 0))
        add(f"{side}Foot_end", f"{side}Foot", (0, 0, 10), "")
    add("LowerBack", "Hips", (0, 0, 0))
    add("Spine", "LowerBack", (0, 12, 0))
    add("Spine1", "Spine", (0, 12, 0))
    add("Neck", "Spine1", (0, 12, 0))
    add("Neck1", "Neck", (0, 9, 0))
    add("Head", "Neck1", (0, 9, 0))
    add("Head_end", "Head", (0, 18, 0), "")
    for side, x in (("Left", 1.0), ("Right", -1.0)):
        add(f"{side}Shoulder", "Spine1", (0, 12, 0))
        add(f"{side}Arm", f"{side}Shoulder", (17 * x, 0, 0))
        add(f"{side}ForeArm", f"{side}Arm", (28 * x, 0, 0))
        add(f"{side}Hand", f"{side}ForeArm", (25 * x, 0, 0))
        add(f"{side}Hand_end", f"{side}Hand", (8 * x, 0, 0), "")
    return spec


def test_bvh_cmu_names_map_to_17_joints(tmp_path: Path) -> None:
    spec = cmu_bvh_skeleton()
    width = sum(len(c.split()) for *_, c in spec)
    row = [0.0, 90.0] + [0.0] * (width - 2)  # the root's position channels: (0, 90, 0)
    motion = load_bvh(write(tmp_path / "cmu.bvh", bvh_text(spec, [row])), units="cm")
    names = [s[0] for s in spec if s[3]]
    assert set(names) <= set(motion.joint_names)
    pose = motion.to_h36m17()[0]
    assert pose.shape == (17, 3)
    torch.testing.assert_close(pose[0], torch.tensor([0.0, 0.9, 0.0]))  # pelvis = Hips
    torch.testing.assert_close(pose[7], torch.tensor([0.0, 1.08, 0.0]))  # mean(Spine, Spine1)
    torch.testing.assert_close(pose[10], torch.tensor([0.0, 1.62, 0.0]))  # Head_end
    torch.testing.assert_close(pose[13], torch.tensor([0.70, 1.26, 0.0]))  # LeftHand


# --------------------------------------------------------------------------- real CMU data


def test_real_cmu_take_keeps_bone_lengths(shared_data: Path) -> None:
    asf, takes = list_takes(shared_data, "02")
    assert asf.name == "02.asf" and len(takes) == 10
    motion = load_take(asf, asf.parent / "02_03.amc")
    assert motion.fps == 30.0 and motion.positions.shape[1:] == (31, 3)
    lengths = bone_lengths(motion.positions.double(), motion.parents)
    assert (lengths.max(0).values - lengths.min(0).values).max() < 1e-5  # metres
    femur = lengths[0, motion.joint_names.index("lfemur") - 1]
    assert 0.35 < femur < 0.5  # 7.59 units / 0.45 * 0.0254 = 0.43 m
    pose = motion.to_h36m17()
    assert pose.shape == (motion.positions.shape[0], 17, 3)
    assert (pose[:, 10, 1] > pose[:, 0, 1]).all()  # head above pelvis: y is up


def test_load_subject_and_missing_data(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="cmu_mocap"):
        load_subject(tmp_path, "01")
    with pytest.raises(DataNotFoundError, match="subject '99' not found"):
        list_takes(shared_data, "99")
