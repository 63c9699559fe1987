"""C3D marker files (``load_c3d``, optional package ``c3d``): written here with the ``c3d``
package from known marker positions, CMU's 41-marker names with a subject prefix, in mm,
z up, with a gap."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _rigs import make_take, truth17

from unpaired.data.mocap import load_c3d, load_motion
from unpaired.data.skeleton import H36M17_JOINTS
from unpaired.errors import DataError

c3d = pytest.importorskip("c3d")
pytestmark = pytest.mark.filterwarnings("ignore:No analog data:UserWarning")

TAKE = make_take(5, seed=3)
#: CMU's marker set around the canonical body: (landmark, offset in metres, y up).
_MARKERS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "C7": ("thorax", (0.0, 0.03, -0.08)),
    "CLAV": ("thorax", (0.0, -0.01, 0.07)),
    "T10": ("spine_b", (0.0, 0.0, -0.11)),
    "STRN": ("spine_b", (0.0, 0.06, 0.11)),
    "RBAK": ("spine_c", (-0.08, 0.0, -0.1)),
}
for _s, _x in (("L", 1.0), ("R", -1.0)):
    _m = _s.lower()
    _MARKERS |= {
        f"{_s}FHD": ("neck_top", (0.06 * _x, 0.13, 0.09)),
        f"{_s}BHD": ("neck_top", (0.06 * _x, 0.13, -0.09)),
        f"{_s}FWT": (f"hip_{_m}", (0.05 * _x, 0.09, 0.07)),
        f"{_s}BWT": (f"hip_{_m}", (0.04 * _x, 0.10, -0.08)),
        f"{_s}THI": (f"knee_{_m}", (0.06 * _x, 0.2, 0.0)),
        f"{_s}KNE": (f"knee_{_m}", (0.05 * _x, 0.0, 0.0)),
        f"{_s}SHN": (f"ankle_{_m}", (0.05 * _x, 0.2, 0.02)),
        f"{_s}ANK": (f"ankle_{_m}", (0.04 * _x, 0.0, 0.0)),
        f"{_s}HEE": (f"ankle_{_m}", (0.0, -0.03, -0.06)),
        f"{_s}TOE": (f"toe_{_m}", (0.0, 0.01, 0.0)),
        f"{_s}MT5": (f"toe_{_m}", (0.04 * _x, 0.0, -0.02)),
        f"{_s}SHO": (f"shoulder_{_m}", (0.0, 0.05, 0.0)),
        f"{_s}UPA": (f"elbow_{_m}", (-0.1 * _x, 0.0, -0.04)),
        f"{_s}ELB": (f"elbow_{_m}", (0.0, 0.0, -0.04)),
        f"{_s}FRM": (f"wrist_{_m}", (-0.08 * _x, 0.02, 0.0)),
        f"{_s}WRA": (f"wrist_{_m}", (0.0, 0.0, 0.03)),
        f"{_s}WRB": (f"wrist_{_m}", (0.0, 0.0, -0.03)),
        f"{_s}FIN": (f"hand_end_{_m}", (0.0, 0.0, 0.0)),
    }
ZUP = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # world y up -> file z up


def markers() -> dict[str, np.ndarray]:
    """(T, 3) world positions (metres, y up) of every marker: rigid with its landmark's part
    (the offset is turned with the part holding the landmark and its children)."""
    part = {"thorax": "torso", "spine_b": "torso", "spine_c": "torso", "neck_top": "head"}
    out = {}
    for name, (mark, offset) in _MARKERS.items():
        body = (
            part.get(mark)
            or {
                "hip": "thigh",
                "knee": "shin",
                "ankle": "foot",
                "toe": "foot",
                "shoulder": "uarm",
                "elbow": "farm",
                "wrist": "hand",
                "hand": "hand",
            }[mark.split("_")[0]]
            + "_"
            + mark[-1]
        )
        out[name] = TAKE.x[mark] + np.einsum("tij,j->ti", TAKE.q[body], np.asarray(offset))
    return out


def write_c3d(path: Path, *, gap: tuple[str, int] | None = None, prefix: str = "07:") -> Path:
    pos = markers()
    labels = list(pos)
    writer = c3d.Writer(point_rate=120.0, point_units="mm  ")
    writer.set_point_labels([prefix + n for n in labels])
    frames = []
    for t in range(TAKE.frames):
        points = np.zeros((len(labels), 5), np.float32)
        points[:, :3] = [ZUP @ pos[n][t] * 1000.0 for n in labels]
        if gap is not None and t == gap[1]:
            points[labels.index(gap[0]), :4] = (0.0, 0.0, 0.0, -1.0)
        frames.append((points, np.zeros((0, 0), np.float32)))
    writer.add_frames(frames)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_c3d_markers_to_joints(tmp_path: Path) -> None:
    motion = load_motion(write_c3d(tmp_path / "07_01.c3d"), fps=None)
    info = motion.info
    assert info.format == "c3d" and (info.unit, info.unit_source) == ("mm", "file")
    assert info.up == "z" and motion.fps == 120.0
    assert motion.joint_names[0] == "C7" and motion.positions.shape == (TAKE.frames, 41, 3)
    pos = {n: torch.from_numpy(v) for n, v in markers().items()}
    torch.testing.assert_close(
        motion.positions[:, motion.joint_names.index("LKNE")].double(),
        pos["LKNE"],
        atol=1e-4,
        rtol=0,
    )
    poses = motion.to_h36m17().double()
    j = {name: k for k, name in enumerate(H36M17_JOINTS)}
    # Hand-computed entries of the default map.
    torch.testing.assert_close(
        poses[:, j["pelvis"]],
        (pos["LFWT"] + pos["RFWT"] + pos["LBWT"] + pos["RBWT"]) / 4,
        atol=1e-4,
        rtol=0,
    )
    torch.testing.assert_close(
        poses[:, j["l_wrist"]], (pos["LWRA"] + pos["LWRB"]) / 2, atol=1e-4, rtol=0
    )
    centre = (pos["LFWT"] + pos["RFWT"] + pos["LBWT"] + pos["RBWT"]) / 4
    side = (pos["LFWT"] + pos["LBWT"]) / 2
    hip = 0.8 * (0.3 * centre + 0.7 * side) + 0.2 * pos["LKNE"]
    torch.testing.assert_close(poses[:, j["l_hip"]], hip, atol=1e-4, rtol=0)
    # Surface markers: every joint within a few cm of the truth on this marker placement.
    truth = torch.from_numpy(truth17(TAKE))
    assert (poses - truth).norm(dim=-1).max() < 0.08


def test_c3d_gaps_are_interpolated_and_markers_required(tmp_path: Path) -> None:
    gapped = load_c3d(write_c3d(tmp_path / "gap.c3d", gap=("LKNE", 2)), fps=None)
    k = gapped.joint_names.index("LKNE")
    torch.testing.assert_close(
        gapped.positions[2, k], (gapped.positions[1, k] + gapped.positions[3, k]) / 2
    )
    assert any("1 missing marker samples filled" in n for n in gapped.info.notes)
    assert load_c3d(tmp_path / "gap.c3d", fps=30.0).positions.shape[0] == 2  # every 4th frame
    # Without the CMU names: the mapping fails with one readable line; a joint map fixes it.
    path = write_c3d(tmp_path / "other.c3d", prefix="x_")
    motion = load_c3d(path, fps=None)
    with pytest.raises(DataError, match=r"other\.c3d: cannot place pelvis") as err:
        motion.to_h36m17()
    assert "\n" not in str(err.value) and "x_LKNE" in str(err.value)
    names = {n: f"x_{n}" for n in _MARKERS}
    jm = {
        "l_knee": names["LKNE"],
        "pelvis": f"mean({names['LFWT']}, {names['RFWT']}, {names['LBWT']}, {names['RBWT']})",
    }
    with pytest.raises(DataError, match="cannot place r_hip"):
        load_c3d(path, fps=None, joint_map=jm).to_h36m17()
    with pytest.raises(DataError, match=r"joint map.*l_knee.*no joint 'LKNEE'"):
        load_c3d(path, fps=None, joint_map={"l_knee": "LKNEE"})


def test_corrupt_c3d_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.c3d"
    bad.write_bytes(b"\x02P" + bytes(600))
    with pytest.raises(DataError, match=r"bad\.c3d") as err:
        load_c3d(bad)
    assert "\n" not in str(err.value)
