"""BVH files of every common rig, written by the tests with known joint positions.

A canonical body (landmarks in metres, y up, facing +z, left = +x) moves as rigid parts (torso,
head, thighs, shins, feet, upper arms, forearms, hands), each with its own rotation per frame.
A *rig* places its joints on landmarks under its own names and hierarchy; the writer computes
every joint's local rotation and offset so that forward kinematics puts each joint exactly on
its landmark, in the rig's unit, up axis, channel order, bind (rest) pose and channel layout.
So every rig of the same motion must map to the same 17-joint poses.

Joint names and hierarchies follow published files (looked up with the search tool):

- CMU, cgspeed MotionBuilder-friendly conversion: una-dinosauria/cmu-mocap ``002/02_06.bvh``
  (Hips, LHipJoint, LeftUpLeg, ..., LowerBack, Spine, Spine1, Neck (zero offset), Neck1, Head,
  LeftShoulder (zero offset), LeftArm, ..., LeftFingerBase, LeftHandIndex1, LThumb; ZYX
  channels; lengths in the ASF unit: Hips at 17.76).
- CMU, cgspeed 3dsMax-friendly release: Character Studio BVH naming (character-studio.net
  "BVH File Specification", cgspeed's "3dsMax BVH import specification"): Hips, LeftHip,
  LeftKnee, LeftAnkle, Chest, Chest2, LeftCollar, LeftShoulder (= upper arm), LeftElbow,
  LeftWrist, Neck, Head.
- CMU, cgspeed Daz-friendly release: hip, abdomen, chest, neck, head, leftEye, rCollar,
  rShldr, rForeArm, rHand, rButtock, rThigh, rShin, rFoot (AmmarkoV/RGBDAcquisition
  ``mergeDazFriendlyAndAddHeadWithoutHand.profile``; the head has only eyes below it).
- CMU joints under ASF bone names (amc2bvh-style): root, lhipjoint, lfemur, ltibia, lfoot,
  lowerback, upperback, thorax, lowerneck, upperneck, head, lclavicle, lhumerus, lradius.
- Mixamo: mixamorig:Hips, Spine, Spine1, Spine2, Neck, Head, HeadTop_End, LeftShoulder,
  LeftArm, LeftForeArm, LeftHand, LeftHandIndex1, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase,
  LeftToe_End (Godot and web viewers' Mixamo bone lists), with and without the prefix.
- LAFAN1 (Ubisoft La Forge): Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToe, Spine, Spine1,
  Spine2, Neck, Head, LeftShoulder, LeftArm, LeftForeArm, LeftHand; six channels on every
  joint, read by ``lafan1/extract.py`` as positions replacing offsets; rest offsets along
  the bones' local x (a rest pose that is not upright): bind rotations here.
- Truebones: 3ds Max Biped exports ("every joint with 6 channels, a redundant zero-offset
  root", a public Truebones preprocessing note); Biped names Bip01, Bip01 Pelvis, Bip01 Spine,
  Bip01 L Thigh (child of the spine), Bip01 L Calf, Bip01 L Foot, Bip01 L Toe0, Bip01 Neck,
  Bip01 L Clavicle (child of the neck), Bip01 L UpperArm, Bip01 L Forearm, Bip01 L Hand,
  Bip01 Head, Bip01 HeadNub (ValveBiped bone lists); Z up, inches (3ds Max).
- Bandai-Namco Research Motiondataset ``dataset-1_bow_active_001.bvh``: joint_Root (at the
  floor), Hips (OFFSET far from the origin, -452 cm), Spine, Chest, Neck, Head, Shoulder_L,
  UpperArm_L, LowerArm_L, Hand_L, UpperLeg_L, LowerLeg_L, Foot_L, Toes_L; six channels on
  every joint, ZXY; End Sites of zero length; rest offsets along x.
- Emotional body motion: the PhysioNet "Kinematic dataset of actors expressing emotions"
  (Perception Neuron, 72 nodes = the Axis Neuron skeleton): Hips, RightUpLeg, RightLeg,
  RightFoot, Spine, Spine1, Spine2, Neck, Neck1, Head, RightShoulder, RightArm, RightForeArm,
  RightHand, RightHandThumb1, RightInHandIndex, RightHandIndex1 (Noitom joint lists).
- Capture-software / DCC export style (Blender Rigify names seen in exported BVH: hips,
  thigh_L, shin_L, foot_L, toe_L, spine, chest, clavicle_R, upper_arm_R, forearm_R, hand_R),
  Z up, metres, with and without a neck joint.
- SMPL joint names (Pelvis, L_Hip, L_Knee, L_Ankle, L_Foot, Spine1-3, Neck, Head, L_Collar,
  L_Shoulder, L_Elbow, L_Wrist, L_Hand), millimetres.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from unpaired.data.skeleton import H36M17_JOINTS

INCH = 0.0254
CMU_UNIT = INCH / 0.45


def _sym(name: str, x: float, y: float, z: float) -> dict[str, tuple[float, float, float]]:
    return {f"{name}_l": (x, y, z), f"{name}_r": (-x, y, z)}


#: Landmarks of the canonical body at rest (metres, y up, facing +z, left = +x).
REST: dict[str, tuple[float, float, float]] = {
    "origin": (0.0, 0.0, 0.0),
    "pelvis": (0.0, 0.95, 0.0),
    "spine_a": (0.0, 1.06, 0.0),
    "spine_b": (0.0, 1.18, 0.0),
    "spine_c": (0.0, 1.30, 0.0),
    "thorax": (0.0, 1.42, 0.0),
    "neck_mid": (0.0, 1.475, 0.005),
    "neck_top": (0.0, 1.53, 0.01),
    "head_top": (0.0, 1.74, 0.02),
    "head_tip": (0.0, 1.77, 0.02),
    **_sym("eye", 0.03, 1.62, 0.09),
    **_sym("eye_tip", 0.03, 1.62, 0.11),
    **_sym("hip", 0.09, 0.90, 0.0),
    **_sym("knee", 0.10, 0.48, 0.02),
    **_sym("ankle", 0.10, 0.08, -0.01),
    **_sym("toe", 0.10, 0.02, 0.12),
    **_sym("toe_end", 0.10, 0.01, 0.18),
    **_sym("toe_tip", 0.10, 0.01, 0.21),
    **_sym("clav", 0.02, 1.42, 0.0),
    **_sym("shoulder", 0.18, 1.40, -0.01),
    **_sym("elbow", 0.45, 1.40, -0.02),
    **_sym("wrist", 0.70, 1.40, 0.0),
    **_sym("hand_end", 0.79, 1.40, 0.0),
    **_sym("finger", 0.86, 1.40, 0.0),
    **_sym("finger_tip", 0.90, 1.40, 0.0),
    **_sym("thumb", 0.75, 1.39, 0.05),
}

#: Rigid parts: (name, pivot landmark, parent part, member landmarks).
BODIES: list[tuple[str, str | None, str | None, tuple[str, ...]]] = [
    ("world", None, None, ("origin",)),
    (
        "torso",
        "pelvis",
        "world",
        (
            "pelvis",
            "spine_a",
            "spine_b",
            "spine_c",
            "thorax",
            "neck_mid",
            "neck_top",
            "hip_l",
            "hip_r",
            "clav_l",
            "clav_r",
            "shoulder_l",
            "shoulder_r",
        ),
    ),
    (
        "head",
        "neck_top",
        "torso",
        ("neck_top", "head_top", "head_tip", "eye_l", "eye_r", "eye_tip_l", "eye_tip_r"),
    ),
]
for _s in ("l", "r"):
    BODIES += [
        (f"thigh_{_s}", f"hip_{_s}", "torso", (f"hip_{_s}", f"knee_{_s}")),
        (f"shin_{_s}", f"knee_{_s}", f"thigh_{_s}", (f"knee_{_s}", f"ankle_{_s}")),
        (
            f"foot_{_s}",
            f"ankle_{_s}",
            f"shin_{_s}",
            (f"ankle_{_s}", f"toe_{_s}", f"toe_end_{_s}", f"toe_tip_{_s}"),
        ),
        (f"uarm_{_s}", f"shoulder_{_s}", "torso", (f"shoulder_{_s}", f"elbow_{_s}")),
        (f"farm_{_s}", f"elbow_{_s}", f"uarm_{_s}", (f"elbow_{_s}", f"wrist_{_s}")),
        (
            f"hand_{_s}",
            f"wrist_{_s}",
            f"farm_{_s}",
            (f"wrist_{_s}", f"hand_end_{_s}", f"finger_{_s}", f"finger_tip_{_s}", f"thumb_{_s}"),
        ),
    ]

#: Our joints -> landmark (spine: midway pelvis-thorax, on the straight torso).
OURS = {
    "pelvis": "pelvis",
    "r_hip": "hip_r",
    "r_knee": "knee_r",
    "r_ankle": "ankle_r",
    "l_hip": "hip_l",
    "l_knee": "knee_l",
    "l_ankle": "ankle_l",
    "thorax": "thorax",
    "neck": "neck_top",
    "head": "head_top",
    "l_shoulder": "shoulder_l",
    "l_elbow": "elbow_l",
    "l_wrist": "wrist_l",
    "r_shoulder": "shoulder_r",
    "r_elbow": "elbow_r",
    "r_wrist": "wrist_r",
}


@dataclass(frozen=True)
class Take:
    """Landmark positions ``x[name]`` (T, 3) and every part's rotation ``q[part]`` (T, 3, 3)."""

    x: dict[str, np.ndarray]
    q: dict[str, np.ndarray]

    @property
    def frames(self) -> int:
        return len(self.x["pelvis"])


def make_take(frames: int = 4, seed: int = 0, *, scale: float = 0.5) -> Take:
    """A take: random rotations of every part relative to its parent (std ``scale`` rad per
    axis), the root walking from (4, 0.95, -2) m."""
    rng = np.random.default_rng(seed)
    q: dict[str, np.ndarray] = {}
    x: dict[str, np.ndarray] = {"origin": np.zeros((frames, 3))}
    t = np.arange(frames)[:, None]
    x["pelvis"] = np.array([4.0, 0.95, -2.0]) + t * np.array([0.3, 0.02, 0.1])
    for name, pivot, parent, members in BODIES:
        if parent is None:
            q[name] = np.repeat(np.eye(3)[None], frames, axis=0)
            continue
        local = Rotation.from_rotvec(rng.normal(0.0, scale, (frames, 3))).as_matrix()
        q[name] = q[parent] @ local
        for m in members:
            if m != pivot:
                rest = np.asarray(REST[m]) - np.asarray(REST[pivot])  # type: ignore[index]
                x[m] = x[pivot] + np.einsum("tij,j->ti", q[name], rest)  # type: ignore[index]
    return Take(x, q)


def truth17(take: Take, *, synthesised: Sequence[str] = ()) -> np.ndarray:
    """(T, 17, 3) poses the rules must give; a joint in ``synthesised`` by its rule."""
    out = {k: take.x[v] for k, v in OURS.items()}
    out["spine"] = 0.5 * (take.x["pelvis"] + take.x["thorax"])
    if "head" in synthesised:
        out["head"] = 2.0 * take.x["neck_top"] - take.x["thorax"]
    return np.stack([out[j] for j in H36M17_JOINTS], axis=1)


#: (joint name or None for an End Site, parent joint name, landmark)
Joint = tuple[str | None, str | None, str]


@dataclass(frozen=True)
class Rig:
    name: str
    joints: tuple[Joint, ...]
    unit: str  # expected detection: m, cm, mm, in, cmu
    up: str = "y"
    order: str = "ZXY"
    all6: bool = False  # six channels on every joint
    bind: bool = False  # random rest orientation per joint (rest pose not upright)
    end_zero: bool = False  # End Sites of zero length
    root_garbage: tuple[float, float, float] = (0.0, 0.0, 0.0)  # added to the root's OFFSET
    synthesised: tuple[str, ...] = ()
    rig_label: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def metres(self) -> float:
        return {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": INCH, "cmu": CMU_UNIT}[self.unit]


def _legs(names: Callable[[str], tuple[str, ...]], parent: str) -> list[Joint]:
    """Leg chains: ``names(side)`` gives the (hip, knee, ankle[, toe]) joint names; an End
    Site on the next landmark closes each."""
    marks = ("hip", "knee", "ankle", "toe", "toe_end")
    out: list[Joint] = []
    for side in ("l", "r"):
        chain = names(side)
        prev = parent
        for jn, mark in zip(chain, marks, strict=False):
            out.append((jn, prev, f"{mark}_{side}"))
            prev = jn
        out.append((None, prev, f"{marks[len(chain)]}_{side}"))
    return out


def _arms(
    names: Callable[[str], tuple[str, ...]],
    parent: str,
    marks: tuple[str, ...] = ("clav", "shoulder", "elbow", "wrist"),
    end: str = "hand_end",
) -> list[Joint]:
    out: list[Joint] = []
    for side in ("l", "r"):
        prev = parent
        for jn, mark in zip(names(side), marks, strict=True):
            out.append((jn, prev, mark if mark in REST else f"{mark}_{side}"))
            prev = jn
        out.append((None, prev, f"{end}_{side}"))
    return out


def _lr(side: str, left: str, right: str) -> str:
    return left if side == "l" else right


def _cap(side: str) -> str:
    return _lr(side, "Left", "Right")


RIGS: dict[str, Rig] = {}


def _add(rig: Rig) -> None:
    RIGS[rig.name] = rig


# CMU, cgspeed MotionBuilder-friendly (the naming the loader always knew).
_add(
    Rig(
        "cmu_cgspeed",
        (
            ("Hips", None, "pelvis"),
            *[
                j
                for s in ("l", "r")
                for j in (
                    (f"{s.upper()}HipJoint", "Hips", "pelvis"),
                    (f"{_cap(s)}UpLeg", f"{s.upper()}HipJoint", f"hip_{s}"),
                    (f"{_cap(s)}Leg", f"{_cap(s)}UpLeg", f"knee_{s}"),
                    (f"{_cap(s)}Foot", f"{_cap(s)}Leg", f"ankle_{s}"),
                    (f"{_cap(s)}ToeBase", f"{_cap(s)}Foot", f"toe_{s}"),
                    (None, f"{_cap(s)}ToeBase", f"toe_end_{s}"),
                )
            ],
            ("LowerBack", "Hips", "pelvis"),
            ("Spine", "LowerBack", "spine_b"),
            ("Spine1", "Spine", "thorax"),
            ("Neck", "Spine1", "thorax"),
            ("Neck1", "Neck", "neck_mid"),
            ("Head", "Neck1", "neck_top"),
            (None, "Head", "head_top"),
            *[
                j
                for s in ("l", "r")
                for j in (
                    (f"{_cap(s)}Shoulder", "Spine1", "thorax"),
                    (f"{_cap(s)}Arm", f"{_cap(s)}Shoulder", f"shoulder_{s}"),
                    (f"{_cap(s)}ForeArm", f"{_cap(s)}Arm", f"elbow_{s}"),
                    (f"{_cap(s)}Hand", f"{_cap(s)}ForeArm", f"wrist_{s}"),
                    (f"{_cap(s)}FingerBase", f"{_cap(s)}Hand", f"wrist_{s}"),
                    (f"{_cap(s)}HandIndex1", f"{_cap(s)}FingerBase", f"finger_{s}"),
                    (None, f"{_cap(s)}HandIndex1", f"finger_tip_{s}"),
                    (f"{s.upper()}Thumb", f"{_cap(s)}Hand", f"wrist_{s}"),
                    (None, f"{s.upper()}Thumb", f"thumb_{s}"),
                )
            ],
        ),
        unit="cmu",
        order="ZYX",
        rig_label="cmu-bvh",
    )
)

# CMU, cgspeed 3dsMax-friendly: Character Studio names (LeftShoulder = the upper arm).
_add(
    Rig(
        "cmu_3dsmax",
        (
            ("Hips", None, "pelvis"),
            *_legs(lambda s: (f"{_cap(s)}Hip", f"{_cap(s)}Knee", f"{_cap(s)}Ankle"), "Hips"),
            ("Chest", "Hips", "spine_a"),
            ("Chest2", "Chest", "spine_c"),
            ("Neck", "Chest2", "thorax"),
            ("Head", "Neck", "neck_top"),
            (None, "Head", "head_top"),
            *_arms(
                lambda s: (
                    f"{_cap(s)}Collar",
                    f"{_cap(s)}Shoulder",
                    f"{_cap(s)}Elbow",
                    f"{_cap(s)}Wrist",
                ),
                "Chest2",
            ),
        ),
        unit="in",
        order="ZXY",
        rig_label="character studio",
    )
)

# CMU, cgspeed Daz-friendly: no head top (eyes below the head).
_add(
    Rig(
        "cmu_daz",
        (
            ("hip", None, "pelvis"),
            *[
                j
                for s in ("l", "r")
                for j in (
                    (f"{s}Buttock", "hip", "pelvis"),
                    (f"{s}Thigh", f"{s}Buttock", f"hip_{s}"),
                    (f"{s}Shin", f"{s}Thigh", f"knee_{s}"),
                    (f"{s}Foot", f"{s}Shin", f"ankle_{s}"),
                    (None, f"{s}Foot", f"toe_{s}"),
                )
            ],
            ("abdomen", "hip", "spine_a"),
            ("chest", "abdomen", "spine_c"),
            ("neck", "chest", "thorax"),
            ("head", "neck", "neck_top"),
            ("leftEye", "head", "eye_l"),
            (None, "leftEye", "eye_tip_l"),
            ("rightEye", "head", "eye_r"),
            (None, "rightEye", "eye_tip_r"),
            *_arms(lambda s: (f"{s}Collar", f"{s}Shldr", f"{s}ForeArm", f"{s}Hand"), "chest"),
        ),
        unit="cm",
        order="ZYX",
        synthesised=("head",),
        rig_label="daz",
    )
)

# CMU joints under the ASF bone names (a BVH joint is its bone's start).
_add(
    Rig(
        "cmu_asf_names",
        (
            ("root", None, "pelvis"),
            *[
                j
                for s in ("l", "r")
                for j in (
                    (f"{s}hipjoint", "root", "pelvis"),
                    (f"{s}femur", f"{s}hipjoint", f"hip_{s}"),
                    (f"{s}tibia", f"{s}femur", f"knee_{s}"),
                    (f"{s}foot", f"{s}tibia", f"ankle_{s}"),
                    (f"{s}toes", f"{s}foot", f"toe_{s}"),
                    (None, f"{s}toes", f"toe_end_{s}"),
                )
            ],
            ("lowerback", "root", "pelvis"),
            ("upperback", "lowerback", "spine_b"),
            ("thorax", "upperback", "spine_c"),
            ("lowerneck", "thorax", "thorax"),
            ("upperneck", "lowerneck", "neck_mid"),
            ("head", "upperneck", "neck_top"),
            (None, "head", "head_top"),
            *_arms(
                lambda s: (f"{s}clavicle", f"{s}humerus", f"{s}radius", f"{s}wrist"),
                "thorax",
                marks=("thorax", "shoulder", "elbow", "wrist"),
            ),
        ),
        unit="cmu",
        order="ZYX",
        rig_label="cmu (ASF names)",
    )
)


def _mixamo(prefix: str) -> tuple[Joint, ...]:
    p = prefix
    return (
        (f"{p}Hips", None, "pelvis"),
        *[
            j
            for s in ("l", "r")
            for j in (
                (f"{p}{_cap(s)}UpLeg", f"{p}Hips", f"hip_{s}"),
                (f"{p}{_cap(s)}Leg", f"{p}{_cap(s)}UpLeg", f"knee_{s}"),
                (f"{p}{_cap(s)}Foot", f"{p}{_cap(s)}Leg", f"ankle_{s}"),
                (f"{p}{_cap(s)}ToeBase", f"{p}{_cap(s)}Foot", f"toe_{s}"),
                (f"{p}{_cap(s)}Toe_End", f"{p}{_cap(s)}ToeBase", f"toe_end_{s}"),
                (None, f"{p}{_cap(s)}Toe_End", f"toe_tip_{s}"),
            )
        ],
        (f"{p}Spine", f"{p}Hips", "spine_a"),
        (f"{p}Spine1", f"{p}Spine", "spine_b"),
        (f"{p}Spine2", f"{p}Spine1", "spine_c"),
        (f"{p}Neck", f"{p}Spine2", "thorax"),
        (f"{p}Head", f"{p}Neck", "neck_top"),
        (f"{p}HeadTop_End", f"{p}Head", "head_top"),
        (None, f"{p}HeadTop_End", "head_tip"),
        (f"{p}LeftEye", f"{p}Head", "eye_l"),
        (None, f"{p}LeftEye", "eye_tip_l"),
        *[
            j
            for s in ("l", "r")
            for j in (
                (f"{p}{_cap(s)}Shoulder", f"{p}Spine2", f"clav_{s}"),
                (f"{p}{_cap(s)}Arm", f"{p}{_cap(s)}Shoulder", f"shoulder_{s}"),
                (f"{p}{_cap(s)}ForeArm", f"{p}{_cap(s)}Arm", f"elbow_{s}"),
                (f"{p}{_cap(s)}Hand", f"{p}{_cap(s)}ForeArm", f"wrist_{s}"),
                (f"{p}{_cap(s)}HandIndex1", f"{p}{_cap(s)}Hand", f"finger_{s}"),
                (None, f"{p}{_cap(s)}HandIndex1", f"finger_tip_{s}"),
            )
        ],
    )


_add(Rig("mixamo", _mixamo("mixamorig:"), unit="cm", rig_label="mixamo"))
_add(Rig("mixamo_bare", _mixamo(""), unit="cm", order="XYZ", rig_label="mixamo/motionbuilder"))

_add(
    Rig(
        "lafan1",
        (
            ("Hips", None, "pelvis"),
            *_legs(
                lambda s: (f"{_cap(s)}UpLeg", f"{_cap(s)}Leg", f"{_cap(s)}Foot", f"{_cap(s)}Toe"),
                "Hips",
            ),
            ("Spine", "Hips", "spine_a"),
            ("Spine1", "Spine", "spine_b"),
            ("Spine2", "Spine1", "spine_c"),
            ("Neck", "Spine2", "thorax"),
            ("Head", "Neck", "neck_top"),
            (None, "Head", "head_top"),
            *_arms(
                lambda s: (
                    f"{_cap(s)}Shoulder",
                    f"{_cap(s)}Arm",
                    f"{_cap(s)}ForeArm",
                    f"{_cap(s)}Hand",
                ),
                "Spine2",
            ),
        ),
        unit="cm",
        order="ZYX",
        all6=True,
        bind=True,
        rig_label="mixamo/motionbuilder",
    )
)

_add(
    Rig(
        "truebones",
        (
            ("Bip01", None, "pelvis"),
            ("Bip01 Pelvis", "Bip01", "pelvis"),
            ("Bip01 Spine", "Bip01 Pelvis", "spine_a"),
            *_legs(
                lambda s: (
                    f"Bip01 {s.upper()} Thigh",
                    f"Bip01 {s.upper()} Calf",
                    f"Bip01 {s.upper()} Foot",
                    f"Bip01 {s.upper()} Toe0",
                ),
                "Bip01 Spine",
            ),
            ("Bip01 Spine1", "Bip01 Spine", "spine_c"),
            ("Bip01 Neck", "Bip01 Spine1", "thorax"),
            ("Bip01 Head", "Bip01 Neck", "neck_top"),
            ("Bip01 HeadNub", "Bip01 Head", "head_top"),
            (None, "Bip01 HeadNub", "head_tip"),
            *_arms(
                lambda s: (
                    f"Bip01 {s.upper()} Clavicle",
                    f"Bip01 {s.upper()} UpperArm",
                    f"Bip01 {s.upper()} Forearm",
                    f"Bip01 {s.upper()} Hand",
                ),
                "Bip01 Neck",
            ),
        ),
        unit="in",
        up="z",
        order="ZXY",
        all6=True,
        bind=True,
        rig_label="biped",
    )
)

_add(
    Rig(
        "bandai_namco",
        (
            ("joint_Root", None, "origin"),
            ("Hips", "joint_Root", "pelvis"),
            ("Spine", "Hips", "spine_a"),
            ("Chest", "Spine", "spine_c"),
            ("Neck", "Chest", "thorax"),
            ("Head", "Neck", "neck_top"),
            (None, "Head", "head_top"),
            *_arms(
                lambda s: (
                    f"Shoulder_{s.upper()}",
                    f"UpperArm_{s.upper()}",
                    f"LowerArm_{s.upper()}",
                    f"Hand_{s.upper()}",
                ),
                "Chest",
            ),
            *_legs(
                lambda s: (
                    f"UpperLeg_{s.upper()}",
                    f"LowerLeg_{s.upper()}",
                    f"Foot_{s.upper()}",
                    f"Toes_{s.upper()}",
                ),
                "Hips",
            ),
        ),
        unit="cm",
        order="ZXY",
        all6=True,
        bind=True,
        end_zero=True,
        synthesised=("head",),
        rig_label="bandai-namco",
    )
)

_add(
    Rig(
        "emotion_neuron",
        (
            ("Hips", None, "pelvis"),
            *_legs(lambda s: (f"{_cap(s)}UpLeg", f"{_cap(s)}Leg", f"{_cap(s)}Foot"), "Hips"),
            ("Spine", "Hips", "spine_a"),
            ("Spine1", "Spine", "spine_b"),
            ("Spine2", "Spine1", "spine_c"),
            ("Neck", "Spine2", "thorax"),
            ("Neck1", "Neck", "neck_mid"),
            ("Head", "Neck1", "neck_top"),
            (None, "Head", "head_top"),
            *[
                j
                for s in ("l", "r")
                for j in (
                    (f"{_cap(s)}Shoulder", "Spine2", f"clav_{s}"),
                    (f"{_cap(s)}Arm", f"{_cap(s)}Shoulder", f"shoulder_{s}"),
                    (f"{_cap(s)}ForeArm", f"{_cap(s)}Arm", f"elbow_{s}"),
                    (f"{_cap(s)}Hand", f"{_cap(s)}ForeArm", f"wrist_{s}"),
                    (f"{_cap(s)}HandThumb1", f"{_cap(s)}Hand", f"thumb_{s}"),
                    (None, f"{_cap(s)}HandThumb1", f"finger_tip_{s}"),
                    (f"{_cap(s)}InHandIndex", f"{_cap(s)}Hand", f"hand_end_{s}"),
                    (f"{_cap(s)}HandIndex1", f"{_cap(s)}InHandIndex", f"finger_{s}"),
                    (None, f"{_cap(s)}HandIndex1", f"finger_tip_{s}"),
                )
            ],
        ),
        unit="m",
        order="YXZ",
        rig_label="perception-neuron",
    )
)


def _blender(neck: bool) -> tuple[Joint, ...]:
    top = "neck" if neck else "chest"
    return (
        ("hips", None, "pelvis"),
        ("spine", "hips", "spine_a"),
        ("chest", "spine", "spine_c"),
        *((("neck", "chest", "thorax"),) if neck else ()),
        ("head", top, "neck_top"),
        (None, "head", "head_top"),
        *_arms(
            lambda s: (
                f"clavicle.{s.upper()}",
                f"upper_arm.{s.upper()}",
                f"forearm.{s.upper()}",
                f"hand.{s.upper()}",
            ),
            "chest",
        ),
        *_legs(
            lambda s: (
                f"thigh_{s.upper()}",
                f"shin_{s.upper()}",
                f"foot_{s.upper()}",
                f"toe_{s.upper()}",
            ),
            "hips",
        ),
    )


_add(Rig("capture_no_neck", _blender(False), unit="m", up="z", synthesised=("thorax",)))
_add(Rig("capture_neck", _blender(True), unit="mm", up="z", order="XYZ"))

_add(
    Rig(
        "smpl",
        (
            ("Pelvis", None, "pelvis"),
            *_legs(
                lambda s: (
                    f"{s.upper()}_Hip",
                    f"{s.upper()}_Knee",
                    f"{s.upper()}_Ankle",
                    f"{s.upper()}_Foot",
                ),
                "Pelvis",
            ),
            ("Spine1", "Pelvis", "spine_a"),
            ("Spine2", "Spine1", "spine_b"),
            ("Spine3", "Spine2", "spine_c"),
            ("Neck", "Spine3", "thorax"),
            ("Head", "Neck", "neck_top"),
            (None, "Head", "head_top"),
            *_arms(
                lambda s: (
                    f"{s.upper()}_Collar",
                    f"{s.upper()}_Shoulder",
                    f"{s.upper()}_Elbow",
                    f"{s.upper()}_Wrist",
                ),
                "Spine3",
            ),
        ),
        unit="mm",
        order="XYZ",
        rig_label="smpl",
    )
)

#: The world (y up) -> a Z-up file: (x, y, z) -> (x, -z, y); the loader's inverse.
TO_FILE = {"y": np.eye(3), "z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])}


def _bodies_of(mark: str) -> set[str]:
    return {name for name, _, _, members in BODIES if mark in members}


def write_bvh(
    rig: Rig,
    take: Take,
    *,
    rename: Callable[[str], str] | None = None,
    order_children: Callable[[list[int]], list[int]] | None = None,
    seed: int = 1,
) -> str:
    """The BVH text of ``take`` performed by ``rig`` (see the module docstring).

    ``rename`` maps each joint name to the name written; ``order_children`` reorders every
    joint's children (sibling order)."""
    joints = rig.joints
    names = [j[0] for j in joints]
    index = {n: k for k, n in enumerate(names) if n is not None}
    parent = [index[p] if p is not None else -1 for _, p, _ in joints]
    kids: dict[int, list[int]] = {}
    for k, p in enumerate(parent):
        kids.setdefault(p, []).append(k)
    # The part whose rotation each joint carries: that of the bones to its children.
    part: dict[int, str] = {}
    for k, (_, _, mark) in enumerate(joints):
        if names[k] is None:
            continue
        options: set[str] | None = None
        for c in kids.get(k, []):
            cmark = joints[c][2]
            if cmark == mark or mark == "origin" or (rig.end_zero and names[c] is None):
                continue  # zero length, world-fixed parent (the child has position channels)
            common = _bodies_of(mark) & _bodies_of(cmark)
            assert common, f"{rig.name}: bone {mark}->{cmark} is not rigid"
            options = common if options is None else options & common
            assert options, f"{rig.name}: {names[k]}'s children move in different parts"
        if not options:
            options = {next(n for n, _, _, m in BODIES if mark in m)}
        part[k] = sorted(options)[0]
    rng = np.random.default_rng(seed)
    bind = {
        k: (Rotation.random(random_state=rng).as_matrix() if rig.bind else np.eye(3)) for k in part
    }
    to_file = TO_FILE[rig.up]
    frames = take.frames
    world = {
        k: np.einsum("ij,tj->ti", to_file, take.x[m]) / rig.metres
        for k, (_, _, m) in enumerate(joints)
    }
    frame = {k: to_file @ take.q[part[k]] @ bind[k] for k in part}  # (T, 3, 3)

    def local_offset(k: int) -> np.ndarray:
        p = parent[k]
        return np.einsum("tji,tj->ti", frame[p], world[k] - world[p])

    rot_names = " ".join(f"{a}rotation" for a in rig.order)
    lines = ["HIERARCHY"]
    columns: list[Callable[[int], list[float]]] = []

    def emit(k: int, depth: int) -> None:
        pad = "  " * depth
        name = names[k]
        if name is None:
            off = np.zeros(3) if rig.end_zero else local_offset(k)[0]
            lines.extend([f"{pad}End Site", pad + "{", f"{pad}  OFFSET {_fmt(off)}", pad + "}"])
            return
        shown = rename(name) if rename is not None else name
        lines.append(f"{pad}{'ROOT' if parent[k] < 0 else 'JOINT'} {shown}")
        lines.append(pad + "{")
        has_pos = parent[k] < 0 or rig.all6
        if parent[k] < 0:
            offset = world[k][0] + np.asarray(rig.root_garbage)
        else:
            off_t = local_offset(k)
            if not has_pos:
                assert np.allclose(off_t, off_t[0], atol=1e-9), f"{rig.name}: {name} not rigid"
            offset = off_t[0] + (np.asarray(rig.root_garbage) if has_pos else 0.0)
        lines.append(f"{pad}  OFFSET {_fmt(offset)}")
        channels = ("Xposition Yposition Zposition " if has_pos else "") + rot_names
        lines.append(f"{pad}  CHANNELS {len(channels.split())} {channels}")

        def values(t: int, k: int = k, has_pos: bool = has_pos) -> list[float]:
            p = parent[k]
            local = frame[k][t] if p < 0 else frame[p][t].T @ frame[k][t]
            angles = Rotation.from_matrix(local).as_euler(rig.order.upper(), degrees=True)
            pos = world[k][t] if p < 0 else local_offset(k)[t]
            return ([*pos] if has_pos else []) + [*angles]

        columns.append(values)
        order = kids.get(k, [])
        for c in order_children(list(order)) if order_children else order:
            emit(c, depth + 1)
        lines.append(pad + "}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0083333"]
    for t in range(frames):
        lines.append(" ".join(_num(v) for col in columns for v in col(t)))
    return "\n".join(lines) + "\n"


def _num(v: float) -> str:
    return f"{v:.9g}"


def _fmt(v: np.ndarray) -> str:
    return " ".join(_num(float(a)) for a in v)
