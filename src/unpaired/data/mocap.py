"""Motion-capture parsers with forward kinematics: Acclaim ASF/AMC (CMU mocap) and BVH.

Both return a :class:`Motion`: joint positions (T, J, 3) in **metres**, joint names and
parents, computed by vectorized forward kinematics
(:func:`unpaired.data.skeleton.forward_kinematics`) over all kept frames at once.

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
- CMU AMC files do not store their frame rate; it is 120 fps (``source_fps``).

BVH: a joint sits at the **start** of its segment: ``p = p_parent + G_parent @ offset``
(plus translation channels), ``G = G_parent L``, where ``L`` is the product of the rotation
channels in the order listed (``Zrotation Xrotation Yrotation`` -> ``L = Rz Rx Ry``).
End Sites become joints named ``<parent>_end``. Axes are kept as in the file (most BVH
files, CMU's included, are y up); ``units`` says what one file unit is.

Frames are subsampled to ``fps`` (default 30: every 4th frame of 120 fps) before the
forward kinematics. Malformed files raise :class:`~unpaired.errors.DataError` naming the
file and the line.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from unpaired.data.catalog import require
from unpaired.data.skeleton import MAPPINGS, forward_kinematics, map_joints, mapping_for
from unpaired.errors import DataError, DataNotFoundError
from unpaired.geometry import euler_to_matrix

PathLike = str | os.PathLike[str]
INCH = 0.0254
CMU_FPS = 120.0
BVH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": INCH}
_ROTATION_DOFS = ("rx", "ry", "rz")
_TRANSLATION_DOFS = ("tx", "ty", "tz")


@dataclass(frozen=True)
class Motion:
    """A parsed motion: ``positions`` (T, J, 3) float32 in metres at ``fps`` frames/s."""

    positions: torch.Tensor
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]
    fps: float
    source: str

    def to_h36m17(self) -> torch.Tensor:
        """(T, 17, 3) positions on the library's 17-joint skeleton (see ``skeleton.py``)."""
        mapping = MAPPINGS[mapping_for(self.joint_names)]
        return map_joints(self.positions, self.joint_names, mapping=mapping)


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
        raise _fail(path, None, "binary data where a text file was expected")
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
    positions = _asf_forward_kinematics(skeleton, kept, degrees)
    return Motion(
        positions=positions.float(),
        joint_names=skeleton.joint_names,
        parents=skeleton.parents,
        fps=source_fps / step,
        source=str(amc),
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


_BVH_CHANNELS = ("xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation")


def _bvh_hierarchy(path: Path, lines: list[str]) -> tuple[list[_BvhJoint], int]:
    """Parse HIERARCHY; returns the joints and the index of the MOTION line."""
    tokens = [(tok, i + 1) for i, raw in enumerate(lines) for tok in raw.split()]
    joints: list[_BvhJoint] = []
    stack: list[int] = []
    pos = 0

    def take(what: str) -> tuple[str, int]:
        nonlocal pos
        if pos >= len(tokens):
            line = tokens[-1][1] if tokens else 1
            raise _fail(path, line, f"file ends while expecting {what} (truncated?)")
        pos += 1
        return tokens[pos - 1]

    tok, line = take("HIERARCHY")
    if tok.upper() != "HIERARCHY":
        raise _fail(path, line, f"expected HIERARCHY, got {tok!r} (not a BVH file?)")
    while True:
        tok, line = take("a joint or MOTION")
        upper = tok.upper()
        if upper in ("ROOT", "JOINT", "END"):
            if (upper == "ROOT") != (not stack and not joints):
                raise _fail(path, line, f"unexpected {tok} (one ROOT, then JOINTs inside it)")
            name, _ = take("a joint name")
            is_end = upper == "END"
            if is_end:
                if not stack:
                    raise _fail(path, line, "End Site outside a joint")
                name = f"{joints[stack[-1]].name}_end"
            brace, bline = take("'{'")
            if brace != "{":
                raise _fail(path, bline, f"expected '{{' after {tok} {name}, got {brace!r}")
            offset_kw, oline = take("OFFSET")
            if offset_kw.upper() != "OFFSET":
                raise _fail(path, oline, f"expected OFFSET in {name}, got {offset_kw!r}")
            offset = _numbers(path, oline, [take("a number")[0] for _ in range(3)], 3, "OFFSET")
            channels: tuple[str, ...] = ()
            if not is_end:
                ch_kw, cline = take("CHANNELS")
                if ch_kw.upper() != "CHANNELS":
                    raise _fail(path, cline, f"expected CHANNELS in {name}, got {ch_kw!r}")
                count_tok, _ = take("a channel count")
                if not count_tok.isdigit():
                    raise _fail(path, cline, f"CHANNELS: expected a count, got {count_tok!r}")
                channels = tuple(take("a channel name")[0].lower() for _ in range(int(count_tok)))
                bad = [c for c in channels if c not in _BVH_CHANNELS]
                if bad or len(set(channels)) != len(channels):
                    raise _fail(
                        path, cline, f"CHANNELS: unknown or repeated channels {bad or channels}"
                    )
            ox, oy, oz = offset
            joints.append(_BvhJoint(name, stack[-1] if stack else -1, (ox, oy, oz), channels))
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
            raise _fail(path, line, f"unexpected {tok!r} in HIERARCHY")


def load_bvh(
    path: PathLike,
    *,
    fps: float | None = 30.0,
    units: Literal["m", "cm", "mm", "in"] = "cm",
) -> Motion:
    """Load a BVH file: (T, J, 3) joint positions in metres (``units`` = one file unit),
    End Sites included as ``<parent>_end``, subsampled to ``fps`` (None keeps all)."""
    if units not in BVH_UNITS:
        raise ValueError(f"units must be one of {tuple(BVH_UNITS)}, got {units!r}")
    path = Path(path)
    lines = _read_lines(path)
    joints, motion_line = _bvh_hierarchy(path, lines)
    header = [(i, _clean(lines[i])) for i in range(motion_line, min(motion_line + 4, len(lines)))]
    header = [(i, t) for i, t in header if t]
    if len(header) < 2:
        raise _fail(path, motion_line, "MOTION needs 'Frames:' and 'Frame Time:' lines")
    (i_frames, frames_text), (i_time, time_text) = header[0], header[1]
    m_frames = re.fullmatch(r"(?i)frames:\s*(\d+)", frames_text)
    m_time = re.fullmatch(r"(?i)frame\s+time:\s*(\S+)", time_text)
    if not m_frames:
        raise _fail(path, i_frames + 1, f"expected 'Frames: N', got {frames_text!r}")
    if not m_time:
        raise _fail(path, i_time + 1, f"expected 'Frame Time: seconds', got {time_text!r}")
    frame_time = _numbers(path, i_time + 1, [m_time.group(1)], 1, "Frame Time")[0]
    if frame_time <= 0:
        raise _fail(path, i_time + 1, "Frame Time must be positive")
    n_frames = int(m_frames.group(1))
    width = sum(len(j.channels) for j in joints)
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
    source_fps = 1.0 / frame_time
    step = _subsample_step(source_fps, fps)
    data = data.reshape(n_frames, width)[::step]
    positions = _bvh_forward_kinematics(joints, data) * BVH_UNITS[units]
    return Motion(
        positions=positions.float(),
        joint_names=tuple(j.name for j in joints),
        parents=tuple(j.parent for j in joints),
        fps=source_fps / step,
        source=str(path),
    )


def _is_float_line(raw: str) -> bool:
    try:
        [float(t) for t in raw.split()]
    except ValueError:
        return False
    return True


def _bvh_forward_kinematics(joints: list[_BvhJoint], data: np.ndarray) -> torch.Tensor:
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
                offset[:, "xyz".index(ch[0])] += values[:, c]
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
