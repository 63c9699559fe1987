"""Joint mapping by meaning: any human rig (BVH of CMU, Mixamo, LAFAN1, Truebones,
Bandai-Namco, capture software...) onto the library's 17 joints
(:data:`unpaired.data.skeleton.H36M17_JOINTS`).

A rig's joints are matched by what their names *mean*, then checked against the hierarchy:

1. **Normalise** every name (:func:`normalize_joint_name`): drop a namespace
   (``mixamorig:``, ``Armature|``), known prefixes (``Bip01``, ``ValveBiped``, ``Character1``,
   ``Model``, ``joint``...), split separators and camelCase, lower-case; read the side from a
   leading or trailing ``Left/L/l`` or ``Right/R/r`` token (``LeftUpLeg``, ``L_Hip``,
   ``thigh.L``, ``UpperArm_L``, ``lShldr``, ``LUArm``); read a trailing number (``Spine1``,
   ``spine_02``, ``Neck1``) and an end marker (``_End``, ``Nub``, the parser's ``_end`` of End
   Sites). ``LeftUpLeg``, ``L_UpLeg``, ``upleg_l``, ``LEFT_UP_LEG`` all read (l, "upleg").
2. **Limbs, from the hand or foot up the chain.** The distal joint is found by name (wrist /
   hand; ankle / foot: the first synonym wins, ``L_Wrist`` before ``L_Hand``), the middle joint
   is its *nearest ancestor* named like an elbow or knee (forearm / lowerarm / elbow / radius;
   leg / lowerleg / shin / calf / knee / tibia), the proximal joint is the nearest ancestor of
   that named like a shoulder or hip (arm / upperarm / shoulder / humerus; upleg / upperleg /
   thigh / hip / femur). The chain breaks the ties names cannot: Mixamo's ``LeftShoulder`` is a
   clavicle (``LeftArm`` is the nearest "arm" above ``LeftForeArm``), the 3ds Max Biped
   convention's ``LeftShoulder`` is the upper arm, SMPL's ``L_Shoulder`` too. A level without a
   recognisable name is taken from the hierarchy (the parent of the level below, or the child
   leading to the longest chain).
3. **Pelvis** = the joint named pelvis / hips / hip / root (that order) on the path from the
   root to the joint both hips hang from, else that joint.
4. **Head and neck**: ``neck`` (ours: H36M's Neck/Nose, the top of the neck) = the joint named
   head; ``thorax`` (the base of the neck) = the lowest joint named neck (``Neck``,
   ``Neck1``, ``lowerneck``) between the pelvis and the head; ``head`` (the top of the head) =
   a head-top joint below the head (``HeadTop_End``, ``HeadNub``, or the head's End Site) of
   non-zero length.
5. **Spine** = the point halfway, by length, along the rig's chain from the pelvis to the
   thorax (whatever its number of spine joints; CMU's ASF mapping puts it halfway too).

**Synthesised joints** (the rig lacks them), recorded in :attr:`RigMapping.synthesised`:

- no neck joint: ``thorax`` = midpoint of the two clavicles' starts (the joints that carry
  the shoulders, where they branch from the spine), else of the two shoulders;
- no head top (none, or of zero length, like Bandai-Namco's End Sites): ``head`` = head
  joint + (head joint - thorax), one neck length above the head joint.

A **user joint map** (:func:`load_joint_map`, ``--set joint_map=FILE.yaml``) overrides any of
our joints with one of the file's joints or an expression (:func:`parse_joint_expression`):
``mid(A, B)``, ``mean(A, B, ...)``, ``lerp(A, B, t) = (1 - t) A + t B``, nestable. Joints it
does not list are still found as above. A mapping that fails raises one
:class:`~unpaired.errors.DataError` that lists what each of our joints was matched to and the
file's joints.

Every mapping is linear in the source positions (:attr:`RigMapping.terms`), so it applies to
any frame, any unit and any axes.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch

from unpaired._checks import check_shape
from unpaired.data.skeleton import H36M17_JOINTS, JointMapping
from unpaired.errors import DataError

Side = Literal["l", "r"]
#: One point of a mapping: source joint index -> weight (the weights sum to 1).
Terms = dict[int, float]

# --------------------------------------------------------------------------- vocabulary

#: Synonyms (normalised cores), first = preferred where several joints of one rig match.
PELVIS_NAMES = ("pelvis", "hips", "hip", "root")
HIP_NAMES = ("upleg", "upperleg", "uleg", "thigh", "femur", "hip")
KNEE_NAMES = ("knee", "leg", "lowerleg", "lowleg", "loleg", "shin", "calf", "tibia")
ANKLE_NAMES = ("ankle", "foot")
SHOULDER_NAMES = ("upperarm", "uparm", "uarm", "arm", "shoulder", "shldr", "humerus")
ELBOW_NAMES = ("elbow", "forearm", "lowerarm", "lowarm", "loarm", "farm", "radius", "ulna")
WRIST_NAMES = ("wrist", "hand")
SPINE_NAMES = (
    "spine",
    "lowerback",
    "upperback",
    "back",
    "chest",
    "upperchest",
    "torso",
    "abdomen",
    "ab",
    "waist",
    "thorax",
    "lumbar",
)
NECK_NAMES = ("neck", "lowerneck", "upperneck")
HEAD_NAMES = ("head",)
HEAD_TOP_NAMES = ("headtop", "headend", "headnub", "headsite", "headtip", "top", "skull")
_OTHER_NAMES = (
    "clavicle",
    "collar",
    "hipjoint",
    "buttock",
    "toe",
    "toes",
    "toebase",
    "ball",
    "eye",
    "jaw",
    "thumb",
    "finger",
    "fingerbase",
    "index",
    "middle",
    "ring",
    "pinky",
)
VOCABULARY: frozenset[str] = frozenset(
    PELVIS_NAMES
    + HIP_NAMES
    + KNEE_NAMES
    + ANKLE_NAMES
    + SHOULDER_NAMES
    + ELBOW_NAMES
    + WRIST_NAMES
    + SPINE_NAMES
    + NECK_NAMES
    + HEAD_NAMES
    + HEAD_TOP_NAMES
    + _OTHER_NAMES
)
_PREFIX_TOKENS = frozenset(
    {
        "mixamorig",
        "valve",
        "biped",
        "bip",
        "character",
        "cc",
        "base",
        "def",
        "model",
        "armature",
        "joint",
        "jnt",
        "j",
        "b",
        "bn",
        "bone",
    }
)
_SIDES: dict[str, Side] = {"l": "l", "left": "l", "r": "r", "right": "r"}
_END_TOKENS = frozenset({"end", "nub", "site"})
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class JointName(NamedTuple):
    """A normalised joint name: ``side`` ("l", "r" or None), ``core`` (lower-case, no
    separators, e.g. "upleg"), trailing ``number`` (or None) and whether it ends the chain
    (``end``: an End Site, ``_End``, ``Nub``)."""

    side: Side | None
    core: str
    number: int | None
    end: bool


def normalize_joint_name(name: str) -> JointName:
    """Read a joint name by the rules in the module docstring.

    >>> normalize_joint_name("mixamorig:LeftUpLeg")
    JointName(side='l', core='upleg', number=None, end=False)
    >>> normalize_joint_name("Bip01_R_Toe0")
    JointName(side='r', core='toe', number=0, end=False)
    """
    base = re.split(r"[:|]", name)[-1]
    tokens = [t.lower() for part in re.split(r"[\s_.\-]+", base) for t in _CAMEL.findall(part)]
    if not tokens:
        return JointName(None, name.lower(), None, False)
    k = 0
    while k < len(tokens) and (tokens[k] in _PREFIX_TOKENS or (k and tokens[k].isdigit())):
        k += 1
    if k < len(tokens) and not all(t.isdigit() for t in tokens[k:]):
        tokens = tokens[k:]
    side: Side | None = None
    number: int | None = None
    end = False
    while len(tokens) > 1:
        last = tokens[-1]
        if last in _END_TOKENS and not end:
            end = True
        elif last.isdigit() and number is None:
            number = int(last)
        elif last in _SIDES and side is None:
            side = _SIDES[last]
        else:
            break
        tokens.pop()
    if side is None and len(tokens) > 1 and tokens[0] in _SIDES:
        side = _SIDES[tokens.pop(0)]
    core = "".join(tokens)
    if side is None and core not in VOCABULARY:
        for prefix in ("left", "right", "l", "r"):
            rest = core[len(prefix) :]
            if core.startswith(prefix) and rest in VOCABULARY:
                side, core = _SIDES[prefix], rest
                break
    return JointName(side, core, number, end)


# --------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class RigMapping:
    """How each of our 17 joints is made from a rig's joints.

    ``terms[k]`` lists ``(source index, weight)`` pairs of our joint ``H36M17_JOINTS[k]``
    (weights sum to 1); ``sources[k]`` says it in words (``"LeftArm"``,
    ``"mid(LeftShoulder, RightShoulder)"``); ``synthesised`` maps the joints the rig lacks to
    the rule that made them; ``rig`` names the naming family recognised (for reports only).
    """

    joint_names: tuple[str, ...]
    terms: tuple[tuple[tuple[int, float], ...], ...]
    sources: tuple[str, ...]
    synthesised: dict[str, str]
    rig: str = "generic"

    def apply(self, positions: torch.Tensor) -> torch.Tensor:
        """Positions (*, J, D) of the rig -> (*, 17, D)."""
        check_shape("positions", positions, ("*", len(self.joint_names), "D"))
        out = []
        for terms in self.terms:
            index = [i for i, _ in terms]
            weights = [w for _, w in terms]
            if all(w == weights[0] for w in weights) and math.isclose(sum(weights), 1.0):
                # Plain means: the same operations as ``skeleton.map_joints``.
                out.append(positions[..., index, :].mean(dim=-2))
            else:
                w = torch.tensor(weights, dtype=positions.dtype, device=positions.device)
                out.append((positions[..., index, :] * w[:, None]).sum(dim=-2))
        return torch.stack(out, dim=-2)

    def matrix(self) -> torch.Tensor:
        """(17, J) float64 weight matrix: ``apply(p) == matrix() @ p``."""
        m = torch.zeros(len(H36M17_JOINTS), len(self.joint_names), dtype=torch.float64)
        for k, terms in enumerate(self.terms):
            for i, w in terms:
                m[k, i] += w
        return m

    def table(self) -> list[tuple[str, str]]:
        """``[(our joint, source in words)]``, a synthesised joint marked with its rule."""
        return [
            (j, f"{s}  [synthesised: {self.synthesised[j]}]" if j in self.synthesised else s)
            for j, s in zip(H36M17_JOINTS, self.sources, strict=True)
        ]


def from_table(mapping: JointMapping, joint_names: Sequence[str], *, rig: str) -> RigMapping:
    """A :class:`RigMapping` from a named table (``skeleton.MAPPINGS``): each joint the mean
    of its listed source joints (a namespace prefix in ``joint_names`` is ignored)."""
    index = {re.split(r"[:|]", n)[-1]: i for i, n in enumerate(joint_names)}
    missing = sorted({s for srcs in mapping.values() for s in srcs if s not in index})
    if missing:
        raise DataError(f"skeleton lacks joints {missing} needed by the {rig} mapping")
    terms = tuple(
        tuple((index[s], 1.0 / len(mapping[j])) for s in mapping[j]) for j in H36M17_JOINTS
    )
    sources = tuple(
        mapping[j][0] if len(mapping[j]) == 1 else f"mean({', '.join(mapping[j])})"
        for j in H36M17_JOINTS
    )
    return RigMapping(tuple(joint_names), terms, sources, {}, rig)


# --------------------------------------------------------------------------- expressions

_CALL = re.compile(r"^\s*(mid|mean|lerp)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def _split_args(text: str) -> list[str]:
    args, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i])
            start = i + 1
    args.append(text[start:])
    return [a.strip() for a in args]


def resolve_joint(name: str, joint_names: Sequence[str]) -> int:
    """Index of ``name`` among ``joint_names``: exact, else ignoring case and namespace
    (``mixamorig:``). Raises ``ValueError`` naming close matches when there is none."""
    if name in joint_names:
        return list(joint_names).index(name)

    def key(n: str) -> str:
        return re.split(r"[:|]", n)[-1].lower()

    found = [i for i, n in enumerate(joint_names) if key(n) == key(name)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ValueError(f"joint {name!r} is ambiguous: {[joint_names[i] for i in found]}")
    close = difflib.get_close_matches(name, list(joint_names), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ValueError(f"the file has no joint {name!r}{hint}")


def parse_joint_expression(text: str, joint_names: Sequence[str]) -> Terms:
    """A joint map entry -> weights over ``joint_names``.

    ``NAME`` (one of the file's joints), ``mid(A, B)``, ``mean(A, B, ...)`` or
    ``lerp(A, B, t)`` (``(1 - t) A + t B``; ``t`` outside [0, 1] extrapolates); arguments
    may be expressions themselves: ``lerp(mid(LSHO, RSHO), C7, 0.5)``. Raises ``ValueError``.
    """
    match = _CALL.match(text)
    if not match:
        name = text.strip()
        if not name:
            raise ValueError("empty joint name")
        return {resolve_joint(name, joint_names): 1.0}
    op, args = match.group(1).lower(), _split_args(match.group(2))
    if op == "lerp":
        if len(args) != 3:
            raise ValueError(f"lerp takes (A, B, t), got {text.strip()!r}")
        try:
            t = float(args[2])
        except ValueError:
            raise ValueError(f"lerp: t must be a number, got {args[2]!r}") from None
        if not math.isfinite(t):
            raise ValueError(f"lerp: t must be finite, got {args[2]!r}")
        return _combine(
            [
                (parse_joint_expression(args[0], joint_names), 1.0 - t),
                (parse_joint_expression(args[1], joint_names), t),
            ]
        )
    if (op == "mid" and len(args) != 2) or not all(args) or len(args) < 2:
        raise ValueError(f"{op} takes {'two' if op == 'mid' else 'two or more'} joints")
    return _combine([(parse_joint_expression(a, joint_names), 1.0 / len(args)) for a in args])


def _combine(parts: Sequence[tuple[Terms, float]]) -> Terms:
    out: Terms = {}
    for terms, scale in parts:
        for i, w in terms.items():
            out[i] = out.get(i, 0.0) + scale * w
    return {i: w for i, w in out.items() if w != 0.0}


@dataclass(frozen=True)
class JointMapFile:
    """A user joint map: ``joints`` (our joint -> expression), optional ``units`` and ``up``
    overrides for the file it is used with, and the ``source`` path (for errors)."""

    joints: dict[str, str]
    units: str | None = None
    up: str | None = None
    source: str = "<joint map>"


JOINT_MAP_KEYS = ("units", "up")


def load_joint_map(path: str | os.PathLike[str]) -> JointMapFile:
    """Read a YAML joint map (format in docs/POSE.md, "Joint maps")::

        # our joint: their joint, or mid(A, B) / mean(A, B, ...) / lerp(A, B, t)
        units: cm            # optional: m, cm, mm, in, cmu
        up: z                # optional: y, z, -y, -z, x, -x
        thorax: mid(LeftShoulder, RightShoulder)
        head: Head_end

    Raises :class:`DataError` naming the file and the bad key.
    """
    import yaml

    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"joint map {path} not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"joint map {path}: cannot read it ({first})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError(f"joint map {path}: expected 'our_joint: their_joint' lines")
    joints: dict[str, str] = {}
    for key, value in data.items():
        key = str(key)
        if key in JOINT_MAP_KEYS:
            continue
        if key not in H36M17_JOINTS:
            raise DataError(
                f"joint map {path}: unknown key {key!r}; keys are our joints "
                f"({', '.join(H36M17_JOINTS)}) and {', '.join(JOINT_MAP_KEYS)}"
            )
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise DataError(f"joint map {path}: {key}: expected a joint name or expression")
        joints[key] = str(value)
    units = data.get("units")
    up = data.get("up")
    return JointMapFile(
        joints,
        None if units is None else str(units),
        None if up is None else str(up),
        str(path),
    )


# --------------------------------------------------------------------------- matching


class _Tree:
    """Names, parents and mean bone lengths of a rig, with the queries the matcher needs."""

    def __init__(
        self, names: Sequence[str], parents: Sequence[int], positions: torch.Tensor
    ) -> None:
        self.names = tuple(names)
        self.parents = tuple(parents)
        self.read = [normalize_joint_name(n) for n in names]
        self.children: list[list[int]] = [[] for _ in names]
        for j, p in enumerate(parents):
            if p >= 0:
                self.children[p].append(j)
        self.depth = [0] * len(names)
        for j, p in enumerate(parents):
            self.depth[j] = self.depth[p] + 1 if p >= 0 else 0
        self.positions = positions.double()

    def distance(self, a: Terms, b: Terms) -> float:
        """Mean distance (over frames) between two points of the rig."""
        pa = sum(w * self.positions[:, i] for i, w in a.items())
        pb = sum(w * self.positions[:, i] for i, w in b.items())
        return float((pa - pb).norm(dim=-1).mean())  # type: ignore[union-attr]

    def ancestors(self, j: int) -> list[int]:
        """Parent, grandparent, ..., root of ``j``."""
        out = []
        while self.parents[j] >= 0:
            j = self.parents[j]
            out.append(j)
        return out

    def path(self, a: int, b: int) -> list[int]:
        """Joints from ``a`` down to its descendant ``b``, both included ([] if not one)."""
        up = [b, *self.ancestors(b)]
        return up[: up.index(a) + 1][::-1] if a in up else []

    def lca(self, a: int, b: int) -> int:
        up = {a, *self.ancestors(a)}
        return next(j for j in [b, *self.ancestors(b)] if j in up)

    def chain_child(self, j: int) -> int | None:
        """The child of ``j`` leading to the longest chain (first on ties)."""

        def height(k: int) -> int:
            return 1 + max((height(c) for c in self.children[k]), default=0)

        kids = self.children[j]
        return max(kids, key=height) if kids else None

    def named(
        self,
        synonyms: Sequence[str],
        *,
        side: Side | None,
        among: Sequence[int] | None = None,
        ends: bool = False,
    ) -> list[int]:
        """Joints (of ``among``, default all) with that side and a core in ``synonyms``,
        by synonym rank then depth."""
        pool = range(len(self.names)) if among is None else among
        hits = [
            j
            for j in pool
            if self.read[j].side == side
            and self.read[j].core in synonyms
            and (ends or not self.read[j].end)
        ]
        return sorted(hits, key=lambda j: (synonyms.index(self.read[j].core), self.depth[j]))


def _describe(terms: Terms, names: Sequence[str]) -> str:
    if len(terms) == 1:
        return names[next(iter(terms))]
    if len(terms) == 2 and all(math.isclose(w, 0.5) for w in terms.values()):
        a, b = terms
        return f"mid({names[a]}, {names[b]})"
    return " + ".join(f"{w:.3g}*{names[i]}" for i, w in terms.items())


def _single(expr: Terms | None) -> int | None:
    return next(iter(expr)) if expr is not None and len(expr) == 1 else None


def _guess_rig(tree: _Tree) -> str:
    """The naming family, for reports."""
    raw = {re.split(r"[:|]", n)[-1].lower() for n in tree.names}
    cores = {(r.side, r.core) for r in tree.read}
    if any(n.lower().startswith("mixamorig") for n in tree.names):
        return "mixamo"
    if {"lhipjoint", "lowerback", "leftupleg"} <= raw:
        return "cmu-bvh (cgspeed, MotionBuilder-friendly)"
    if {"lshldr", "lbuttock", "abdomen"} <= raw:
        return "cmu-bvh (cgspeed, Daz-friendly)"
    if {"lfemur", "lhumerus", "lowerback"} <= raw:
        return "cmu (ASF names)"
    if any("bip0" in n.lower() for n in tree.names):
        return "3ds Max Biped (Truebones and others)"
    if {"upperarm_l", "lowerleg_l"} <= raw:
        return "bandai-namco"
    if {"l_hip", "l_collar", "pelvis"} <= raw:
        return "smpl"
    if {"leftinhandindex", "righthandthumb1"} & raw:
        return "perception-neuron (Axis)"
    if {"leftupleg", "leftforearm"} <= raw:
        return "mixamo/motionbuilder naming (also LAFAN1)"
    if {("l", "hip"), ("l", "knee"), ("l", "ankle")} <= cores:
        return "character studio / mvn naming (Hip, Knee, Ankle)"
    return "generic"


def match_skeleton(
    joint_names: Sequence[str],
    parents: Sequence[int],
    positions: torch.Tensor,
    *,
    joint_map: Mapping[str, str] | None = None,
) -> RigMapping:
    """Map a rig onto our 17 joints by the rules of the module docstring.

    Args:
        joint_names: J names (End Sites included, as the BVH parser names them).
        parents: J parent indices, -1 for the root, parents first.
        positions: (T, J, 3) or (J, 3) joint positions (any unit and axes): bone lengths for
            the spine rule and to skip zero-length end sites.
        joint_map: our joint -> one of ``joint_names`` or an expression
            (:func:`parse_joint_expression`); overrides the rules for those joints.

    Raises:
        DataError: a joint map entry is invalid, or some of our joints cannot be placed;
            the message lists what each joint was matched to and the rig's joints.
    """
    if positions.dim() == 2:
        positions = positions[None]
    check_shape("positions", positions, ("T", len(joint_names), 3))
    if len(parents) != len(joint_names):
        raise ValueError(f"{len(joint_names)} joint names but {len(parents)} parents")
    tree = _Tree(joint_names, parents, positions)
    user: dict[str, Terms] = {}
    for ours, text in (joint_map or {}).items():
        if ours not in H36M17_JOINTS:
            raise DataError(f"joint map: {ours!r} is not one of our joints {H36M17_JOINTS}")
        try:
            user[ours] = parse_joint_expression(text, joint_names)
        except ValueError as err:
            raise DataError(f"joint map: {ours}: {text!r}: {err}") from None
    m = _Matcher(tree, user)
    m.run()
    missing = [j for j in H36M17_JOINTS if j not in m.found]
    if missing:
        raise DataError(m.failure(missing))
    return RigMapping(
        tree.names,
        tuple(tuple(m.found[j].items()) for j in H36M17_JOINTS),
        tuple(m.words[j] for j in H36M17_JOINTS),
        {j: m.synthesised[j] for j in H36M17_JOINTS if j in m.synthesised},
        _guess_rig(tree),
    )


class _Matcher:
    """The matching state: ``found`` (our joint -> terms), ``words``, ``synthesised`` and
    ``why`` (our joint -> why it could not be placed)."""

    def __init__(self, tree: _Tree, user: dict[str, Terms]) -> None:
        self.tree = tree
        self.user = user
        self.found: dict[str, Terms] = {}
        self.words: dict[str, str] = {}
        self.synthesised: dict[str, str] = {}
        self.why: dict[str, str] = {}

    def set(self, ours: str, terms: Terms, words: str | None = None, rule: str | None = None):
        if ours in self.user:
            return
        self.found[ours] = terms
        self.words[ours] = words or _describe(terms, self.tree.names)
        if rule:
            self.synthesised[ours] = rule

    def index(self, ours: str) -> int | None:
        return _single(self.found.get(ours))

    def run(self) -> None:
        for ours, terms in self.user.items():
            self.found[ours] = terms
            self.words[ours] = f"{_describe(terms, self.tree.names)} (joint map)"
        for side in ("l", "r"):
            self._limb(side, ("hip", "knee", "ankle"), (HIP_NAMES, KNEE_NAMES, ANKLE_NAMES))
            self._limb(
                side,
                ("shoulder", "elbow", "wrist"),
                (SHOULDER_NAMES, ELBOW_NAMES, WRIST_NAMES),
            )
        self._pelvis()
        self._head_and_neck()
        self._spine()

    # ------------------------------------------------------------------ limbs

    def _limb(self, side: Side, levels: tuple[str, str, str], names: tuple) -> None:
        t = self.tree
        keys = [f"{side}_{lv}" for lv in levels]
        anchors: list[int | None] = [_single(self.user.get(k)) for k in keys]
        # Distal by name, then each level the nearest named ancestor of the one below.
        if anchors[2] is None:
            hits = t.named(names[2], side=side)
            anchors[2] = hits[0] if hits else None
        for lv in (1, 0):
            if anchors[lv] is not None:
                continue
            below = anchors[lv + 1]
            if below is not None:
                up = [a for a in t.ancestors(below) if a in t.named(names[lv], side=side)]
                anchors[lv] = up[0] if up else t.parents[below] if t.parents[below] >= 0 else None
                if not up and anchors[lv] is not None:
                    self.words[keys[lv]] = f"{t.names[anchors[lv]]} (parent of {t.names[below]})"
            else:
                hits = t.named(names[lv], side=side)
                anchors[lv] = hits[0] if hits else None
        # Levels missing below a found one: follow the longest chain down.
        for lv in (1, 2):
            if anchors[lv] is None and anchors[lv - 1] is not None:
                anchors[lv] = t.chain_child(anchors[lv - 1])  # type: ignore[arg-type]
                if anchors[lv] is not None:
                    self.words[keys[lv]] = (
                        f"{t.names[anchors[lv]]} (child of {t.names[anchors[lv - 1]]})"
                    )
        for key, anchor, syn in zip(keys, anchors, names, strict=True):
            if anchor is None:
                self.why[key] = f"no {'left' if side == 'l' else 'right'} joint named like " + (
                    "/".join(syn[:4])
                )
            elif key not in self.user:
                words = self.words.pop(key, None)
                self.set(key, {anchor: 1.0}, words)

    # ------------------------------------------------------------------ torso

    def _pelvis(self) -> None:
        t = self.tree
        if "pelvis" in self.user:
            return
        hips = [self.index("l_hip"), self.index("r_hip")]
        if None in hips:
            roots = [j for j, p in enumerate(t.parents) if p < 0]
            named = t.named(PELVIS_NAMES, side=None)
            if named:
                self.set("pelvis", {named[0]: 1.0})
            elif roots:
                self.set("pelvis", {roots[0]: 1.0}, f"{t.names[roots[0]]} (the root)")
            return
        branch = t.lca(hips[0], hips[1])  # type: ignore[arg-type]
        on_path = [branch, *t.ancestors(branch)]
        named = t.named(PELVIS_NAMES, side=None, among=on_path)
        if named:
            self.set("pelvis", {named[0]: 1.0})
        else:
            self.set("pelvis", {branch: 1.0}, f"{t.names[branch]} (where the legs branch)")

    def _head_and_neck(self) -> None:
        t = self.tree
        pelvis = self.index("pelvis")
        head = _single(self.user.get("neck"))
        if head is None:
            pool = (
                [j for j in range(len(t.names)) if pelvis in t.ancestors(j)]
                if pelvis is not None
                else None
            )
            hits = t.named(HEAD_NAMES, side=None, among=pool)
            head = hits[0] if hits else None
        if head is None:
            for k in ("neck", "thorax", "head"):
                self.why.setdefault(k, "no joint named head")
            return
        self.set("neck", {head: 1.0})
        # Thorax: the lowest neck joint between the pelvis and the head.
        start = pelvis if pelvis is not None else [head, *t.ancestors(head)][-1]
        path = t.path(start, head)[:-1]
        necks = [j for j in path if t.read[j].side is None and t.read[j].core in NECK_NAMES]
        if necks:
            self.set("thorax", {necks[0]: 1.0})
        elif "thorax" not in self.user:
            self._synthesise_thorax(head)
        # Head top: a head-top joint below the head, of non-zero length.
        scale = self._scale()
        below = [j for j in range(len(t.names)) if head in t.ancestors(j)]
        tops = [
            j
            for j in below
            if t.read[j].side is None
            and (
                t.read[j].core in HEAD_TOP_NAMES
                or (t.read[j].end and t.read[j].core.startswith("head"))
            )
            and t.distance({j: 1.0}, {head: 1.0}) > 1e-3 * scale
        ]
        tops.sort(key=lambda j: t.depth[j])
        if tops:
            self.set("head", {tops[0]: 1.0})
        elif "thorax" in self.found:
            thorax = self.found["thorax"]
            terms = _combine([({head: 1.0}, 2.0), (thorax, -1.0)])
            self.set(
                "head",
                terms,
                f"2*{t.names[head]} - thorax",
                "head top = head joint + (head joint - thorax): no head-top joint or End Site "
                "of non-zero length",
            )

    def _scale(self) -> float:
        """A length of the rig (the longer leg), to tell zero-length bones."""
        t = self.tree
        lengths = []
        for side in ("l", "r"):
            pts = [self.found.get(f"{side}_{k}") for k in ("hip", "knee", "ankle")]
            if all(p is not None for p in pts):
                lengths.append(t.distance(pts[0], pts[1]) + t.distance(pts[1], pts[2]))  # type: ignore[arg-type]
        return max(lengths, default=0.0) or max(
            (t.distance({j: 1.0}, {p: 1.0}) for j, p in enumerate(t.parents) if p >= 0),
            default=1.0,
        )

    def _arm_roots(self, head: int) -> list[int | None]:
        """For each side, the joint that carries the shoulder where the arm leaves the
        spine (the clavicle; the shoulder itself when there is none)."""
        t = self.tree
        out: list[int | None] = []
        for side in ("l", "r"):
            shoulder = self.index(f"{side}_shoulder")
            if shoulder is None:
                out.append(None)
                continue
            branch = t.lca(shoulder, head)
            path = t.path(branch, shoulder)
            out.append(path[1] if len(path) > 1 else shoulder)
        return out

    def _synthesise_thorax(self, head: int) -> None:
        roots = self._arm_roots(head)
        shoulders = [self.index("l_shoulder"), self.index("r_shoulder")]
        if None in roots or None in shoulders:
            self.why.setdefault("thorax", "no neck joint, and no two shoulders to place it")
            return
        if roots != shoulders:
            pair, what = roots, "the clavicles' starts"
        else:
            pair, what = shoulders, "the shoulders"
        self.set(
            "thorax",
            {pair[0]: 0.5, pair[1]: 0.5},  # type: ignore[dict-item]
            rule=f"thorax = midpoint of {what}: the rig has no neck joint",
        )

    def _spine(self) -> None:
        t = self.tree
        if "spine" in self.user:
            return
        pelvis, thorax = self.found.get("pelvis"), self.found.get("thorax")
        if pelvis is None or thorax is None:
            self.why.setdefault("spine", "needs the pelvis and the thorax")
            return
        p, th = _single(pelvis), _single(thorax)
        points: list[Terms] = [pelvis]
        if p is not None:
            target = th
            if target is None:  # synthesised: the chain up to where the arms branch
                sh = [self.index("l_shoulder"), self.index("r_shoulder")]
                target = t.lca(sh[0], sh[1]) if None not in sh else None  # type: ignore[arg-type]
            chain = t.path(p, target) if target is not None else []
            points += [{j: 1.0} for j in chain[1:]]
        if th is None or len(points) == 1:
            points.append(thorax)
        lengths = [t.distance(a, b) for a, b in itertools.pairwise(points)]
        total = sum(lengths)
        if not total > 0:
            self.why["spine"] = "the pelvis and the thorax are at the same place"
            return
        half, run = total / 2.0, 0.0
        for k, seg in enumerate(lengths):
            if run + seg >= half and seg > 0:
                f = (half - run) / seg
                terms = _combine([(points[k], 1.0 - f), (points[k + 1], f)])
                chain_words = "->".join(_describe(q, t.names) for q in points)
                self.set("spine", terms, f"halfway {chain_words}")
                return
            run += seg

    # ------------------------------------------------------------------ errors

    def failure(self, missing: Sequence[str]) -> str:
        t = self.tree
        matched = ", ".join(f"{j}={self.words.get(j, '?')}" for j in H36M17_JOINTS)
        reasons = "; ".join(f"{j}: {self.why.get(j, 'not found')}" for j in missing)
        return (
            f"cannot map this skeleton onto our 17 joints: no {', '.join(missing)} ({reasons}). "
            f"Matched: {matched}. The file's {len(t.names)} joints: {', '.join(t.names)}. "
            "Name the missing joints in a joint map (docs/POSE.md, 'Joint maps') and pass it "
            "with --set joint_map=FILE.yaml"
        )


# --------------------------------------------------------------------------- geometry

#: Rotation taking coordinates of a file whose up axis is the key to ours (y up); all
#: proper rotations (det +1), so left stays left.
UP_ROTATIONS: dict[str, tuple[tuple[float, ...], ...]] = {
    "y": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "z": ((1, 0, 0), (0, 0, 1), (0, -1, 0)),
    "-y": ((1, 0, 0), (0, -1, 0), (0, 0, -1)),
    "-z": ((1, 0, 0), (0, 0, -1), (0, 1, 0)),
    "x": ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    "-x": ((0, 1, 0), (-1, 0, 0), (0, 0, 1)),
}


def detect_up_axis(poses: torch.Tensor) -> tuple[str, float]:
    """The up axis of (T, 17, 3) poses (file axes) and its confidence in [0, 1].

    In every frame where the spine (pelvis -> thorax) and the legs (ankles -> pelvis) point
    the same way (cosine > 0.5: standing, walking, not lying), their directions vote; the
    axis of the summed vote is up (``"y"``, ``"z"``, ``"-y"``, ...), the confidence is the
    vote's share on that axis. Frames where no one stands fall back to the spine alone.
    """
    check_shape("poses", poses, ("T", len(H36M17_JOINTS), 3))
    p = poses.double()
    spine = p[:, 8] - p[:, 0]
    legs = p[:, 0] - 0.5 * (p[:, 3] + p[:, 6])
    s = spine / spine.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    g = legs / legs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    upright = (s * g).sum(-1) > 0.5
    vote = (s + g)[upright].sum(0) if upright.any() else s.sum(0)
    if not torch.isfinite(vote).all() or vote.norm() == 0:
        return "y", 0.0
    axis = int(vote.abs().argmax())
    label = ("-" if vote[axis] < 0 else "") + "xyz"[axis]
    return label, float(vote[axis].abs() / vote.norm())


def standing_height(poses: torch.Tensor) -> float:
    """The standing height of (T, 17, 3) poses in their unit: the bones from ankle to head
    top (mean of the two legs, pelvis -> thorax, thorax -> neck -> head), averaged over
    frames. It does not depend on the pose or the axes; for a person it is 1.3-2.0 m (it
    leaves out the foot and the hip's drop below the pelvis)."""
    check_shape("poses", poses, ("T", len(H36M17_JOINTS), 3))
    p = poses.double()

    def bone(a: int, b: int) -> torch.Tensor:
        return (p[:, a] - p[:, b]).norm(dim=-1)

    legs = 0.5 * (bone(1, 2) + bone(2, 3) + bone(4, 5) + bone(5, 6))
    return float((legs + bone(0, 8) + bone(8, 9) + bone(9, 10)).mean())
