"""Procedural 3D human poses on the 17-joint skeleton: the embedded default pose data (the
"memories" and training poses of ``unpaired demo``), no download needed.

A pose is built by forward kinematics (:func:`unpaired.data.skeleton.forward_kinematics`,
BVH convention) from

- **bone lengths**: adult averages close to Human3.6M's (thigh and shank 0.45 m, upper arm
  0.28 m, ...), times a global body scale ``~ N(1, scale_std)`` (clamped to +-3 std) and a
  per-bone factor ``~ N(1, bone_std)`` (clamped to +-3 std) shared by left/right twins;
- **joint angles** (degrees, body frame x = left, y = up, z = forward; a joint's rotation
  ``R = Rx(flexion) Ry(twist) Rz(abduction)`` moves the bones below it), each drawn from a
  normal distribution whose mean/std depend on the *style*, then clamped to anatomical
  limits (:data:`LIMITS`): hip flexion/abduction/twist, knee flexion, torso lean/bend/twist,
  neck nod, shoulder flexion/abduction, elbow flexion, small pelvis tilt;
- **styles** (:data:`STYLES`): ``stand``, ``walk`` and ``run`` (a gait phase ``phi ~ U[0,
  2 pi)`` couples the legs: hip flexion ``A sin(phi)`` / ``-A sin(phi)``, knee flexion
  ``K max(0, cos(phi))`` during swing, counter-swinging arms), ``sit``, ``crouch`` and
  ``reach`` (arm gestures).

Output: (N, 17, 3) in metres, y up, pelvis at the origin, facing +z (random yaw about y on
request). Deterministic given ``generator``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from unpaired.data.skeleton import (
    H36M17_PARENTS,
    MIRROR_PERMUTATION,
    NUM_JOINTS,
    forward_kinematics,
)
from unpaired.geometry import euler_to_matrix

Style = Literal["stand", "walk", "run", "sit", "crouch", "reach"]
STYLES: tuple[str, ...] = ("stand", "walk", "run", "sit", "crouch", "reach")

#: Rest offsets (metres) of every joint from its parent in the body frame (x left, y up,
#: z forward), standing with arms down.
REST_OFFSETS = torch.tensor(
    [
        [0.0, 0.0, 0.0],  # pelvis
        [-0.13, 0.0, 0.0],  # r_hip
        [0.0, -0.45, 0.0],  # r_knee
        [0.0, -0.45, 0.0],  # r_ankle
        [0.13, 0.0, 0.0],  # l_hip
        [0.0, -0.45, 0.0],  # l_knee
        [0.0, -0.45, 0.0],  # l_ankle
        [0.0, 0.23, 0.0],  # spine
        [0.0, 0.25, 0.0],  # thorax
        [0.0, 0.10, 0.04],  # neck
        [0.0, 0.115, 0.0],  # head
        [0.15, -0.02, 0.0],  # l_shoulder
        [0.0, -0.28, 0.0],  # l_elbow
        [0.0, -0.25, 0.0],  # l_wrist
        [-0.15, -0.02, 0.0],  # r_shoulder
        [0.0, -0.28, 0.0],  # r_elbow
        [0.0, -0.25, 0.0],  # r_wrist
    ]
)

#: Anatomical limits (degrees) applied to every sampled angle.
LIMITS: dict[str, tuple[float, float]] = {
    "hip_flex": (-30.0, 130.0),
    "hip_abd": (-20.0, 60.0),
    "hip_twist": (-40.0, 40.0),
    "knee": (0.0, 150.0),
    "lean": (-30.0, 90.0),
    "bend": (-30.0, 30.0),
    "twist": (-40.0, 40.0),
    "nod": (-40.0, 60.0),
    "sh_flex": (-60.0, 180.0),
    "sh_abd": (-20.0, 170.0),
    "elbow": (0.0, 150.0),
    "pelvis_pitch": (-20.0, 20.0),
    "pelvis_roll": (-15.0, 15.0),
}
_SIDED = ("hip_flex", "hip_abd", "hip_twist", "knee", "sh_flex", "sh_abd", "elbow")

#: (mean, std) in degrees of every angle, for a relaxed standing pose.
_BASE: dict[str, tuple[float, float]] = {
    "hip_flex": (3.0, 6.0),
    "hip_abd": (5.0, 4.0),
    "hip_twist": (0.0, 8.0),
    "knee": (6.0, 6.0),
    "lean": (3.0, 4.0),
    "bend": (0.0, 3.0),
    "twist": (0.0, 6.0),
    "nod": (5.0, 10.0),
    "sh_flex": (5.0, 12.0),
    "sh_abd": (10.0, 8.0),
    "elbow": (15.0, 15.0),
    "pelvis_pitch": (0.0, 3.0),
    "pelvis_roll": (0.0, 3.0),
}
#: Per-style changes to :data:`_BASE`, and gait amplitudes (hip, knee, arm) in degrees.
_STYLE_ANGLES: dict[str, dict[str, tuple[float, float]]] = {
    "stand": {},
    "walk": {"hip_flex": (5.0, 4.0), "knee": (5.0, 4.0), "lean": (4.0, 3.0), "elbow": (20.0, 10.0)},
    "run": {
        "hip_flex": (15.0, 6.0),
        "knee": (20.0, 8.0),
        "lean": (12.0, 4.0),
        "elbow": (80.0, 15.0),
    },
    "sit": {
        "hip_flex": (90.0, 10.0),
        "hip_abd": (10.0, 6.0),
        "knee": (90.0, 15.0),
        "lean": (5.0, 8.0),
        "sh_flex": (20.0, 15.0),
        "elbow": (60.0, 25.0),
    },
    "crouch": {
        "hip_flex": (105.0, 15.0),
        "knee": (115.0, 15.0),
        "lean": (30.0, 10.0),
        "nod": (-10.0, 10.0),
        "sh_flex": (35.0, 25.0),
        "elbow": (40.0, 25.0),
    },
    "reach": {
        "sh_flex": (70.0, 50.0),
        "sh_abd": (40.0, 35.0),
        "elbow": (50.0, 40.0),
        "twist": (0.0, 15.0),
    },
}
_GAIT: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "walk": ((25.0, 5.0), (55.0, 8.0), (20.0, 6.0)),
    "run": ((40.0, 8.0), (90.0, 15.0), (35.0, 10.0)),
}


def _normal(
    mean_std: tuple[float, float], n: int, generator: torch.Generator | None
) -> torch.Tensor:
    mean, std = mean_std
    return mean + std * torch.randn(n, generator=generator, dtype=torch.float64)


def _angles(style: str, n: int, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
    """Sampled angles in degrees: sided ones as ``<name>_l`` / ``<name>_r``."""
    params = {**_BASE, **_STYLE_ANGLES[style]}
    out: dict[str, torch.Tensor] = {}
    for name, mean_std in params.items():
        for key in (f"{name}_l", f"{name}_r") if name in _SIDED else (name,):
            out[key] = _normal(mean_std, n, generator)
    if style in _GAIT:
        hip_amp, knee_amp, arm_amp = (_normal(g, n, generator).abs() for g in _GAIT[style])
        phi = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
        for side, phase in (("l", phi), ("r", phi + math.pi)):
            out[f"hip_flex_{side}"] = out[f"hip_flex_{side}"] + hip_amp * torch.sin(phase)
            out[f"knee_{side}"] = out[f"knee_{side}"] + knee_amp * torch.cos(phase).clamp_min(0)
            out[f"sh_flex_{side}"] = out[f"sh_flex_{side}"] - arm_amp * torch.sin(phase)
    for key, value in out.items():
        low, high = LIMITS[key[:-2] if key[:-2] in _SIDED else key]
        out[key] = value.clamp(low, high)
    return out


def _local_euler(a: dict[str, torch.Tensor], n: int) -> torch.Tensor:
    """Degrees per angle name -> (N, 17, 3) local Euler angles (radians) of every joint."""
    euler = torch.zeros(n, NUM_JOINTS, 3, dtype=torch.float64)
    euler[:, 0] = torch.stack(
        [a["pelvis_pitch"], torch.zeros(n, dtype=torch.float64), a["pelvis_roll"]], -1
    )
    for side, hip, knee, shoulder, elbow, sign in (
        ("r", 1, 2, 14, 15, -1.0),
        ("l", 4, 5, 11, 12, 1.0),
    ):
        euler[:, hip] = torch.stack(
            [-a[f"hip_flex_{side}"], sign * a[f"hip_twist_{side}"], sign * a[f"hip_abd_{side}"]], -1
        )
        euler[:, knee, 0] = a[f"knee_{side}"]
        euler[:, shoulder, 0] = -a[f"sh_flex_{side}"]
        euler[:, shoulder, 2] = sign * a[f"sh_abd_{side}"]
        euler[:, elbow, 0] = -a[f"elbow_{side}"]
    euler[:, 7] = torch.stack([a["lean"], a["twist"], a["bend"]], -1)
    euler[:, 9, 0] = a["nod"]
    return torch.deg2rad(euler)


def _bone_scales(
    n: int, scale_std: float, bone_std: float, generator: torch.Generator | None
) -> torch.Tensor:
    """(N, 17) length factors: a global scale times per-bone factors shared by twins."""
    body = 1.0 + scale_std * torch.randn(n, 1, generator=generator, dtype=torch.float64).clamp(
        -3, 3
    )
    bone = 1.0 + bone_std * torch.randn(
        n, NUM_JOINTS, generator=generator, dtype=torch.float64
    ).clamp(-3, 3)
    shared = torch.minimum(torch.arange(NUM_JOINTS), torch.tensor(MIRROR_PERMUTATION))
    return body * bone[:, shared]


def sample_poses(
    n: int,
    *,
    style: Style | Literal["mixed"] = "mixed",
    random_yaw: bool = False,
    scale_std: float = 0.05,
    bone_std: float = 0.03,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Sample ``n`` plausible poses (N, 17, 3) in metres (y up, pelvis at the origin).

    Args:
        n: number of poses.
        style: one of :data:`STYLES`, or ``"mixed"`` (each pose picks a style uniformly).
        random_yaw: rotate each pose about the vertical axis by ``U[-pi, pi)``; otherwise
            every pose faces +z.
        scale_std: std of the global body scale (height variation).
        bone_std: std of the per-bone length factor.
        generator: source of randomness; same generator state, same poses.
    """
    if style != "mixed" and style not in STYLES:
        raise ValueError(f"style must be 'mixed' or one of {STYLES}, got {style!r}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if style == "mixed":
        choice = torch.randint(len(STYLES), (n,), generator=generator)
    else:
        choice = torch.full((n,), STYLES.index(style))
    euler = torch.zeros(n, NUM_JOINTS, 3, dtype=torch.float64)
    for k, name in enumerate(STYLES):
        idx = (choice == k).nonzero().flatten()
        if idx.numel():
            euler[idx] = _local_euler(_angles(name, idx.numel(), generator), idx.numel())
    rotations = euler_to_matrix(euler)
    if random_yaw:
        yaw = (2 * torch.rand(n, generator=generator, dtype=torch.float64) - 1) * math.pi
        zero = torch.zeros_like(yaw)
        rotations[:, 0] = euler_to_matrix(torch.stack([zero, yaw, zero], -1)) @ rotations[:, 0]
    offsets = (
        REST_OFFSETS.to(torch.float64) * _bone_scales(n, scale_std, bone_std, generator)[..., None]
    )
    root = torch.zeros(n, 3, dtype=torch.float64)
    poses = forward_kinematics(rotations, offsets, H36M17_PARENTS, root, offset_frame="parent")
    return poses.to(dtype)
