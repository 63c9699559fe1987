"""Motion capture from any source: Acclaim ASF/AMC (CMU mocap), BVH of every common rig, and
C3D marker files, with forward kinematics, units and axes found, mapped onto our 17 joints.

Every loader returns a :class:`Motion`: joint (or marker) positions (T, J, 3) in **metres**,
**y up**, joint names and parents, and :class:`MotionInfo`: what was found (rig, unit, up axis,
the mapping of each of our 17 joints, the joints synthesised). ``Motion.to_h36m17()`` gives
(T, 17, 3) poses on the library's skeleton (:mod:`unpaired.data.skeleton`); the mapping rules
for BVH and C3D are in :mod:`unpaired.data.rigs`.

Acclaim ASF/AMC (the CMU database):

- Lengths: ``:units length L`` means one file unit is ``1/L`` inch, so
  ``metres = value / L * 0.0254`` (CMU: ``L = 0.45``). Angles: ``:units angle deg|rad``;
  an AMC header ``:DEGREES`` / ``:RADIANS`` overrides it for the motion.
- A bone's joint is its **end point** (``rfemur`` = the right knee). With ``C`` the bone's
  ``axis`` rotation and ``M`` its AMC rotation, the global rotation is
  ``G = G_parent C M C^T`` and ``end = end_parent + length * G @ direction``.
- Rotation order: Acclaim lists rotations in the order they are applied to a vector
  (``axis ... XYZ`` and ``dof rx ry rz`` both mean ``R = Rz Ry Rx``); any order is honoured.
  The root's AMC channels follow ``:root order`` (e.g. ``TX TY TZ RX RY RZ``), its ``C``
  comes from ``orientation`` with ``axis``. The root position is the AMC translation, or
  the ASF ``position`` when the root has no translation channels.
- ``limits`` are parsed and checked (one pair per dof) but not applied: CMU motions
  exceed them slightly and clamping would distort the capture.
- ``:FULLY-SPECIFIED`` AMC files must list every bone with dofs in every frame; without it
  a bone left out keeps its previous value (zero before its first appearance).
- CMU AMC files do not store their frame rate; it is 120 fps (``source_fps``). Mapped to the
  17 joints by the named table ``skeleton.FROM_CMU_ASF``.

BVH: a joint sits at the **start** of its segment: ``p = p_parent + G_parent @ offset``,
``G = G_parent L``, where ``L`` is the product of the rotation channels in the order listed
(``Zrotation Xrotation Yrotation`` -> ``L = Rz Rx Ry``). **Position channels replace the
OFFSET** on their axes (the root's, and every joint's in files that give all joints six
channels: LAFAN1, Bandai-Namco, 3ds Max Biped exports), as Ubisoft's LAFAN1 reader does and as
those files need (their position channels repeat the offsets). End Sites become joints named
``<parent>_end``; joint names may contain spaces (``Bip01 L Thigh``).

- **Unit** (``units="auto"``): one BVH unit is m, cm, mm, in or ``cmu`` (1/0.45 inch, the
  Acclaim unit that BVH conversions of the CMU database keep: their hips stand ~17.8 units
  high). The unit chosen is the one that puts the skeleton's standing height
  (:func:`unpaired.data.rigs.standing_height`, the bones from ankle to head top, independent of
  pose and axes) closest to 1.6 m; a person's is 1.3-2.0 m. The choice and the height are
  reported in ``MotionInfo``; ``units=`` or a joint map's ``units:`` overrides it.
- **Up axis** (``up="auto"``): from the bone directions (:func:`unpaired.data.rigs.
  detect_up_axis`: spine and legs vote in the frames where they line up); Z-up files are
  rotated to y up by a proper rotation (``(x, y, z) -> (x, z, -y)``, left stays left).
- The root offset and position are kept (they do not matter to root-relative poses).

C3D (optional, ``pip install 'unpaired[c3d]'``): marker positions through the ``c3d`` package,
in the unit of ``POINT:UNITS`` (else detected like BVH), gaps (invalid samples) filled by
linear interpolation in time; joints are means of named markers (:data:`C3D_MARKER_MAP`,
CMU's 41-marker set or Vicon Plug-in Gait names), which a joint map can replace.

Frames are subsampled to ``fps`` (default 30: every 4th frame of 120 fps) before the
forward kinematics. Malformed files raise :class:`~unpaired.errors.DataError` naming the
file and the line.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.data.rigs import (
    UP_ROTATIONS,
    JointMapFile,
    RigMapping,
    detect_up_axis,
    from_table,
    load_joint_map,
    match_skeleton,
    parse_joint_expression,
    standing_height,
)
from unpaired.data.skeleton import H36M17_JOINTS, MAPPINGS, forward_kinematics, mapping_for
from unpaired.errors import DataError, DataNotFoundError
from unpaired.geometry import euler_to_matrix

PathLike = str | os.PathLike[str]
INCH = 0.0254
CMU_FPS = 120.0
#: What one BVH (or C3D) length unit is, in metres. ``cmu``: the Acclaim unit of CMU's ASF
#: files (1/0.45 inch), kept by the BVH conversions of the CMU database.
BVH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": INCH, "cmu": INCH / 0.45}
Units = Literal["auto", "m", "cm", "mm", "in", "cmu"]
UpAxis = Literal["auto", "y", "z", "-y", "-z", "x", "-x"]
#: Standing height (:func:`~unpaired.data.rigs.standing_height`) the unit detection aims at,
#: and the range outside which it warns.
TYPICAL_HEIGHT_M = 1.6
HEIGHT_RANGE_M = (1.2, 2.2)
_ROTATION_DOFS = ("rx", "ry", "rz")
_TRANSLATION_DOFS = ("tx", "ty", "tz")


@dataclass(frozen=True)
class MotionInfo:
    """What a loader found in a file.

    ``unit`` names one file length unit (a key of :data:`BVH_UNITS`, or ``"asf"``) and
    ``metres_per_unit`` its size; ``unit_source`` / ``up_source`` say how they were chosen
    (``"detected ..."``, ``"given"``, ``"joint map"``, ``"file"``); ``up`` is the file's up axis
    (positions are rotated from it to y up); ``height_m`` the standing height in metres;
    ``mapping`` the 17-joint mapping, or None with the reason in ``mapping_error``.
    """

    format: str
    unit: str
    metres_per_unit: float
    unit_source: str
    up: str
    up_source: str
    source_fps: float
    source_frames: int
    height_m: float | None = None
    mapping: RigMapping | None = None
    mapping_error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def rig(self) -> str:
        return self.mapping.rig if self.mapping is not None else "unrecognised"

    @property
    def synthesised(self) -> dict[str, str]:
        """Our joints the file lacks -> the rule that made them."""
        return dict(self.mapping.synthesised) if self.mapping is not None else {}


@dataclass(frozen=True)
class Motion:
    """A parsed motion: ``positions`` (T, J, 3) float32 in metres, y up, at ``fps`` frames/s;
    ``info`` says what was found (None for a motion built by hand)."""

    positions: torch.Tensor
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    fps: float
    source: str
    info: MotionInfo | None = None

    def to_h36m17(self) -> torch.Tensor:
        """(T, 17, 3) positions on the library's 17-joint skeleton (see ``skeleton.py``).

        Raises :class:`DataError` (naming the file, listing its joints and what each of ours
        was matched to) when the skeleton cannot be mapped."""
        if self.info is not None:
            if self.info.mapping is None:
                raise DataError(self.info.mapping_error or f"{self.source}: no joint mapping")
            return self.info.mapping.apply(self.positions)
        try:
            mapping = from_table(
                MAPPINGS[mapping_for(self.joint_names)], self.joint_names, rig="table"
            )
        except DataError:
            mapping = match_skeleton(self.joint_names, self.parents, self.positions)
        return mapping.apply(self.positions)


# --------------------------------------------------------------------------- helpers


def _fail(path: Path, line: int | None, message: str) -> DataError:
    where = f"{path}, line {line}" if line is not None else str(path)
    return DataError(f"{where}: {message}")


def _read_lines(path: Path) -> list[str]:
    """The file's lines (CRLF, CR or LF), or a DataError when it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: file not found") from None
    except OSError as err:
        raise _fail(path, None, f"cannot read ({err.strerror})") from None
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise _fail(path, line, "binary data where a text file was expected")
    return data.decode("utf-8", errors="replace").splitlines()


def _clean(line: str) -> str:
    """Drop a ``#`` comment and surrounding whitespace."""
    return line.split("#", 1)[0].strip()


def _numbers(path: Path, line: int, tokens: Sequence[str], count: int, what: str) -> list[float]:
    if len(tokens) != count:
        raise _fail(path, line, f"{what}: expected {count} numbers, got {len(tokens)}")
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise _fail(path, line, f"{what}: expected numbers, got {' '.join(tokens)!r}") from None


def _axes_rotation(angles: torch.Tensor, axes: str) -> torch.Tensor:
    """Angles (T, k) in radians about ``axes`` (k letters from 'xyz') -> (T, 3, 3) rotation
    ``R_axes[0] @ R_axes[1] @ ...`` (left-to-right product), built with ``euler_to_matrix``."""
    if axes == "xyz":
        return euler_to_matrix(angles)
    if axes == "zyx":  # Rz(c) Ry(b) Rx(a) = (Rx(-a) Ry(-b) Rz(-c))^T
        return euler_to_matrix(-angles.flip(-1)).transpose(-1, -2)
    rot = torch.eye(3, dtype=angles.dtype).expand(angles.shape[0], 3, 3)
    for k, axis in enumerate(axes):
        euler = torch.zeros(angles.shape[0], 3, dtype=angles.dtype)
        euler[:, "xyz".index(axis)] = angles[:, k]
        rot = rot @ euler_to_matrix(euler)
    return rot


def _subsample_step(source_fps: float, fps: float | None) -> int:
    """Keep every step-th frame to get close to ``fps``; never upsamples."""
    if fps is None:
        return 1
    if not fps > 0:
        raise ValueError(f"fps must be positive or None, got {fps}")
    return max(1, round(source_fps / fps))


# --------------------------------------------------------------------------- ASF


@dataclass(frozen=True)
class Bone:
    """One ASF bone. Angles in radians, ``length`` in file units."""

    name: str
    direction: tuple[float, float, float]
    length: float
    axis: tuple[float, float, float]
    axis_order: str  # lower-case letters in application order, e.g. "xyz"
    dof: tuple[str, ...]  # AMC channel order, e.g. ("rx", "ry", "rz")
    limits: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class AsfSkeleton:
    """A parsed Acclaim skeleton; ``joint_names``/``parents`` put the root first and every
    parent before its children."""

    source: str
    metres_per_unit: float
    angles_in_degrees: bool
    root_order: tuple[str, ...]  # AMC channels of the root, e.g. ("tx", ..., "rz")
    root_axis_order: str
    root_position: tuple[float, float, float]
    root_orientation: tuple[float, float, float]  # radians
    bones: dict[str, Bone]
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]

    def channels(self) -> dict[str, tuple[str, ...]]:
        """AMC line name -> its channels, for the root and every bone with dofs."""
        out = {"root": self.root_order}
        out.update({b.name: b.dof for b in self.bones.values() if b.dof})
        return out


_LIMIT_RE = re.compile(r"\(\s*([^\s()]+)\s+([^\s()]+)\s*\)")


def _parse_limits(path: Path, line: int, text: str) -> list[tuple[float, float]]:
    pairs = _LIMIT_RE.findall(text)
    if not pairs or _LIMIT_RE.sub("", text).strip():
        raise _fail(path, line, f"limits: expected '(min max)' pairs, got {text!r}")
    try:
        return [(float(a), float(b)) for a, b in pairs]
    except ValueError:
        raise _fail(path, line, f"limits: expected numbers, got {text!r}") from None


def _order_letters(path: Path, line: int, token: str, allowed: str = "xyz") -> str:
    order = token.lower()
    if sorted(order) != sorted(allowed):
        raise _fail(path, line, f"expected a rotation order such as XYZ, got {token!r}")
    return order


@dataclass
class _BoneBlock:
    """A ``begin ... end`` block of ``:bonedata`` while it is being read."""

    line: int
    name: str | None = None
    direction: list[float] | None = None
    length: float | None = None
    axis: list[float] | None = None
    axis_order: str = "xyz"
    dof: tuple[str, ...] = ()
    limits: list[tuple[float, float]] = field(default_factory=list)

    def build(self, path: Path, to_rad: float) -> Bone:
        if self.name is None or self.direction is None or self.length is None or self.axis is None:
            missing = [
                k for k in ("name", "direction", "length", "axis") if getattr(self, k) is None
            ]
            raise _fail(path, self.line, f"bone has no {', '.join(missing)}")
        if self.limits and len(self.limits) != len(self.dof):
            raise _fail(
                path,
                self.line,
                f"bone {self.name!r}: {len(self.dof)} dofs but {len(self.limits)} limits",
            )
        norm = math.sqrt(sum(d * d for d in self.direction))
        if norm == 0.0:
            raise _fail(path, self.line, f"bone {self.name!r}: zero direction vector")
        return Bone(
            name=self.name,
            direction=(
                self.direction[0] / norm,
                self.direction[1] / norm,
                self.direction[2] / norm,
            ),
            length=self.length,
            axis=(self.axis[0] * to_rad, self.axis[1] * to_rad, self.axis[2] * to_rad),
            axis_order=self.axis_order,
            dof=self.dof,
            limits=tuple(self.limits),
        )


def _bone_line(path: Path, lineno: int, bone: _BoneBlock, key: str, args: list[str]) -> None:
    """Read one ``key args...`` line inside a bone block into ``bone``."""
    if key == "name":
        if len(args) != 1:
            raise _fail(path, lineno, "name: expected one bone name")
        bone.name = args[0]
    elif key == "direction":
        bone.direction = _numbers(path, lineno, args, 3, "direction")
    elif key == "length":
        (bone.length,) = _numbers(path, lineno, args, 1, "length")
    elif key == "axis":
        if len(args) != 4:
            raise _fail(path, lineno, "axis: expected 3 angles and an order (XYZ)")
        bone.axis = _numbers(path, lineno, args[:3], 3, "axis")
        bone.axis_order = _order_letters(path, lineno, args[3])
    elif key == "dof":
        dof = tuple(a.lower() for a in args)
        if any(d not in _ROTATION_DOFS for d in dof) or len(set(dof)) != len(dof):
            raise _fail(path, lineno, f"dof: only distinct rx ry rz are supported, got {args}")
        bone.dof = dof
    elif key == "limits":
        bone.limits.extend(_parse_limits(path, lineno, " ".join(args)))
    # id, bodymass, cofmass: not needed for kinematics


def parse_asf(path: PathLike) -> AsfSkeleton:
    """Parse an Acclaim ASF skeleton file. Raises :class:`DataError` (file, line) when
    malformed."""
    path = Path(path)
    length_unit, degrees = 1.0, True
    root_order, root_order_line = ("tx", "ty", "tz", "rx", "ry", "rz"), 0
    root_axis = "xyz"
    root_vectors = {"position": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0]}
    blocks: list[_BoneBlock] = []
    children: dict[str, list[str]] = {}
    child_line: dict[str, int] = {}
    section = ""
    bone: _BoneBlock | None = None
    last_key = ""
    for lineno, raw in enumerate(_read_lines(path), start=1):
        text = _clean(raw)
        if not text:
            continue
        if text.startswith(":"):
            if bone is not None:
                raise _fail(path, bone.line, f"bone without 'end' (section {text!r} starts)")
            section = text[1:].split()[0].lower() if len(text) > 1 else ""
            continue
        key, *args = text.split()
        key = key.lower()
        if section == "units":
            if key == "length":
                (length_unit,) = _numbers(path, lineno, args, 1, "units length")
                if length_unit <= 0:
                    raise _fail(path, lineno, "units length must be positive")
            elif key == "angle":
                if args not in (["deg"], ["rad"]):
                    raise _fail(path, lineno, f"units angle must be deg or rad, got {args}")
                degrees = args == ["deg"]
        elif section == "root":
            if key == "order":
                root_order, root_order_line = tuple(a.lower() for a in args), lineno
            elif key == "axis":
                if len(args) != 1:
                    raise _fail(path, lineno, "root axis: expected one order such as XYZ")
                root_axis = _order_letters(path, lineno, args[0])
            elif key in root_vectors:
                root_vectors[key] = _numbers(path, lineno, args, 3, f"root {key}")
        elif section == "bonedata":
            if key == "begin":
                if bone is not None:
                    raise _fail(path, lineno, "'begin' inside a bone (missing 'end')")
                bone = _BoneBlock(lineno)
            elif bone is None:
                raise _fail(path, lineno, f"{key!r} outside a begin/end bone block")
            elif key == "end":
                blocks.append(bone)
                bone = None
            elif key.startswith("(") and last_key == "limits":  # limits continue
                bone.limits.extend(_parse_limits(path, lineno, text))
                key = "limits"
            else:
                _bone_line(path, lineno, bone, key, args)
        elif section == "hierarchy" and key not in ("begin", "end"):
            if not args:
                raise _fail(path, lineno, f"hierarchy: {key!r} lists no children")
            for child in args:
                if child in child_line:
                    raise _fail(path, lineno, f"hierarchy: {child!r} has two parents")
                child_line[child] = lineno
            children.setdefault(text.split()[0], []).extend(args)  # names keep their case
        last_key = key
    if bone is not None:
        raise _fail(path, bone.line, "bone without 'end' (file truncated?)")
    if not blocks:
        raise _fail(path, None, "no :bonedata bones found (not an ASF file?)")
    if any(c not in _ROTATION_DOFS + _TRANSLATION_DOFS for c in root_order) or len(
        set(root_order)
    ) != len(root_order):
        raise _fail(path, root_order_line, f"root order: unknown channels {root_order}")
    to_rad = math.pi / 180.0 if degrees else 1.0
    bones: dict[str, Bone] = {}
    for block in blocks:
        built = block.build(path, to_rad)
        if built.name in bones or built.name == "root":
            raise _fail(path, block.line, f"bone name {built.name!r} used twice")
        bones[built.name] = built
    names, parents = _topological(path, bones, children, child_line)
    px, py, pz = root_vectors["position"]
    ox, oy, oz = (a * to_rad for a in root_vectors["orientation"])
    return AsfSkeleton(
        source=str(path),
        metres_per_unit=INCH / length_unit,
        angles_in_degrees=degrees,
        root_order=root_order,
        root_axis_order=root_axis,
        root_position=(px, py, pz),
        root_orientation=(ox, oy, oz),
        bones=bones,
        joint_names=names,
        parents=parents,
    )


def _topological(
    path: Path, bones: dict[str, Bone], children: dict[str, list[str]], child_line: dict[str, int]
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Joint names (root first, depth-first) and parent indices from ``:hierarchy``."""
    for child, line in child_line.items():
        if child not in bones:
            raise _fail(path, line, f"hierarchy: unknown bone {child!r}")
    for parent, kids in children.items():
        if parent != "root" and parent not in bones:
            raise _fail(path, child_line[kids[0]], f"hierarchy: unknown bone {parent!r}")
    names, parents = ["root"], [-1]
    stack = [("root", c) for c in reversed(children.get("root", []))]
    while stack:
        parent, child = stack.pop()
        names.append(child)
        parents.append(names.index(parent))
        stack.extend((child, c) for c in reversed(children.get(child, [])))
    unreachable = sorted(set(bones) - set(names))
    if unreachable:
        raise _fail(path, None, f"hierarchy: bones not connected to the root: {unreachable}")
    return tuple(names), tuple(parents)


# --------------------------------------------------------------------------- AMC


def _amc_header(path: Path, lines: list[str]) -> tuple[int, bool, bool | None]:
    """Index of the first frame line, whether ``:FULLY-SPECIFIED``, and the angle unit
    (True degrees, False radians, None unspecified)."""
    fully, degrees = False, None
    for i, raw in enumerate(lines):
        text = _clean(raw)
        if not text:
            continue
        if text.startswith(":"):
            keyword = text[1:].lower().replace("-", "_")
            if keyword == "fully_specified":
                fully = True
            elif keyword in ("degrees", "radians"):
                degrees = keyword == "degrees"
            continue
        if not text.isdigit():
            raise _fail(path, i + 1, f"expected a frame number, got {text[:40]!r}")
        return i, fully, degrees
    raise _fail(path, None, "no frames (empty or header-only AMC file)")


def _numbers_fast(text: str, count: int) -> np.ndarray | None:
    """All whitespace-separated numbers of ``text`` (C speed), or None unless exactly
    ``count`` numbers and nothing else."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(text, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    return values if values.size == count else None


def _amc_fast(
    lines: list[str], channels: dict[str, tuple[str, ...]]
) -> dict[str, np.ndarray] | None:
    """Vectorized parse of the regular layout (each frame: its number, then the same bones in
    the same order, nothing else). None when the file is not regular: the line parser then
    parses it or reports the exact line at fault."""
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    stride = 1 + len(channels)
    if not lines or len(lines) % stride:
        return None
    frames = len(lines) // stride
    numbers = _numbers_fast(" ".join(lines[0::stride]), frames)
    if numbers is None or np.any(np.diff(numbers) != 1):
        return None
    out: dict[str, np.ndarray] = {}
    for k, raw in enumerate(lines[1:stride]):
        name = raw.split(maxsplit=1)[0] if raw.strip() else ""
        if name not in channels or name in out:
            return None
        # Every line of this slot must start with the name: count, then strip it.
        text = "\n" + "\n".join(lines[k + 1 :: stride])
        marker = "\n" + name
        if text.count(marker) != frames:
            return None
        width = len(channels[name])
        values = _numbers_fast(text.replace(marker, " "), frames * width)
        if values is None:
            return None
        out[name] = values.reshape(frames, width)
    return out if len(out) == len(channels) else None


def _amc_lines(
    path: Path,
    lines: list[str],
    offset: int,
    channels: dict[str, tuple[str, ...]],
    fully_specified: bool,
) -> dict[str, np.ndarray]:
    """Line-by-line AMC parse with exact diagnostics (any layout the format allows)."""
    rows: dict[str, list[list[float]]] = {name: [] for name in channels}
    current: dict[str, list[float]] = {}
    previous = {name: [0.0] * len(ch) for name, ch in channels.items()}
    frame_line, expected = 0, None

    def close_frame() -> None:
        missing = [n for n in channels if n not in current]
        if missing and fully_specified:
            raise _fail(
                path,
                frame_line,
                f"frame {expected} lists {len(channels) - len(missing)} of {len(channels)} "
                f"bones (missing {', '.join(missing[:4])}); file truncated or corrupt?",
            )
        for name in channels:
            previous[name] = current.get(name, previous[name])
            rows[name].append(previous[name])

    for i, raw in enumerate(lines):
        lineno = offset + i + 1
        text = _clean(raw)
        if not text or text.startswith(":"):
            continue
        tokens = text.split()
        if len(tokens) == 1 and tokens[0].isdigit():
            if expected is not None:
                close_frame()
            number = int(tokens[0])
            if expected is not None and number != expected + 1:
                raise _fail(path, lineno, f"frame {number} follows frame {expected}")
            expected, frame_line, current = number, lineno, {}
            continue
        name = tokens[0]
        if name not in channels:
            raise _fail(path, lineno, f"unknown bone {name!r} (not in the ASF, or no dof)")
        if name in current:
            raise _fail(path, lineno, f"bone {name!r} appears twice in frame {expected}")
        current[name] = _numbers(path, lineno, tokens[1:], len(channels[name]), name)
    close_frame()
    return {
        name: np.asarray(v, dtype=np.float64).reshape(-1, len(channels[name]))
        for name, v in rows.items()
    }


def parse_amc(path: PathLike, skeleton: AsfSkeleton) -> tuple[dict[str, np.ndarray], bool]:
    """Parse an AMC motion against ``skeleton``.

    Returns ``({name: (F, n_channels) values}, degrees)``: raw channel values in file units
    for the root and every bone with dofs, and whether angles are in degrees.
    """
    path = Path(path)
    lines = _read_lines(path)
    start, fully, degrees = _amc_header(path, lines)
    channels = skeleton.channels()
    values = _amc_fast(lines[start:], channels)
    if values is None:
        values = _amc_lines(path, lines[start:], start, channels, fully)
    return values, skeleton.angles_in_degrees if degrees is None else degrees


def _asf_forward_kinematics(
    skeleton: AsfSkeleton, values: dict[str, np.ndarray], degrees: bool
) -> torch.Tensor:
    """Channel values (F, n) per bone -> (F, J, 3) positions in metres (float64)."""
    frames = values["root"].shape[0]
    to_rad = math.pi / 180.0 if degrees else 1.0
    dt = torch.float64

    def local(
        axis: tuple[float, ...], axis_order: str, dof: tuple[str, ...], data: np.ndarray
    ) -> torch.Tensor:
        # Acclaim lists rotations in application order: reverse for a left-to-right product.
        letters = axis_order[::-1]
        c_angles = torch.tensor([[axis["xyz".index(a)] for a in letters]], dtype=dt)
        c = _axes_rotation(c_angles, letters)[0]
        rot_cols = [k for k, d in enumerate(dof) if d in _ROTATION_DOFS]
        angles = torch.from_numpy(data[:, rot_cols[::-1]] * to_rad)
        m = _axes_rotation(angles, "".join(dof[k][1] for k in rot_cols[::-1]))
        return c @ m @ c.T

    root_axis = skeleton.root_orientation
    rotations = [local(root_axis, skeleton.root_axis_order, skeleton.root_order, values["root"])]
    offsets = [torch.zeros(3, dtype=dt)]
    empty = np.zeros((frames, 0))
    for name in skeleton.joint_names[1:]:
        bone = skeleton.bones[name]
        rotations.append(local(bone.axis, bone.axis_order, bone.dof, values.get(name, empty)))
        offsets.append(torch.tensor(bone.direction, dtype=dt) * bone.length)
    root = torch.tensor(skeleton.root_position, dtype=dt).repeat(frames, 1)
    for k, channel in enumerate(skeleton.root_order):
        if channel in _TRANSLATION_DOFS:
            root[:, "xyz".index(channel[1])] = torch.from_numpy(values["root"][:, k])
    positions = forward_kinematics(
        torch.stack(rotations, dim=1),
        torch.stack(offsets),
        skeleton.parents,
        root,
        offset_frame="own",
    )
    return positions * skeleton.metres_per_unit


def load_take(
    asf: PathLike | AsfSkeleton,
    amc: PathLike,
    *,
    fps: float | None = 30.0,
    source_fps: float = CMU_FPS,
) -> Motion:
    """Load one ASF/AMC take: (T, J, 3) joint positions in metres, subsampled to ``fps``
    (every ``round(source_fps / fps)``-th frame; None keeps all). ``asf`` may be a parsed
    skeleton to share it between takes."""
    skeleton = asf if isinstance(asf, AsfSkeleton) else parse_asf(asf)
    step = _subsample_step(source_fps, fps)
    values, degrees = parse_amc(amc, skeleton)
    kept = {name: v[::step] for name, v in values.items()}
    positions = _asf_forward_kinematics(skeleton, kept, degrees).float()
    mapping, error, height = None, None, None
    try:
        mapping = from_table(MAPPINGS["cmu_asf"], skeleton.joint_names, rig="cmu asf/amc")
        height = standing_height(mapping.apply(positions)) if len(positions) else None
    except DataError as err:
        error = f"{amc}: {err} (the 17-joint mapping of ASF files is CMU's bone naming)"
    info = MotionInfo(
        format="asf/amc",
        unit="asf",
        metres_per_unit=skeleton.metres_per_unit,
        unit_source=f"file (:units length {INCH / skeleton.metres_per_unit:g})",
        up="y",
        up_source="file (Acclaim convention)",
        source_fps=source_fps,
        source_frames=len(values["root"]),
        height_m=height,
        mapping=mapping,
        mapping_error=error,
    )
    return Motion(
        positions=positions,
        joint_names=skeleton.joint_names,
        parents=skeleton.parents,
        fps=source_fps / step,
        source=str(amc),
        info=info,
    )


def _subject_folder(root: PathLike, subject: str) -> Path:
    base = require("cmu_mocap", Path(root)) / "subjects"
    folder = base / subject
    if not folder.is_dir():
        found = sorted(p.name for p in base.iterdir() if p.is_dir())
        raise DataNotFoundError(
            f"CMU mocap subject {subject!r} not found under {base}; found {', '.join(found)}"
        )
    return folder


def list_subjects(root: PathLike) -> list[str]:
    """Subject folders (``"01"``, ...) of the CMU mocap dataset under data directory ``root``."""
    base = require("cmu_mocap", Path(root)) / "subjects"
    return sorted(p.name for p in base.iterdir() if p.is_dir() and any(p.glob("*.asf")))


def list_takes(root: PathLike, subject: str) -> tuple[Path, list[Path]]:
    """The ASF file and the sorted AMC takes of ``subject`` under data directory ``root``."""
    folder = _subject_folder(root, subject)
    asfs = sorted(folder.glob("*.asf"))
    preferred = folder / f"{subject}.asf"
    if preferred.is_file():
        asf = preferred
    elif len(asfs) == 1:
        asf = asfs[0]
    else:
        raise DataError(
            f"{folder}: expected one {subject}.asf skeleton, found {len(asfs)} ASF files"
        )
    takes = sorted(folder.glob("*.amc"))
    if not takes:
        raise DataNotFoundError(f"{folder}: no .amc takes found")
    return asf, takes


def load_subject(
    root: PathLike, subject: str, *, fps: float | None = 30.0, source_fps: float = CMU_FPS
) -> dict[str, Motion]:
    """Every take of a CMU subject (``load_subject(data_dir, "01")``): take name -> Motion."""
    asf, takes = list_takes(root, subject)
    skeleton = parse_asf(asf)
    return {amc.stem: load_take(skeleton, amc, fps=fps, source_fps=source_fps) for amc in takes}


# --------------------------------------------------------------------------- BVH


@dataclass(frozen=True)
class _BvhJoint:
    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: tuple[str, ...]  # lower-case: "xposition", "zrotation", ...
    line: int


_BVH_CHANNELS = ("xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation")
_MAX_CHANNELS = 64


class _Tokens:
    """The whitespace-separated tokens of ``lines`` with their line numbers, read lazily (a
    file's hierarchy is read without splitting its motion data)."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self._it = ((tok, i + 1) for i, raw in enumerate(lines) for tok in raw.split())
        self.last_line = 1

    def take(self, what: str) -> tuple[str, int]:
        try:
            tok, self.last_line = next(self._it)
        except StopIteration:
            raise _fail(
                self.path, self.last_line, f"file ends while expecting {what} (truncated?)"
            ) from None
        return tok, self.last_line


def _bvh_hierarchy(path: Path, lines: list[str]) -> tuple[list[_BvhJoint], int]:
    """Parse HIERARCHY; returns the joints and the (1-based) line of MOTION."""
    toks = _Tokens(path, lines)
    joints: list[_BvhJoint] = []
    stack: list[int] = []
    tok, line = toks.take("HIERARCHY")
    if tok.upper() != "HIERARCHY":
        raise _fail(path, line, f"expected HIERARCHY, got {tok[:40]!r} (not a BVH file?)")
    while True:
        tok, line = toks.take("a joint or MOTION")
        upper = tok.upper()
        if upper in ("ROOT", "JOINT", "END"):
            if (upper == "ROOT") != (not stack and not joints):
                raise _fail(path, line, f"unexpected {tok} (one ROOT, then JOINTs inside it)")
            is_end = upper == "END"
            if is_end:
                site, sline = toks.take("Site")
                if site.upper() != "SITE":
                    raise _fail(path, sline, f"expected 'End Site', got 'End {site[:40]}'")
                if not stack:
                    raise _fail(path, line, "End Site outside a joint")
                name = f"{joints[stack[-1]].name}_end"
                brace, bline = toks.take("'{'")
                if brace != "{":
                    raise _fail(path, bline, f"expected '{{' after End Site, got {brace[:40]!r}")
            else:
                parts: list[str] = []
                while True:  # a name runs to the '{' (names may hold spaces)
                    word, bline = toks.take("'{'")
                    if word == "{":
                        break
                    if bline != line or len(parts) > 16:
                        raise _fail(path, bline, f"expected '{{' after {tok} {' '.join(parts)}")
                    parts.append(word)
                if not parts:
                    raise _fail(path, line, f"{tok} without a name")
                name = " ".join(parts)
            offset_kw, oline = toks.take("OFFSET")
            if offset_kw.upper() != "OFFSET":
                raise _fail(path, oline, f"expected OFFSET in {name}, got {offset_kw[:40]!r}")
            offset = _numbers(
                path, oline, [toks.take("a number")[0] for _ in range(3)], 3, "OFFSET"
            )
            if not all(math.isfinite(v) for v in offset):
                raise _fail(path, oline, f"OFFSET of {name}: values must be finite")
            channels: tuple[str, ...] = ()
            cline = oline
            if not is_end:
                ch_kw, cline = toks.take("CHANNELS")
                if ch_kw.upper() != "CHANNELS":
                    raise _fail(path, cline, f"expected CHANNELS in {name}, got {ch_kw[:40]!r}")
                count_tok, _ = toks.take("a channel count")
                if not re.fullmatch(r"[0-9]{1,3}", count_tok) or int(count_tok) > _MAX_CHANNELS:
                    raise _fail(path, cline, f"CHANNELS: expected a count, got {count_tok[:40]!r}")
                names = []
                for _ in range(int(count_tok)):
                    ch, chline = toks.take("a channel name")
                    if ch.lower() not in _BVH_CHANNELS or ch.lower() in names:
                        raise _fail(
                            path, chline, f"CHANNELS: unknown or repeated channel {ch[:40]!r}"
                        )
                    names.append(ch.lower())
                channels = tuple(names)
            ox, oy, oz = offset
            parent = stack[-1] if stack else -1
            joints.append(_BvhJoint(name, parent, (ox, oy, oz), channels, cline))
            stack.append(len(joints) - 1)
        elif tok == "}":
            if not stack:
                raise _fail(path, line, "unbalanced '}'")
            stack.pop()
        elif upper == "MOTION":
            if stack or not joints:
                raise _fail(path, line, "MOTION before the hierarchy is closed")
            return joints, line
        else:
            raise _fail(path, line, f"unexpected {tok[:40]!r} in HIERARCHY")


def _bvh_frames(path: Path, lines: list[str], motion_line: int, width: int):
    """The MOTION block: (F, width) channel values, the frame time and the first data line."""
    header = [(i, _clean(lines[i])) for i in range(motion_line, min(motion_line + 4, len(lines)))]
    header = [(i, t) for i, t in header if t]
    if len(header) < 2:
        raise _fail(path, motion_line, "MOTION needs 'Frames:' and 'Frame Time:' lines")
    (i_frames, frames_text), (i_time, time_text) = header[0], header[1]
    m_frames = re.fullmatch(r"(?i)frames:\s*([0-9]+)", frames_text)
    m_time = re.fullmatch(r"(?i)frame\s+time:\s*(\S+)", time_text)
    if not m_frames:
        raise _fail(path, i_frames + 1, f"expected 'Frames: N', got {frames_text[:40]!r}")
    if not m_time:
        raise _fail(path, i_time + 1, f"expected 'Frame Time: seconds', got {time_text[:40]!r}")
    frame_time = _numbers(path, i_time + 1, [m_time.group(1)], 1, "Frame Time")[0]
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise _fail(path, i_time + 1, "Frame Time must be a positive number of seconds")
    n_frames = int(m_frames.group(1))
    data_lines = [(i, lines[i]) for i in range(i_time + 1, len(lines)) if lines[i].strip()]
    for i, raw in data_lines:
        if len(raw.split()) != width:
            raise _fail(path, i + 1, f"expected {width} channel values, got {len(raw.split())}")
    if len(data_lines) != n_frames:
        last = data_lines[-1][0] + 1 if data_lines else i_time + 1
        raise _fail(
            path, last, f"'Frames: {n_frames}' but {len(data_lines)} frames of data (truncated?)"
        )
    try:
        data = np.asarray(" ".join(raw for _, raw in data_lines).split(), dtype=np.float64)
    except ValueError:
        bad = next(i for i, raw in data_lines if not _is_float_line(raw))
        raise _fail(path, bad + 1, "channel values must be numbers") from None
    data = data.reshape(n_frames, width)
    finite = np.isfinite(data).all(axis=1)
    if not finite.all():
        bad = data_lines[int(np.argmin(finite))][0]
        raise _fail(path, bad + 1, "channel values must be finite (nan or inf found)")
    return data, frame_time


def _is_float_line(raw: str) -> bool:
    try:
        [float(t) for t in raw.split()]
    except ValueError:
        return False
    return True


def _bvh_forward_kinematics(joints: list[_BvhJoint], data: np.ndarray) -> torch.Tensor:
    """(F, width) channel values -> (F, J, 3) positions in file units and axes (float64).
    A position channel replaces the OFFSET on its axis."""
    frames = data.shape[0]
    values = torch.from_numpy(data)
    rotations, offsets = [], []
    col = 0
    root = torch.zeros(frames, 3, dtype=torch.float64)
    for j, joint in enumerate(joints):
        cols = range(col, col + len(joint.channels))
        col += len(joint.channels)
        rot_idx = [c for c, ch in zip(cols, joint.channels, strict=True) if ch.endswith("rotation")]
        axes = "".join(ch[0] for ch in joint.channels if ch.endswith("rotation"))
        rotations.append(_axes_rotation(torch.deg2rad(values[:, rot_idx]), axes))
        offset = torch.tensor(joint.offset, dtype=torch.float64).repeat(frames, 1)
        for c, ch in zip(cols, joint.channels, strict=True):
            if ch.endswith("position"):
                offset[:, "xyz".index(ch[0])] = values[:, c]
        if j == 0:
            root = offset
        offsets.append(offset)
    return forward_kinematics(
        torch.stack(rotations, dim=1),
        torch.stack(offsets, dim=1),
        [j.parent for j in joints],
        root,
        offset_frame="parent",
    )


def _bvh_rest(joints: list[_BvhJoint]) -> torch.Tensor:
    """(J, 3) rest pose: the OFFSETs chained with no rotation (file units and axes)."""
    out: list[torch.Tensor] = []
    for joint in joints:
        offset = torch.tensor(joint.offset, dtype=torch.float64)
        out.append(offset if joint.parent < 0 else out[joint.parent] + offset)
    return torch.stack(out)


# --------------------------------------------------------------------------- units and axes


def choose_unit(height: float) -> tuple[str, float]:
    """The unit (key of :data:`BVH_UNITS`) that makes a standing height of ``height`` file
    units closest to :data:`TYPICAL_HEIGHT_M` (in log scale), and the height in metres."""
    if not (math.isfinite(height) and height > 0):
        raise ValueError(f"height must be positive and finite, got {height}")
    unit = min(BVH_UNITS, key=lambda u: abs(math.log(height * BVH_UNITS[u] / TYPICAL_HEIGHT_M)))
    return unit, height * BVH_UNITS[unit]


def _joint_map(
    joint_map: PathLike | JointMapFile | Mapping[str, str] | None,
) -> JointMapFile | None:
    if joint_map is None or isinstance(joint_map, JointMapFile):
        return joint_map
    if isinstance(joint_map, Mapping):
        return JointMapFile(dict(joint_map))
    if str(joint_map) == "":
        return None
    return load_joint_map(joint_map)


def _check_options(units: str, up: str, jm: JointMapFile | None) -> tuple[str, str]:
    """Resolve ``units``/``up`` against a joint map's; validate both."""
    if units not in ("auto", *BVH_UNITS):
        raise ValueError(f"units must be 'auto' or one of {tuple(BVH_UNITS)}, got {units!r}")
    if up not in ("auto", *UP_ROTATIONS):
        raise ValueError(f"up must be 'auto' or one of {tuple(UP_ROTATIONS)}, got {up!r}")
    if jm is not None:
        if jm.units is not None and jm.units not in BVH_UNITS:
            raise DataError(f"joint map {jm.source}: units must be one of {tuple(BVH_UNITS)}")
        if jm.up is not None and jm.up not in UP_ROTATIONS:
            raise DataError(f"joint map {jm.source}: up must be one of {tuple(UP_ROTATIONS)}")
    return units, up


def _place(
    path: Path,
    raw: torch.Tensor,
    names: Sequence[str],
    parents: Sequence[int],
    *,
    fmt: str,
    units: str,
    up: str,
    jm: JointMapFile | None,
    source_fps: float,
    source_frames: int,
    file_unit: str | None = None,
    mapping: RigMapping | None = None,
    mapping_error: str | None = None,
    rest: torch.Tensor | None = None,
    notes: Sequence[str] = (),
) -> tuple[torch.Tensor, MotionInfo]:
    """Map ``raw`` (T, J, 3) file positions onto our joints (unless ``mapping`` or
    ``mapping_error`` is given), find the up axis and the unit, and return metres-y-up
    positions (float32) with their :class:`MotionInfo`."""
    notes = list(notes)
    geometry = raw if len(raw) else (rest[None] if rest is not None else raw)
    error = mapping_error
    if mapping is None and error is not None:
        pass
    elif mapping is None and len(geometry):
        try:
            mapping = match_skeleton(
                names, parents, geometry, joint_map=jm.joints if jm is not None else None
            )
        except DataError as err:
            error = f"{path}: {err}"
            if jm is not None and jm.joints:
                raise DataError(error) from None
    elif mapping is None:
        error = f"{path}: no frames to map"
    poses = mapping.apply(geometry) if mapping is not None and len(geometry) else None
    # Up axis.
    if up != "auto":
        up_axis, up_source = up, "given"
    elif jm is not None and jm.up is not None:
        up_axis, up_source = jm.up, f"joint map {jm.source}"
    elif poses is not None:
        up_axis, confidence = detect_up_axis(poses)
        up_source = f"detected from the bone directions (confidence {confidence:.2f})"
        if confidence < 0.7:
            notes.append(f"the up axis is unclear (confidence {confidence:.2f}): set up=")
    else:
        up_axis, up_source = "y", "assumed (no human skeleton found to detect it)"
    # Unit.
    height_units = standing_height(poses) if poses is not None else None
    if units != "auto":
        unit, unit_source = units, "given"
    elif jm is not None and jm.units is not None:
        unit, unit_source = jm.units, f"joint map {jm.source}"
    elif file_unit is not None:
        unit, unit_source = file_unit, "file"
    elif height_units is not None and height_units > 0:
        unit, _ = choose_unit(height_units)
        unit_source = f"detected from the standing height ({height_units:.4g} file units)"
    else:
        unit, unit_source = "cm", "assumed (no human skeleton found to measure)"
    scale = BVH_UNITS[unit]
    height_m = height_units * scale if height_units is not None else None
    if height_m is not None and not HEIGHT_RANGE_M[0] <= height_m <= HEIGHT_RANGE_M[1]:
        notes.append(
            f"standing height {height_m:.2f} m in {unit} is outside a person's "
            f"{HEIGHT_RANGE_M[0]}-{HEIGHT_RANGE_M[1]} m: check the unit (units=)"
        )
    rotation = torch.tensor(UP_ROTATIONS[up_axis], dtype=torch.float64)
    positions = raw if up_axis == "y" else raw @ rotation.T
    positions = positions * scale
    if not torch.isfinite(positions).all():
        raise _fail(path, None, "positions overflow (values too large)")
    info = MotionInfo(
        format=fmt,
        unit=unit,
        metres_per_unit=scale,
        unit_source=unit_source,
        up=up_axis,
        up_source=up_source,
        source_fps=source_fps,
        source_frames=source_frames,
        height_m=height_m,
        mapping=mapping,
        mapping_error=error,
        notes=tuple(notes),
    )
    return positions.float(), info


def load_bvh(
    path: PathLike,
    *,
    fps: float | None = 30.0,
    units: Units = "auto",
    up: UpAxis = "auto",
    joint_map: PathLike | JointMapFile | Mapping[str, str] | None = None,
) -> Motion:
    """Load a BVH file of any rig: (T, J, 3) joint positions in metres, y up, End Sites
    included as ``<parent>_end``, subsampled to ``fps`` (None keeps all).

    Args:
        units: one file unit ("m", "cm", "mm", "in", "cmu"), or "auto" (detected; see the
            module docstring).
        up: the file's up axis ("y", "z", "-y", ...), or "auto" (detected).
        joint_map: a YAML joint map (path), a loaded one or ``{our joint: expression}``
            (:mod:`unpaired.data.rigs`); its ``units``/``up`` apply unless given here.

    ``Motion.info`` reports the rig, the unit and up axis (and how they were chosen), the
    standing height and the 17-joint mapping; a skeleton that cannot be mapped still loads
    (``to_h36m17`` then raises the mapping error), unless a joint map was given.
    """
    path = Path(path)
    jm = _joint_map(joint_map)
    units, up = _check_options(units, up, jm)
    lines = _read_lines(path)
    joints, motion_line = _bvh_hierarchy(path, lines)
    width = sum(len(j.channels) for j in joints)
    data, frame_time = _bvh_frames(path, lines, motion_line, width)
    source_fps = 1.0 / frame_time
    step = _subsample_step(source_fps, fps)
    raw = _bvh_forward_kinematics(joints, data[::step])
    names = tuple(j.name for j in joints)
    parents = tuple(j.parent for j in joints)
    positions, info = _place(
        path,
        raw,
        names,
        parents,
        fmt="bvh",
        units=units,
        up=up,
        jm=jm,
        source_fps=source_fps,
        source_frames=len(data),
        rest=_bvh_rest(joints),
    )
    return Motion(
        positions=positions,
        joint_names=names,
        parents=parents,
        fps=source_fps / step,
        source=str(path),
        info=info,
    )


# --------------------------------------------------------------------------- C3D

#: Our joints from surface markers: CMU's 41-marker set (``LFWT/LBWT`` waist, ``LKNE``,
#: ``LANK``, ``LSHO``, ``LELB``, ``LWRA/LWRB``, ``C7``, ``CLAV``, ``T10``, ``STRN``, head band
#: ``LFHD/RFHD/LBHD/RBHD``), each entry a list of alternatives tried in order (the second:
#: Vicon Plug-in Gait names, ``LASI/LPSI``...). Markers sit on the skin, so these are
#: approximations of joint centres (a few cm): hips are pulled from the waist markers towards
#: the pelvis centre and down towards the knee, shoulders from the acromion towards the
#: elbow; neck and head top are placed along C7/CLAV -> head band. Not validated on real
#: CMU C3D here (none in the development data); a joint map replaces any entry.
C3D_MARKER_MAP: dict[str, tuple[str, ...]] = {
    "pelvis": ("mean(LFWT, RFWT, LBWT, RBWT)", "mean(LASI, RASI, LPSI, RPSI)"),
    "r_hip": (
        "lerp(lerp(mean(LFWT, RFWT, LBWT, RBWT), mid(RFWT, RBWT), 0.7), RKNE, 0.2)",
        "lerp(lerp(mean(LASI, RASI, LPSI, RPSI), mid(RASI, RPSI), 0.7), RKNE, 0.2)",
    ),
    "r_knee": ("RKNE",),
    "r_ankle": ("RANK",),
    "l_hip": (
        "lerp(lerp(mean(LFWT, RFWT, LBWT, RBWT), mid(LFWT, LBWT), 0.7), LKNE, 0.2)",
        "lerp(lerp(mean(LASI, RASI, LPSI, RPSI), mid(LASI, LPSI), 0.7), LKNE, 0.2)",
    ),
    "l_knee": ("LKNE",),
    "l_ankle": ("LANK",),
    "spine": ("mid(T10, STRN)",),
    "thorax": ("mid(C7, CLAV)",),
    "neck": ("lerp(mid(C7, CLAV), mean(LFHD, RFHD, LBHD, RBHD), 0.5)",),
    "head": ("lerp(mid(C7, CLAV), mean(LFHD, RFHD, LBHD, RBHD), 1.3)",),
    "l_shoulder": ("lerp(LSHO, LELB, 0.15)",),
    "l_elbow": ("LELB",),
    "l_wrist": ("mid(LWRA, LWRB)",),
    "r_shoulder": ("lerp(RSHO, RELB, 0.15)",),
    "r_elbow": ("RELB",),
    "r_wrist": ("mid(RWRA, RWRB)",),
}
_C3D_UNITS = {"m": "m", "cm": "cm", "mm": "mm", "in": "in", "inch": "in", "inches": "in"}


def _marker_mapping(
    path: Path, labels: Sequence[str], jm: JointMapFile | None
) -> tuple[RigMapping | None, str | None]:
    """The marker map (the joint map's entries first, then :data:`C3D_MARKER_MAP`)."""
    terms, words, why = [], [], []
    user = jm.joints if jm is not None else {}
    for ours in H36M17_JOINTS:
        options = (user[ours],) if ours in user else C3D_MARKER_MAP[ours]
        for text in options:
            try:
                t = parse_joint_expression(text, labels)
            except ValueError as err:
                last = str(err)
                continue
            terms.append(tuple(t.items()))
            words.append(text + (" (joint map)" if ours in user else ""))
            break
        else:
            if ours in user:
                raise DataError(f"joint map {jm.source}: {ours}: {user[ours]!r}: {last}")  # type: ignore[union-attr]
            why.append(f"{ours} ({options[0]}: {last})")
            words.append("?")
    if why:
        matched = ", ".join(f"{j}={w}" for j, w in zip(H36M17_JOINTS, words, strict=True))
        return None, (
            f"{path}: cannot place {', '.join(why)} from the markers. Matched: {matched}. The "
            f"file's {len(labels)} markers: {', '.join(labels)}. Name them in a joint map "
            "(docs/POSE.md, 'Joint maps') and pass it with --set joint_map=FILE.yaml"
        )
    return RigMapping(tuple(labels), tuple(terms), tuple(words), {}, "c3d markers"), None


def _fill_gaps(points: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, int]:
    """Linear interpolation in time of invalid samples (F, M, 3); the ends hold the nearest
    valid sample; markers never valid stay NaN. Returns the points and the count filled."""
    out = points.copy()
    frames = np.arange(points.shape[0])
    filled = 0
    for m in range(points.shape[1]):
        ok = valid[:, m]
        if ok.all() or not ok.any():
            if not ok.any():
                out[:, m] = np.nan
            continue
        for axis in range(3):
            out[~ok, m, axis] = np.interp(frames[~ok], frames[ok], points[ok, m, axis])
        filled += int((~ok).sum())
    return out, filled


def load_c3d(
    path: PathLike,
    *,
    fps: float | None = 30.0,
    units: Units = "auto",
    up: UpAxis = "auto",
    joint_map: PathLike | JointMapFile | Mapping[str, str] | None = None,
) -> Motion:
    """Load a C3D marker file (optional dependency ``c3d``): (T, M, 3) marker positions in
    metres, y up, named by their labels without the subject prefix (``"07:LKNE"`` ->
    ``"LKNE"``); ``parents`` are all -1 (markers have no hierarchy). The unit is the file's
    ``POINT:UNITS`` unless ``units`` or the joint map's say otherwise; the up axis is detected
    as for BVH; our joints come from :data:`C3D_MARKER_MAP` (or the joint map)."""
    try:
        import c3d
    except ImportError:
        raise DataError(
            f"{path}: reading C3D needs the optional package c3d: pip install 'unpaired[c3d]'"
        ) from None
    path = Path(path)
    jm = _joint_map(joint_map)
    units, up = _check_options(units, up, jm)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    try:
        with warnings.catch_warnings(), path.open("rb") as handle:
            warnings.simplefilter("ignore")
            reader = c3d.Reader(handle)
            labels_raw = [str(s).strip() for s in reader.point_labels]
            rate = float(reader.point_rate)
            unit_param = reader.get("POINT:UNITS")
            unit_text = unit_param.string_value.strip().lower() if unit_param is not None else ""
            frames = [p[:, :4].copy() for _, p, _ in reader.read_frames()]
    except DataError:
        raise
    except Exception as err:  # the c3d package raises bare errors on corrupt files
        raise _fail(path, None, f"not a readable C3D file ({type(err).__name__}: {err})") from None
    if not frames:
        raise _fail(path, None, "no frames")
    if not (math.isfinite(rate) and rate > 0):
        raise _fail(path, None, f"POINT:RATE must be positive, got {rate}")
    labels = [re.split(r"[:|]", s)[-1] or s for s in labels_raw]
    data = np.stack(frames).astype(np.float64)  # (F, M, 4): x y z residual
    if data.shape[1] != len(labels):
        raise _fail(path, None, f"{data.shape[1]} points per frame but {len(labels)} labels")
    step = _subsample_step(rate, fps)
    data = data[::step]
    valid = (data[..., 3] >= 0) & np.isfinite(data[..., :3]).all(-1)
    points, filled = _fill_gaps(data[..., :3], valid)
    notes = [f"{filled} missing marker samples filled by linear interpolation"] if filled else []
    mapping, error = _marker_mapping(path, labels, jm)
    if mapping is not None:
        used = sorted({i for terms in mapping.terms for i, _ in terms})
        never = [labels[i] for i in used if np.isnan(points[:, i]).all()]
        if never:
            mapping, error = None, f"{path}: markers {', '.join(never)} are never visible"
    raw = torch.from_numpy(np.nan_to_num(points, nan=0.0))
    file_unit = _C3D_UNITS.get(unit_text)
    if file_unit is None and unit_text:
        notes.append(f"POINT:UNITS {unit_text!r} not understood; unit detected instead")
    positions, info = _place(
        path,
        raw,
        tuple(labels),
        (-1,) * len(labels),
        fmt="c3d",
        units=units,
        up=up,
        jm=jm,
        source_fps=rate,
        source_frames=len(frames),
        file_unit=file_unit,
        mapping=mapping,
        mapping_error=error,
        notes=notes,
    )
    return Motion(
        positions=positions,
        joint_names=tuple(labels),
        parents=(-1,) * len(labels),
        fps=rate / step,
        source=str(path),
        info=info,
    )


# --------------------------------------------------------------------------- any file


def find_asf(
    amc: PathLike, listed: Sequence[PathLike] = (), *, hint: str = "name the .asf"
) -> Path:
    """The skeleton of an AMC take: a listed ASF in the same folder, else the folder's only
    ASF, else ``<subject>.asf`` (CMU naming ``<subject>_<take>.amc``). ``hint`` ends the
    error message (what the caller's user should do)."""
    amc = Path(amc)
    same = [Path(a) for a in listed if Path(a).parent == amc.parent]
    if len(same) == 1:
        return same[0]
    found = sorted(amc.parent.glob("*.asf"))
    if len(found) == 1:
        return found[0]
    named = amc.parent / f"{amc.stem.split('_')[0]}.asf"
    if named.is_file():
        return named
    raise DataError(
        f"{amc}: cannot tell which ASF skeleton it uses (found {len(found)} .asf files in "
        f"{amc.parent}); {hint}"
    )


MOTION_SUFFIXES = (".bvh", ".c3d", ".amc")


def load_motion(
    path: PathLike,
    *,
    fps: float | None = 30.0,
    units: Units = "auto",
    up: UpAxis = "auto",
    joint_map: PathLike | JointMapFile | Mapping[str, str] | None = None,
    asf: PathLike | None = None,
) -> Motion:
    """Load a ``.bvh``, ``.c3d`` or ``.amc`` file (the AMC's ASF: ``asf``, else
    :func:`find_asf`). ``units``/``up``/``joint_map`` apply to BVH and C3D."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in MOTION_SUFFIXES:
        raise DataError(f"{path}: not a motion file (expected {', '.join(MOTION_SUFFIXES)})")
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    if suffix == ".bvh":
        return load_bvh(path, fps=fps, units=units, up=up, joint_map=joint_map)
    if suffix == ".c3d":
        return load_c3d(path, fps=fps, units=units, up=up, joint_map=joint_map)
    return load_take(Path(asf) if asf is not None else find_asf(path), path, fps=fps)
