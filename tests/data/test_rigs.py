"""Joint mapping by meaning (``unpaired.data.rigs``) on BVH files of every common rig, written
here with known joint positions (``_rigs.py``), in m, cm, mm, inches and CMU's Acclaim unit,
y up and z up, with and without a neck joint."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _rigs import RIGS, Rig, make_take, truth17, write_bvh

from unpaired.data.mocap import BVH_UNITS, choose_unit, load_bvh
from unpaired.data.rigs import (
    JointName,
    detect_up_axis,
    load_joint_map,
    match_skeleton,
    normalize_joint_name,
    parse_joint_expression,
    standing_height,
)
from unpaired.errors import DataError

TAKE = make_take(4)
MM = 1e-3


def write(tmp_path: Path, rig: Rig, name: str | None = None, **kw) -> Path:
    path = tmp_path / f"{name or rig.name}.bvh"
    path.write_text(write_bvh(rig, TAKE, **kw))
    return path


def assert_same_pose(motion, rig: Rig, atol: float = MM) -> None:
    expected = torch.from_numpy(truth17(TAKE, synthesised=rig.synthesised))
    torch.testing.assert_close(motion.to_h36m17().double(), expected, atol=atol, rtol=0)


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("mixamorig:LeftUpLeg", JointName("l", "upleg", None, False)),
        ("LeftUpLeg", JointName("l", "upleg", None, False)),
        ("L_UpLeg", JointName("l", "upleg", None, False)),
        ("upleg_l", JointName("l", "upleg", None, False)),
        ("LEFT_UP_LEG", JointName("l", "upleg", None, False)),
        ("leftupleg", JointName("l", "upleg", None, False)),
        ("thigh.L", JointName("l", "thigh", None, False)),
        ("Bip01 R Thigh", JointName("r", "thigh", None, False)),
        ("ValveBiped.Bip01_L_Toe0", JointName("l", "toe", 0, False)),
        ("UpperArm_R", JointName("r", "upperarm", None, False)),
        ("lShldr", JointName("l", "shldr", None, False)),
        ("LUArm", JointName("l", "uarm", None, False)),
        ("rButtock", JointName("r", "buttock", None, False)),
        ("LHipJoint", JointName("l", "hipjoint", None, False)),
        ("lfemur", JointName("l", "femur", None, False)),
        ("Spine1", JointName(None, "spine", 1, False)),
        ("spine_02", JointName(None, "spine", 2, False)),
        ("Character1_Spine1", JointName(None, "spine", 1, False)),
        ("HeadTop_End", JointName(None, "headtop", None, True)),
        ("Bip01 HeadNub", JointName(None, "head", None, True)),
        ("Head_end", JointName(None, "head", None, True)),
        ("LeftHandIndex1_end", JointName("l", "handindex", 1, True)),
        ("joint_Root", JointName(None, "root", None, False)),
        ("lowerback", JointName(None, "lowerback", None, False)),
        ("Hips", JointName(None, "hips", None, False)),
    ],
)
def test_normalize_joint_name(name: str, read: JointName) -> None:
    assert normalize_joint_name(name) == read


@pytest.mark.parametrize("family", list(RIGS))
def test_every_family_maps_to_the_same_pose(tmp_path: Path, family: str) -> None:
    rig = RIGS[family]
    motion = load_bvh(write(tmp_path, rig), fps=None)
    info = motion.info
    assert info is not None and info.mapping is not None
    assert (info.unit, info.up) == (rig.unit, rig.up), info.unit_source
    assert info.unit_source.startswith("detected") and info.up_source.startswith("detected")
    assert 1.4 < info.height_m < 1.7  # type: ignore[operator]
    assert set(info.synthesised) == set(rig.synthesised)
    assert_same_pose(motion, rig)
    assert motion.fps == pytest.approx(120.0, rel=1e-4)


def test_rest_pose_not_upright_and_position_channels(tmp_path: Path) -> None:
    """LAFAN1/Bandai/Biped files: contorted rest poses (bind rotations), six channels per
    joint whose positions replace the OFFSETs (garbage OFFSETs here), a root at the floor."""
    rig = RIGS["bandai_namco"]
    noisy = Rig(**{**rig.__dict__, "name": "garbage", "root_garbage": (3.0, -500.0, 45.2)})
    motion = load_bvh(write(tmp_path, noisy), fps=None)
    assert_same_pose(motion, rig)
    assert motion.info.synthesised["head"].startswith("head top = head joint")


def test_overrides_win_over_detection(tmp_path: Path) -> None:
    rig = RIGS["mixamo"]
    path = write(tmp_path, rig)
    auto = load_bvh(path, fps=None)
    metres = load_bvh(path, fps=None, units="m", up="z")
    assert (metres.info.unit, metres.info.up) == ("m", "z")
    assert metres.info.unit_source == metres.info.up_source == "given"
    rotate = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])
    torch.testing.assert_close(metres.positions, 100 * auto.positions @ rotate.T, atol=1e-3, rtol=0)
    assert any("outside a person" in n for n in metres.info.notes)
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("units: mm\nup: y\n")
    mm = load_bvh(path, fps=None, joint_map=yaml_map)
    assert mm.info.unit == "mm" and mm.info.unit_source == f"joint map {yaml_map}"
    torch.testing.assert_close(mm.positions, auto.positions / 10, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="units"):
        load_bvh(path, units="furlong")  # type: ignore[arg-type]


def test_unit_choice_and_geometry_helpers() -> None:
    assert choose_unit(1.7)[0] == "m"
    assert choose_unit(170.0)[0] == "cm" and choose_unit(1700.0)[0] == "mm"
    assert choose_unit(66.0)[0] == "in" and choose_unit(29.0)[0] == "cmu"
    assert choose_unit(120.0)[0] == "cm"  # a child: nearest, not in range
    poses = torch.from_numpy(truth17(TAKE))
    assert standing_height(poses) == pytest.approx(1.612, abs=2e-3)
    assert detect_up_axis(poses)[0] == "y"
    zup = poses @ torch.tensor([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=poses.dtype).T
    label, confidence = detect_up_axis(zup)
    assert label == "z" and confidence > 0.9
    assert detect_up_axis(-poses)[0] == "-y"
    assert set(BVH_UNITS) == {"m", "cm", "mm", "in", "cmu"}


# --------------------------------------------------------------------------- renaming

_RENAMED = ("mixamo_bare", "cmu_cgspeed", "smpl", "bandai_namco")
_WORDS = {  # the base names of those rigs as (side, words, number, end)
    "Hips": (None, ["hips"], None, False),
    "LowerBack": (None, ["lower", "back"], None, False),
    "Spine": (None, ["spine"], None, False),
    "Neck": (None, ["neck"], None, False),
    "Head": (None, ["head"], None, False),
    "HeadTop_End": (None, ["head", "top"], None, True),
    "Pelvis": (None, ["pelvis"], None, False),
    "Chest": (None, ["chest"], None, False),
    "joint_Root": (None, ["root"], None, False),
}


def _words(name: str) -> tuple[str | None, list[str], int | None, bool]:
    """(side, words, number, end) of a base name, to render it in another style."""
    if name in _WORDS:
        return _WORDS[name]
    read = normalize_joint_name(name)
    tokens = [
        t.lower()
        for t in re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", name.split(":")[-1])
    ]
    if tokens[0] in ("left", "right", "l", "r"):
        tokens = tokens[1:]
    if tokens[-1] in ("l", "r"):
        tokens = tokens[:-1]
    words = [t for t in tokens if t != "end" and not t.isdigit()]
    assert "".join(words) == read.core, (name, words, read)
    return read.side, words, read.number, read.end


def _render(name: str, style: dict) -> str:
    side, words, number, end = _words(name)
    case = style["case"]
    if case == "camel":
        core = "".join(w.capitalize() for w in words)
    elif case == "snake":
        core = "_".join(words)
    elif case == "upper":
        core = "_".join(w.upper() for w in words)
    else:
        core = "".join(words)  # lower, no separators
    if number is not None:
        core += {"plain": f"{number}", "under": f"_{number:02d}", "dot": f".{number:03d}"}[
            style["number"]
        ]
    if end:
        core += "_End" if case != "upper" else "_END"
    if side is not None:
        word = {"l": ("Left", "L", "l", "left"), "r": ("Right", "R", "r", "right")}[side]
        form = style["side"]
        if form == "prefix_word":
            core = (word[0].upper() if case == "upper" else word[0]) + (
                "_" + core if case in ("snake", "upper") else core
            )
        elif form == "prefix_letter":
            core = word[1] + "_" + core
        elif form == "suffix":
            core = core + ("." if style["dot"] else "_") + word[1]
        else:
            core = core + "_" + word[3]
    return style["namespace"] + core


_style = st.fixed_dictionaries(
    {
        "case": st.sampled_from(["camel", "snake", "upper", "lower"]),
        "number": st.sampled_from(["plain", "under", "dot"]),
        "side": st.sampled_from(["prefix_word", "prefix_letter", "suffix", "suffix_word"]),
        "dot": st.booleans(),
        "namespace": st.sampled_from(["", "mixamorig:", "Armature|", "Character1_", "b_"]),
    }
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(_RENAMED), st.data())
def test_renamed_joints_and_shuffled_siblings_map_the_same(
    tmp_path: Path, family: str, data: st.DataObject
) -> None:
    rig = RIGS[family]
    names = [j[0] for j in rig.joints if j[0] is not None]
    styles = {n: data.draw(_style, label=n) for n in names}
    rename = {n: _render(n, styles[n]) for n in names}
    if len(set(rename.values())) < len(rename):
        return  # two joints collide under the drawn styles: not a valid file
    seed = data.draw(st.integers(0, 2**16))
    perm_rng = np.random.default_rng(seed)
    motion = load_bvh(
        write(
            tmp_path,
            rig,
            "renamed",
            rename=rename.__getitem__,
            order_children=lambda kids: list(perm_rng.permutation(kids)),
        ),
        fps=None,
    )
    assert_same_pose(motion, rig)
    assert set(motion.info.synthesised) == set(rig.synthesised)


# --------------------------------------------------------------------------- joint maps


def test_joint_map_rescues_an_unreadable_rig_and_lists_what_failed(tmp_path: Path) -> None:
    rig = RIGS["mixamo_bare"]
    codes = {n: f"J{k:02d}" for k, n in enumerate(j[0] for j in rig.joints if j[0])}
    path = write(tmp_path, rig, "codes", rename=codes.__getitem__)
    motion = load_bvh(path, fps=None)
    with pytest.raises(DataError) as err:
        motion.to_h36m17()
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{path}: cannot map this skeleton")
    assert "l_wrist=?" in text and "J00, J01" in text and "joint_map=FILE.yaml" in text
    # A map naming every joint by its code (and one expression) reads it.
    ours = {
        "pelvis": "Hips",
        "r_hip": "RightUpLeg",
        "r_knee": "RightLeg",
        "r_ankle": "RightFoot",
        "l_hip": "LeftUpLeg",
        "l_knee": "LeftLeg",
        "l_ankle": "LeftFoot",
        "spine": "lerp(Hips, Neck, 0.5)",
        "thorax": "Neck",
        "neck": "Head",
        "head": "HeadTop_End",
        "l_shoulder": "LeftArm",
        "l_elbow": "LeftForeArm",
        "l_wrist": "LeftHand",
        "r_shoulder": "RightArm",
        "r_elbow": "RightForeArm",
        "r_wrist": "RightHand",
    }

    lines = [f"{k}: {codes[v] if v in codes else v}" for k, v in ours.items()]
    lines[7] = f"spine: lerp({codes['Hips']}, {codes['Neck']}, 0.5)"
    (tmp_path / "map.yaml").write_text("# codes\n" + "\n".join(lines) + "\n")
    mapped = load_bvh(path, fps=None, joint_map=tmp_path / "map.yaml")
    assert_same_pose(mapped, rig)
    assert mapped.info.mapping.sources[0] == f"{codes['Hips']} (joint map)"


def test_partial_joint_map_overrides_the_rules(tmp_path: Path) -> None:
    rig = RIGS["mixamo"]
    path = write(tmp_path, rig)
    motion = load_bvh(path, fps=None, joint_map={"thorax": "mid(LeftShoulder, RightShoulder)"})
    expected = torch.from_numpy(truth17(TAKE))
    thorax = 0.5 * (TAKE.x["clav_l"] + TAKE.x["clav_r"])
    poses = motion.to_h36m17().double()
    torch.testing.assert_close(poses[:, 8], torch.from_numpy(thorax), atol=MM, rtol=0)
    torch.testing.assert_close(poses[:, :7], expected[:, :7], atol=MM, rtol=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("knee: LeftLeg\n", "unknown key 'knee'"),
        ("l_knee: [LeftLeg]\n", "expected a joint name"),
        ("- LeftLeg\n", "expected 'our_joint: their_joint'"),
        ("l_knee: LeftLge\n", "did you mean LeftLeg"),
        ("l_knee: mid(LeftLeg)\n", "mid takes two"),
        ("l_knee: lerp(LeftLeg, LeftFoot, x)\n", "t must be a number"),
        ("units: furlong\n", "units must be one of"),
        ("l_knee: [unclosed\n", "cannot read it"),
    ],
)
def test_bad_joint_maps_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, RIGS["mixamo_bare"])
    jm = tmp_path / "bad.yaml"
    jm.write_text(text)
    with pytest.raises(DataError) as err:
        load_bvh(path, joint_map=jm)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "bad.yaml" in str(err.value) or "joint map" in str(err.value)


def test_expressions_are_linear_and_checked() -> None:
    names = ["a", "b", "c", "mixamorig:Hips"]
    assert parse_joint_expression("mid(a, b)", names) == {0: 0.5, 1: 0.5}
    assert parse_joint_expression("mean(a, b, c)", names) == pytest.approx(
        {0: 1 / 3, 1: 1 / 3, 2: 1 / 3}
    )
    assert parse_joint_expression("lerp(mid(a, b), c, 2)", names) == {0: -0.5, 1: -0.5, 2: 2.0}
    assert parse_joint_expression("hips", names) == {3: 1.0}
    with pytest.raises(ValueError, match="no joint 'd'"):
        parse_joint_expression("mid(a, d)", names)


def test_skeleton_that_is_not_a_person_loads_but_does_not_map(tmp_path: Path) -> None:
    text = (
        "HIERARCHY\nROOT Base\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition "
        "Zrotation Xrotation Yrotation\n JOINT Arm\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Zrotation "
        "Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 5 0\n  }\n }\n}\nMOTION\nFrames: 1\n"
        "Frame Time: 0.04\n0 0 0 0 0 0 0 0 0\n"
    )
    path = tmp_path / "crane.bvh"
    path.write_text(text)
    motion = load_bvh(path, fps=None)
    assert motion.info.mapping is None and motion.info.up_source.startswith("assumed")
    with pytest.raises(DataError, match=r"crane\.bvh: cannot map .*no r_hip"):
        motion.to_h36m17()


def test_match_skeleton_checks_shapes() -> None:
    with pytest.raises(ValueError, match="positions"):
        match_skeleton(["a", "b"], [-1, 0], torch.zeros(3, 3, 3))


# --------------------------------------------------------------------------- corrupt files

_BASE = write_bvh(RIGS["bandai_namco"], make_take(2)).encode()
_BYTES = st.sampled_from([b"x", b" ", b"\n", b"{", b"}", b"-", b".", b"9", b"e", b"\0", b"\xff"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(0, len(_BASE) - 1)),
        st.tuples(
            st.just("edit"),
            st.lists(st.tuples(st.integers(0, len(_BASE) - 1), _BYTES), min_size=1, max_size=4),
        ),
    )
)
def test_fuzzed_files_load_or_fail_in_one_line(tmp_path: Path, case: tuple) -> None:
    kind, arg = case
    data = bytearray(_BASE[:arg] if kind == "cut" else _BASE)
    if kind == "edit":
        for at, byte in arg:
            data[at : at + 1] = byte
    path = tmp_path / "fuzz.bvh"
    path.write_bytes(bytes(data))
    try:
        motion = load_bvh(path, fps=None)
    except DataError as err:
        text = str(err)
        assert text.startswith(f"{path}, line ") and "\n" not in text, text
        return
    try:
        poses = motion.to_h36m17()
    except DataError as err:
        assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
    else:
        assert torch.isfinite(poses).all()


# --------------------------------------------------------------------------- pose-cmu


def test_pose_cmu_reads_a_file_of_every_family(tmp_path: Path) -> None:
    from unpaired.recipes.pose_cmu import load_test_files

    files = [str(write(tmp_path, rig)) for rig in RIGS.values()]
    takes = load_test_files(files, fps=30.0, bvh_units="auto")
    assert list(takes) == list(RIGS)
    for name, poses in takes.items():
        rig = RIGS[name]
        expected = torch.from_numpy(truth17(TAKE, synthesised=rig.synthesised))[::4]
        torch.testing.assert_close(poses.double(), expected, atol=MM, rtol=0, msg=name)


@pytest.mark.slow
def test_pose_cmu_runs_on_bvh_test_files(tmp_path: Path, shared_data: Path) -> None:
    from unpaired.recipes.runner import run_recipe

    files = tuple(str(tmp_path / "files" / f"{n}.bvh") for n in ("bandai_namco", "truebones"))
    (tmp_path / "files").mkdir()
    take = make_take(48, seed=5, scale=0.3)
    for n, f in zip(("bandai_namco", "truebones"), files, strict=True):
        Path(f).write_text(write_bvh(RIGS[n], take))
    outcome = run_recipe(
        "pose-cmu",
        out=tmp_path / "run",
        data_dir_option=str(shared_data),
        overrides={
            "settings": ("exact",),
            "martinez": False,
            "extra_priors": (),
            "train_subjects": ("02",),
            "test_files": files,
            "ladder.hidden": 32,
            "ladder.batch_size": 64,
            "ladder.supervised.steps": 30,
            "ladder.finetune.steps": 20,
        },
        threads=1,
        progress=False,
    )
    assert outcome.status == "completed" and outcome.report is not None
    metrics = outcome.report.metrics
    assert metrics["test"] == "test files: bandai_namco, truebones"
    assert metrics["frames"]["test"] == 2 * 12  # 48 frames at 120 fps -> 12 at 30
    assert outcome.report.tables[0].columns[1:3] == ["bandai_namco", "truebones"]


def test_the_documented_joint_map_example_reads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "POSE.md").read_text()
    block = doc.split("    # walk_map.yaml", 1)[1].split("\n\n", 1)[0]
    example = tmp_path / "walk_map.yaml"
    example.write_text("\n".join(line[4:] for line in block.splitlines()[1:]) + "\n")
    jm = load_joint_map(example)
    assert (jm.units, jm.up) == ("cm", "y")
    assert jm.joints["thorax"] == "mid(Scapula_L, Scapula_R)" and len(jm.joints) == 5
    names = ["Root_M", "Hip_L", "Scapula_L", "Scapula_R", "Neck_M", "Head_M", "Chest_M"]
    for text in jm.joints.values():
        parse_joint_expression(text, names)
