"""Procedural driving scenes: the embedded default data for structure from motion.

A camera on a car drives through a static textured 3D city: a grid of streets of
irregular spacing (asphalt with lane markings, paved sidewalks), blocks lined with
building facades with windows (axis-aligned boxes), poles and parked cars along the
kerbs, and a sky box with clouds. Frames are rendered by vectorized ray casting in
torch (ray-plane and ray-box slab intersections, nearest hit) with exact per-pixel
z-depth and exact camera poses, so every frame pair comes with its true relative motion
(the stand-in for Virtual KITTI in Sec. 3.2 of the AIGN paper).

* Sequences are identified by a seed. **Seed 0 (``TEST_SEED``) is the validation/test
  sequence**, as the paper holds out the first VKITTI sequence; train on seeds 1, 2, ...
  A seed fixes the street grid, layout, textures, lighting, haze and route; the first
  ``k`` frames of a sequence do not depend on how many frames are rendered.
* Motion is car-like and varied (``Scene.route``): the car keeps to the right-hand
  lane, weaves a little inside it, and at every intersection goes straight, turns right
  (radius 5-8 m) or turns left (8.5-12 m); it cruises at 0.9-1.5 m/frame, slows to about
  0.5 m/frame for turns, and sometimes stops at an intersection for 5-25 frames
  (acceleration limits 0.03 m/frame^2 speeding up, 0.04 braking). Turns reach yaw rates of
  about 0.1 rad/frame; pitch and roll stay within about 0.005 rad (suspension, braking dive,
  lean in turns). Stopped frames have zero relative motion (up to the float32 rounding
  of the poses), as in KITTI.
* Depth is z-depth in metres and always finite: rays that miss every object hit the
  sky box (400 m high, 800 m beyond the populated blocks), so depth never exceeds
  ``MAX_DEPTH``. Evaluate depth with a cap (e.g. 80 m as is usual for KITTI); sky
  pixels are hundreds of metres away.
* Texture lookups are filtered (trilinear mip-mapping with a footprint estimated from
  distance and incidence angle), so far textures do not shimmer between frames and the
  brightness constancy of Eq. 3 holds up to small filtering differences.
* Intrinsics: ``fx = fy = 725/1242 * width`` (Virtual KITTI's 81 degree horizontal
  field of view), principal point at the image centre.

Conventions (shared with :mod:`unpaired.data.rgbd`): world and camera axes x right,
y down, z forward; the ground is the plane ``y = CAMERA_HEIGHT`` and the camera rides at
``y`` close to 0; poses are camera-to-world. Headings are yaw angles about the y axis:
heading 0 drives along +z, heading pi/2 along +x (a right turn increases the heading).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np
import torch
import torch.nn.functional as F

from unpaired.data.flow import PairSet, make_pair_set, motion_vectors
from unpaired.data.rgbd import FramePairs, Sequence, relative_motion
from unpaired.geometry import euler_to_matrix

TEST_SEED = 0
MAX_FRAMES = 1000
MAX_SPEED = 1.5  # m/frame
CAMERA_HEIGHT = 1.65  # m above the ground, as the KITTI cameras
FOCAL_RATIO = 725.0 / 1242.0  # fx / width of Virtual KITTI
LANE_OFFSET = 1.75  # the car drives this far right of a street's centre line
MAX_PATH = MAX_SPEED * MAX_FRAMES
SKY_MARGIN = 800.0
SKY_HEIGHT = 400.0
_BLOCK_PITCH = (55.0, 110.0)  # distance between neighbouring parallel streets (m)
_N_STREETS = 40  # streets on each side of the origin, in x and in z (never all reached)
_MAX_EXTENT = _N_STREETS * _BLOCK_PITCH[1]
MAX_DEPTH = math.sqrt(2 * (2 * (_MAX_EXTENT + SKY_MARGIN)) ** 2 + (SKY_HEIGHT + 3.0) ** 2)

# Materials (rows of the texture atlas).
ASPHALT, SIDEWALK, FACADE0, POLE, CAR, SKY = 0, 1, 2, 6, 7, 8
_N_FACADES = 4
_TEX = 128  # texels per tile side (power of two)
_LEVELS = 8  # mip levels 128 .. 1
_PERIODS = (4.0, 3.0, 12.0, 12.0, 12.0, 12.0, 1.0, 4.0, 256.0)  # tile size in metres


@dataclass(frozen=True)
class Lighting:
    """Sun direction (towards the sun, world), colours, haze distance (metres)."""

    sun: torch.Tensor
    sun_color: torch.Tensor
    ambient: torch.Tensor
    horizon: torch.Tensor
    zenith: torch.Tensor
    haze: float


@dataclass(frozen=True)
class Scene:
    """A procedural city and the car's drive through it.

    ``streets_x`` (Nx,) and ``streets_z`` (Nz,) are the centre lines of the north-south
    (constant x) and east-west (constant z) streets, sorted; ``road_half_width`` and
    ``sidewalk_width`` are shared by all streets. Boxes are axis-aligned in the world:
    ``box_min``, ``box_max`` (K, 3), ``box_material`` (K,), ``box_tint`` (K, 3),
    ``box_shift`` (K,) (texture offset in metres), ``box_reach`` (K,) (beyond this distance
    the box is not drawn: it would be sub-pixel or lost in the haze). ``route``
    (MAX_FRAMES, 6) float64 holds the camera's x, y, z, pitch, heading and roll at every
    frame (see the module docstring). ``sky_min``/``sky_max`` (3,) bound the sky box."""

    seed: int
    road_half_width: float
    sidewalk_width: float
    streets_x: torch.Tensor
    streets_z: torch.Tensor
    box_min: torch.Tensor
    box_max: torch.Tensor
    box_material: torch.Tensor
    box_tint: torch.Tensor
    box_shift: torch.Tensor
    box_reach: torch.Tensor
    atlas: torch.Tensor  # (3, texels) all materials and mip levels, flattened
    atlas_offset: torch.Tensor  # (materials, levels) start of each level in ``atlas``
    lighting: Lighting
    route: torch.Tensor
    sky_min: torch.Tensor
    sky_max: torch.Tensor

    def trajectory(self, n_frames: int) -> torch.Tensor:
        """Camera-to-world poses (n_frames, 4, 4) of the car-mounted camera."""
        if not 1 <= n_frames <= MAX_FRAMES:
            raise ValueError(f"n_frames must be in [1, {MAX_FRAMES}], got {n_frames}")
        r = self.route[:n_frames]
        poses = torch.eye(4, dtype=torch.float64).repeat(n_frames, 1, 1)
        poses[:, :3, :3] = euler_to_matrix(r[:, 3:6])
        poses[:, :3, 3] = r[:, :3]
        return poses.float()


def scene_intrinsics(height: int, width: int) -> torch.Tensor:
    """Intrinsics (3, 3) of the scene camera at (height, width)."""
    f = FOCAL_RATIO * width
    return torch.tensor([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


@contextmanager
def _single_threaded() -> Iterator[None]:
    """Run torch ops on one thread, restoring the setting afterwards."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------ textures


def _noise(gen: torch.Generator, beta: float) -> torch.Tensor:
    """Tileable (S, S) noise with a 1/f^beta spectrum, zero mean, unit std."""
    f = torch.fft.fftfreq(_TEX)
    r = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    r[0, 0] = 1.0
    spec = torch.fft.fft2(torch.randn(_TEX, _TEX, generator=gen)) / r**beta
    spec[0, 0] = 0.0
    n = torch.fft.ifft2(spec).real
    return (n - n.mean()) / n.std()


def _rand(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _rand3(gen: torch.Generator, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(3, generator=gen)


def _grid() -> tuple[torch.Tensor, torch.Tensor]:
    i = torch.arange(_TEX, dtype=torch.float32)
    return i[:, None].expand(_TEX, _TEX), i[None, :].expand(_TEX, _TEX)  # rows, cols


def _asphalt(gen: torch.Generator) -> torch.Tensor:
    g = 0.33 + 0.05 * _noise(gen, 1.6) + 0.035 * _noise(gen, 0.4)
    return torch.stack([g, g * 0.98, g * 0.96]).clamp(0, 1)


def _sidewalk(gen: torch.Generator) -> torch.Tensor:
    rows, cols = _grid()
    slab = _TEX // 4
    slab_id = (rows // slab) * 4 + cols // slab
    shade = 0.62 + 0.06 * torch.randn(16, generator=gen)[slab_id.long()]
    joint = ((rows % slab) < 2) | ((cols % slab) < 2)
    g = shade + 0.04 * _noise(gen, 0.8) - 0.25 * joint.float()
    return torch.stack([g, g * 0.97, g * 0.92]).clamp(0, 1)


def _facade(gen: torch.Generator, per_tile: int) -> torch.Tensor:
    """Wall with a ``per_tile`` x ``per_tile`` grid of windows (12 m tile)."""
    rows, cols = _grid()
    cell = _TEX // per_tile
    ww = int(cell * _rand(gen, 0.35, 0.6))
    wh = int(cell * _rand(gen, 0.4, 0.6))
    cx, cy = cols % cell, rows % cell
    x0, y0 = (cell - ww) // 2, int(cell * 0.3)
    window = (cx >= x0) & (cx < x0 + ww) & (cy >= y0) & (cy < y0 + wh)
    frame = (cx >= x0 - 1) & (cx < x0 + ww + 1) & (cy >= y0 - 1) & (cy < y0 + wh + 1) & ~window
    wall = 0.75 + 0.05 * _noise(gen, 1.2) + 0.03 * _noise(gen, 0.3)
    glass = 0.18 + 0.08 * _noise(gen, 2.0)
    out = torch.stack([wall, wall, wall])
    glass_rgb = torch.stack([glass * 0.8, glass * 0.95, glass * 1.2])
    out = torch.where(window, glass_rgb, out)
    out = torch.where(frame, torch.full_like(out, 0.92), out)
    return out.clamp(0, 1)


def _pole(gen: torch.Generator) -> torch.Tensor:
    rows, _ = _grid()
    band = ((rows // (_TEX // 4)) % 2).float()
    g = 0.45 + 0.1 * band + 0.04 * _noise(gen, 1.0)
    return torch.stack([g, g, g * 1.05]).clamp(0, 1)


def _car(gen: torch.Generator) -> torch.Tensor:
    rows, _ = _grid()
    height = rows / _TEX * _PERIODS[CAR]  # v coordinate in metres
    glass = (height > 0.95) & (height < 1.35)
    body = 0.8 + 0.06 * _noise(gen, 1.5)
    g = torch.where(glass, 0.12 + 0.04 * _noise(gen, 1.0), body)
    return torch.stack([g, g, g]).clamp(0, 1)


def _clouds(gen: torch.Generator) -> torch.Tensor:
    c = (0.6 * _noise(gen, 2.2) + 0.15 * _noise(gen, 1.0) - 0.2).clamp(0, 1)
    return torch.stack([c, c, c])


def _atlas(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    tiles = [_asphalt(gen), _sidewalk(gen)]
    tiles += [_facade(gen, n) for n in (3, 4, 4, 6)]
    tiles += [_pole(gen), _car(gen), _clouds(gen)]
    flat, offsets, start = [], [], 0
    for tile in tiles:
        level = tile[None]
        row = []
        for _ in range(_LEVELS):
            row.append(start)
            flat.append(level[0].reshape(3, -1))
            start += level.shape[-1] ** 2
            level = F.avg_pool2d(level, 2) if level.shape[-1] > 1 else level
        offsets.append(row)
    return torch.cat(flat, 1), torch.tensor(offsets)


# --------------------------------------------------------------------------- route

_STEPS = ((0, 1), (1, 0), (0, -1), (-1, 0))  # node-index step (di, dj) of directions 0..3
_PATH_STEP = 0.1  # metres between samples of the dense route
_ACCEL, _BRAKE = 0.03, 0.04  # m/frame^2
_ROUTE_LENGTH = MAX_PATH + 100.0  # always enough for MAX_FRAMES frames


@dataclass(frozen=True)
class _Piece:
    """A piece of the route: ``length`` metres of constant ``curvature`` (1/m, > 0 turns
    right) driven at most at ``speed`` m/frame."""

    length: float
    curvature: float
    speed: float


def _advance(pos: np.ndarray, heading: float, piece: _Piece, s: np.ndarray):
    """Exact (x, z) (len(s), 2) and headings at arc lengths ``s`` along ``piece``."""
    k = piece.curvature
    th = heading + k * s
    if k == 0.0:
        xz = pos + s[:, None] * np.array([math.sin(heading), math.cos(heading)])
    else:
        xz = pos + np.stack([math.cos(heading) - np.cos(th), np.sin(th) - math.sin(heading)], 1) / k
    return xz, th


def _streets(gen: torch.Generator) -> np.ndarray:
    """Sorted centre lines of 2 N + 1 parallel streets with irregular spacing, the middle
    one at 0."""
    gaps = np.array([_rand(gen, *_BLOCK_PITCH) for _ in range(2 * _N_STREETS)])
    after, before = np.cumsum(gaps[:_N_STREETS]), -np.cumsum(gaps[_N_STREETS:])
    return np.concatenate([before[::-1], [0.0], after])


def _plan(gen: torch.Generator, xs: np.ndarray, zs: np.ndarray, road: float):
    """Drive through the grid: pieces, stops [(arc length, frames)], visited nodes, start.

    At each intersection the car goes straight (1/2), right (1/4) or left (1/4), and
    (except at the first one) stops before it with probability 0.35.
    """
    n = _N_STREETS
    start = np.array([xs[n] + LANE_OFFSET, zs[n] + road + _rand(gen, 3.0, 15.0)])
    pos, heading, direction, node = start, 0.0, 0, (n, n + 1)
    pieces: list[_Piece] = []
    stops: list[tuple[float, float]] = []
    nodes = [(n, n), node]
    s, cruise = 0.0, _rand(gen, 0.9, 1.5)

    def drive(piece: _Piece) -> None:
        nonlocal pos, heading, s
        xz, th = _advance(pos, heading, piece, np.array([piece.length]))
        pos, heading, s = xz[0], float(th[0]), s + piece.length
        pieces.append(piece)

    while s < _ROUTE_LENGTH:
        centre = np.array([xs[node[0]], zs[node[1]]])
        ahead = float((centre - pos) @ np.array([math.sin(heading), math.cos(heading)]))
        action = _rand(gen, 0.0, 1.0)
        if action < 0.5:
            before, turn = 0.0, None
        elif action < 0.75:  # right: tight, from the right-hand lane into the right-hand lane
            rho = _rand(gen, 5.0, 8.0)
            before, turn = (
                LANE_OFFSET + rho,
                _Piece(rho * math.pi / 2, 1 / rho, _rand(gen, 0.45, 0.6)),
            )
        else:  # left: wide, across the other lane
            rho = _rand(gen, 8.5, 12.0)
            before = rho - LANE_OFFSET
            turn = _Piece(rho * math.pi / 2, -1 / rho, _rand(gen, 0.55, 0.75))
        if len(nodes) > 2 and _rand(gen, 0.0, 1.0) < 0.35:
            stop_at = s + min(ahead - road - 2.0, ahead - before - 1.0)
            stops.append((stop_at, _rand(gen, 5.0, 25.0)))
        drive(_Piece(ahead - before, 0.0, cruise))
        if turn is not None:
            drive(turn)
            direction = (direction + (1 if turn.curvature > 0 else -1)) % 4
            cruise = _rand(gen, 0.9, 1.5)  # a new street, a new cruising speed
        di, dj = _STEPS[direction]
        node = (node[0] + di, node[1] + dj)
        nodes.append(node)
    return pieces, stops, nodes, start


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _route(gen: torch.Generator, xs: np.ndarray, zs: np.ndarray, road: float):
    """The camera's (MAX_FRAMES, 6) x, y, z, pitch, heading, roll and the visited nodes."""
    pieces, stops, nodes, start = _plan(gen, xs, zs, road)
    # Dense samples of the centre of the lane, with each piece's speed limit.
    s_parts, xz_parts, th_parts, v_parts, k_parts = [], [], [], [], []
    pos, heading, s0 = start, 0.0, 0.0
    for p in pieces:
        s = np.arange(0.0, p.length, _PATH_STEP)
        xz, th = _advance(pos, heading, p, s)
        s_parts.append(s0 + s)
        xz_parts.append(xz)
        th_parts.append(th)
        v_parts.append(np.full(len(s), p.speed))
        k_parts.append(np.full(len(s), p.curvature))
        end, th_end = _advance(pos, heading, p, np.array([p.length]))
        pos, heading, s0 = end[0], float(th_end[0]), s0 + p.length
    s, xz, th = np.concatenate(s_parts), np.concatenate(xz_parts), np.concatenate(th_parts)
    vmax, curv = np.concatenate(v_parts), np.concatenate(k_parts)

    # Weaving inside the lane on straight stretches (tapered to 0 near turns).
    amp, wavelength, phase = _rand(gen, 0.1, 0.35), _rand(gen, 40.0, 90.0), _rand(gen, 0, 6.3)
    arc_s = s[curv != 0]
    if len(arc_s):
        i = np.clip(np.searchsorted(arc_s, s), 1, len(arc_s) - 1)
        gap = np.minimum(np.abs(s - arc_s[i - 1]), np.abs(arc_s[i] - s))
    else:
        gap = np.full_like(s, np.inf)
    weave = amp * np.sin(2 * np.pi * s / wavelength + phase) * _smoothstep(gap / 15.0)
    xz = xz + weave[:, None] * np.stack([np.cos(th), -np.sin(th)], 1)
    th = th + np.arctan(np.gradient(weave, s))

    # Speed: limits (cruise with slow variation, turns, stops), then acceleration limits.
    v_wave = 1 + 0.08 * np.sin(2 * np.pi * s / _rand(gen, 80.0, 200.0) + _rand(gen, 0, 6.3))
    v = np.minimum(np.where(curv == 0, vmax * v_wave, vmax), MAX_SPEED)
    stop_idx = [int(np.searchsorted(s, at)) for at, _ in stops]
    v[stop_idx] = 0.0
    ds = np.diff(s)
    for i in range(1, len(s)):
        v[i] = min(v[i], math.sqrt(v[i - 1] ** 2 + 2 * _ACCEL * ds[i - 1]))
    for i in range(len(s) - 2, -1, -1):
        v[i] = min(v[i], math.sqrt(v[i + 1] ** 2 + 2 * _BRAKE * ds[i]))
    # Constant acceleration between samples: each takes 2 ds / (v0 + v1) frames, and a
    # stop adds a segment of waiting (v = a = 0). Frames fall at integer times.
    accel = (v[1:] ** 2 - v[:-1] ** 2) / (2 * ds)
    seg_s, seg_v, seg_a, seg_t = [s[:-1]], [v[:-1]], [accel], [2 * ds / (v[:-1] + v[1:])]
    for (_, wait), i in zip(stops, stop_idx, strict=True):
        seg_s.append(s[i : i + 1])
        seg_v.append(np.zeros(1))
        seg_a.append(np.zeros(1))
        seg_t.append(np.array([wait]))
    order = np.argsort(
        np.concatenate([np.arange(len(ds)), np.array(stop_idx) - 0.5]), kind="stable"
    )
    seg_s, seg_v, seg_a, seg_t = (np.concatenate(a)[order] for a in (seg_s, seg_v, seg_a, seg_t))
    start_t = np.concatenate([[0.0], np.cumsum(seg_t)[:-1]])
    frames = np.arange(MAX_FRAMES, dtype=np.float64)
    k = np.searchsorted(start_t, frames, side="right") - 1
    tau = frames - start_t[k]
    s_f = seg_s[k] + seg_v[k] * tau + 0.5 * seg_a[k] * tau**2
    x_f, z_f = np.interp(s_f, s, xz[:, 0]), np.interp(s_f, s, xz[:, 1])
    heading_f = np.interp(s_f, s, th)

    # Suspension (weaker when slow, still when stopped), braking dive, lean in turns.
    speed = np.gradient(s_f)
    accel = np.gradient(speed)
    lateral = speed**2 * np.interp(s_f, s, np.gradient(th, s))
    pitch_amp, wp, pp, pr = (
        _rand(gen, 0.001, 0.005),
        2 * math.pi / _rand(gen, 8.0, 25.0),
        _rand(gen, 0, 6.3),
        _rand(gen, 0, 6.3),
    )
    bounce = speed / MAX_SPEED
    pitch = bounce * pitch_amp * np.sin(wp * frames + pp) + 0.05 * accel
    roll = bounce * 0.6 * pitch_amp * np.sin(1.7 * wp * frames + pr) + 0.03 * lateral
    y = -0.01 * bounce * np.sin(2.3 * wp * frames + pp)
    route = np.stack([x_f, y, z_f, pitch, heading_f, roll], 1)
    return torch.from_numpy(route), nodes


# -------------------------------------------------------------------------- layout

_FACADE_TINTS = torch.tensor(
    [
        [0.95, 0.85, 0.72],
        [0.78, 0.45, 0.35],
        [0.82, 0.82, 0.85],
        [1.0, 0.97, 0.9],
        [0.6, 0.68, 0.75],
    ]
)
_REACH = {FACADE0: 400.0, POLE: 150.0, CAR: 250.0}  # metres beyond which a box is culled


def _box(along: int, a0: float, a1: float, c0: float, c1: float, height: float) -> tuple:
    """Axis-aligned box standing on the ground: ``along`` (0 = x, 2 = z) spans [a0, a1],
    the other horizontal axis [c0, c1] (either order), ``height`` metres tall."""
    lo, hi = [0.0, CAMERA_HEIGHT - height, 0.0], [0.0, CAMERA_HEIGHT, 0.0]
    lo[along], hi[along] = a0, a1
    lo[2 - along], hi[2 - along] = min(c0, c1), max(c0, c1)
    return tuple(lo), tuple(hi)


def _block_side(
    gen: torch.Generator,
    along: int,
    span: tuple[float, float],
    street: float,
    inward: float,
    road: float,
    walk: float,
    room: float,
) -> list[tuple]:
    """Boxes (min, max, material, tint, shift, reach) along one side of a block: facades
    set back from the sidewalk, poles on the kerb and cars parked along it. ``street`` is
    the centre line the side faces, ``inward`` (+1/-1) points from it into the block,
    ``span`` is the side's extent between the crossing streets' sidewalks, ``room`` the
    depth available to buildings."""

    def u(lo: float, hi: float) -> float:
        return _rand(gen, lo, hi)

    boxes: list[tuple] = []
    a0, a1 = span
    face = street + inward * (road + walk)
    a = a0
    while a < a1 - 4.0:  # buildings
        if u(0, 1) < 0.15:
            a += u(3, 10)
            continue
        length, setback, height = min(u(8, 25), a1 - a), u(0, 3), u(6, 28)
        depth = max(min(u(8, 16), room - setback), 2.0)
        near = face + inward * setback
        tint = _FACADE_TINTS[int(u(0, len(_FACADE_TINTS) - 1e-6))] * _rand3(gen, 0.85, 1.1)
        mat = FACADE0 + int(u(0, _N_FACADES - 1e-6))
        lo, hi = _box(along, a, a + length, near, near + inward * depth, height)
        boxes.append((lo, hi, mat, tint, u(0, 12), _REACH[FACADE0]))
        a += length + u(0, 1.5)
    kerb = street + inward * (road + 0.4)
    a = a0 + u(0, 10)
    while a < a1:  # poles on the kerb
        lo, hi = _box(along, a - 0.12, a + 0.12, kerb - 0.12, kerb + 0.12, u(5, 8))
        boxes.append((lo, hi, POLE, torch.ones(3), u(0, 1), _REACH[POLE]))
        a += u(15, 30)
    lane = street + inward * (road - 1.1)
    a = a0 + u(0, 10)
    while a < a1 - 5.0:  # parked cars
        if u(0, 1) < 0.5:
            length = u(3.8, 4.8)
            lo, hi = _box(along, a, a + length, lane - 0.9, lane + 0.9, u(1.4, 1.7))
            boxes.append((lo, hi, CAR, _rand3(gen, 0.1, 0.95), u(0, 4), _REACH[CAR]))
            a += length + u(1, 25)
        else:
            a += u(5, 20)
    return boxes


def _layout(
    gen: torch.Generator,
    xs: np.ndarray,
    zs: np.ndarray,
    road: float,
    walk: float,
    nodes: list[tuple[int, int]],
) -> tuple[list[tuple], tuple[int, int, int, int]]:
    """Boxes of every block within two blocks of the route, and those blocks' index
    bounds (i0, i1, j0, j1)."""
    last = 2 * _N_STREETS - 1
    blocks = sorted(
        {
            (bi, bj)
            for i, j in nodes
            for bi in range(max(i - 2, 0), min(i + 2, last + 1))
            for bj in range(max(j - 2, 0), min(j + 2, last + 1))
        }
    )
    gap = road + walk
    boxes: list[tuple] = []
    for bi, bj in blocks:
        x0, x1, z0, z1 = xs[bi] + gap, xs[bi + 1] - gap, zs[bj] + gap, zs[bj + 1] - gap
        x_room, z_room = (x1 - x0) / 2, (z1 - z0) / 2
        boxes += _block_side(gen, 2, (z0, z1), xs[bi], 1.0, road, walk, x_room)
        boxes += _block_side(gen, 2, (z0, z1), xs[bi + 1], -1.0, road, walk, x_room)
        boxes += _block_side(gen, 0, (x0, x1), zs[bj], 1.0, road, walk, z_room)
        boxes += _block_side(gen, 0, (x0, x1), zs[bj + 1], -1.0, road, walk, z_room)
    bi_all, bj_all = [b[0] for b in blocks], [b[1] for b in blocks]
    return boxes, (min(bi_all), max(bi_all) + 1, min(bj_all), max(bj_all) + 1)


@lru_cache(maxsize=16)
def make_scene(seed: int) -> Scene:
    """The city of sequence ``seed`` and the car's route (deterministic; cached)."""
    with _single_threaded():
        return _build_scene(int(seed))


def _build_scene(seed: int) -> Scene:
    gen = torch.Generator().manual_seed(seed)
    road, walk = _rand(gen, 5.5, 7.5), _rand(gen, 2.0, 3.5)
    atlas, offsets = _atlas(gen)
    xs, zs = _streets(gen), _streets(gen)
    route, nodes = _route(gen, xs, zs, road)
    boxes, (i0, i1, j0, j1) = _layout(gen, xs, zs, road, walk, nodes)
    elev, azim = _rand(gen, 0.4, 1.1), _rand(gen, 0, 2 * math.pi)
    sun = torch.tensor(
        [math.cos(elev) * math.sin(azim), -math.sin(elev), math.cos(elev) * math.cos(azim)]
    )
    warm = _rand(gen, 0.0, 0.15)
    lighting = Lighting(
        sun=sun,
        sun_color=_rand(gen, 0.55, 0.85) * torch.tensor([1 + warm, 1.0, 1 - warm]),
        ambient=_rand(gen, 0.35, 0.55) * torch.tensor([0.95, 1.0, 1.08]),
        horizon=torch.tensor([0.78, 0.84, 0.9]) * _rand(gen, 0.9, 1.05),
        zenith=torch.tensor([0.35, 0.55, 0.85]) * _rand(gen, 0.8, 1.1),
        haze=_rand(gen, 250.0, 800.0),
    )
    return Scene(
        seed=seed,
        road_half_width=road,
        sidewalk_width=walk,
        streets_x=torch.tensor(xs, dtype=torch.float32),
        streets_z=torch.tensor(zs, dtype=torch.float32),
        box_min=torch.tensor([b[0] for b in boxes], dtype=torch.float32),
        box_max=torch.tensor([b[1] for b in boxes], dtype=torch.float32),
        box_material=torch.tensor([b[2] for b in boxes]),
        box_tint=torch.stack([b[3] for b in boxes]).float(),
        box_shift=torch.tensor([b[4] for b in boxes], dtype=torch.float32),
        box_reach=torch.tensor([b[5] for b in boxes], dtype=torch.float32),
        atlas=atlas,
        atlas_offset=offsets,
        lighting=lighting,
        route=route,
        sky_min=torch.tensor(
            [xs[i0] - SKY_MARGIN, -SKY_HEIGHT, zs[j0] - SKY_MARGIN], dtype=torch.float32
        ),
        sky_max=torch.tensor(
            [xs[i1] + SKY_MARGIN, CAMERA_HEIGHT + 1.0, zs[j1] + SKY_MARGIN], dtype=torch.float32
        ),
    )


# ----------------------------------------------------------------------- rendering


def _visible_boxes(
    scene: Scene, rot: torch.Tensor, centre: torch.Tensor, k: torch.Tensor, height: int, width: int
) -> list[tuple[int, int, int, int, int, float]]:
    """Boxes that may be visible, nearest first, each with a conservative pixel bounding
    box and its distance from the camera (index, row0, row1, col0, col1, distance)."""
    lo, hi = scene.box_min, scene.box_max
    pick = torch.tensor(list(product((0, 1), repeat=3)), dtype=torch.bool)  # (8, 3)
    corners = torch.where(pick, hi[:, None], lo[:, None])  # (K, 8, 3)
    cam = (corners - centre) @ rot  # world -> camera: R^T (X - c)
    x, y, z = cam.unbind(-1)
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    # Half-spaces of the frustum (through the optical centre, edges at -0.5 and W-0.5).
    outside = [
        z <= 0.05,
        x * fx < (-0.5 - cx) * z,
        x * fx > (width - 0.5 - cx) * z,
        y * fy < (-0.5 - cy) * z,
        y * fy > (height - 0.5 - cy) * z,
    ]
    culled = torch.zeros(len(lo), dtype=torch.bool)
    for half in outside:
        culled |= half.all(1)
    nearest = (torch.maximum(torch.maximum(lo - centre, centre - hi), torch.zeros(3))).norm(dim=-1)
    culled |= nearest > scene.box_reach
    behind = (z <= 0.05).any(1)
    zs = z.clamp_min(0.05)
    px, py = fx * x / zs + cx, fy * y / zs + cy
    c0 = torch.where(behind, 0, px.amin(1).floor().clamp_min(0))
    c1 = torch.where(behind, width, (px.amax(1).ceil() + 1).clamp_max(width))
    r0 = torch.where(behind, 0, py.amin(1).floor().clamp_min(0))
    r1 = torch.where(behind, height, (py.amax(1).ceil() + 1).clamp_max(height))
    keep = ~culled & (c0 < c1) & (r0 < r1)
    idx = torch.nonzero(keep).flatten()
    idx = idx[nearest[idx].argsort(stable=True)]
    rows = torch.stack([r0[idx], r1[idx], c0[idx], c1[idx]], 1).long().tolist()
    return [(i, *r, d) for i, r, d in zip(idx.tolist(), rows, nearest[idx].tolist(), strict=True)]


def _cast_boxes(
    scene: Scene, centre: torch.Tensor, inv: torch.Tensor, ray_len: float, visible: list
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Nearest box hit of every ray: z-depth (H, W) (inf: none), box index (-1: none) and
    the axis of the face hit. ``inv`` (H, W, 3) is 1 / ray direction (rays scaled to unit
    z in the camera); ``ray_len`` bounds their length. Boxes arrive nearest first; a box
    whose distance exceeds every depth already found in its pixel box is occluded and
    skipped. Runs in numpy: the many small per-box operations cost less there."""
    inv_np, c = inv.numpy(), centre.numpy()
    lo_all, hi_all = scene.box_min.numpy(), scene.box_max.numpy()
    height, width = inv_np.shape[:2]
    depth = np.full((height, width), np.inf, dtype=np.float32)
    box_id = np.full((height, width), -1, dtype=np.int64)
    axis = np.zeros((height, width), dtype=np.int64)
    for i, r0, r1, c0, c1, distance in visible:
        cur = depth[r0:r1, c0:c1]
        if distance / ray_len > cur.max():
            continue
        sub = inv_np[r0:r1, c0:c1]
        t1, t2 = (lo_all[i] - c) * sub, (hi_all[i] - c) * sub
        tmin = np.minimum(t1, t2)
        near, far = tmin.max(-1), np.maximum(t1, t2).min(-1)
        hit = (near <= far) & (near > 0) & (near < cur)
        cur[hit] = near[hit]
        box_id[r0:r1, c0:c1][hit] = i
        axis[r0:r1, c0:c1][hit] = tmin.argmax(-1)[hit]
    return torch.from_numpy(depth), torch.from_numpy(box_id), torch.from_numpy(axis)


def _slab(origin: torch.Tensor, inv: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor):
    t1 = (lo - origin) * inv
    t2 = (hi - origin) * inv
    return torch.minimum(t1, t2), torch.maximum(t1, t2)


def _sample(
    scene: Scene, mat: torch.Tensor, u: torch.Tensor, v: torch.Tensor, footprint: torch.Tensor
) -> torch.Tensor:
    """Trilinear (mip-mapped, wrapping) texture lookup -> (N, 3)."""
    period = torch.tensor(_PERIODS)[mat]
    lod = torch.log2((footprint * _TEX / period).clamp_min(1e-6)).clamp(0, _LEVELS - 1)
    l0 = lod.floor().long()
    l1 = (l0 + 1).clamp(max=_LEVELS - 1)
    w = (lod - l0).unsqueeze(-1)
    out = 0.0
    for level, weight in ((l0, 1 - w), (l1, w)):
        size = _TEX >> level
        x = u / period * size - 0.5
        y = v / period * size - 0.5
        x0, y0 = x.floor(), y.floor()
        fx, fy = (x - x0).unsqueeze(-1), (y - y0).unsqueeze(-1)
        x0, y0 = x0.long() % size, y0.long() % size
        x1, y1 = (x0 + 1) % size, (y0 + 1) % size
        base = scene.atlas_offset[mat, level]

        def texel(
            yy: torch.Tensor, xx: torch.Tensor, base: torch.Tensor = base, size: torch.Tensor = size
        ) -> torch.Tensor:
            return scene.atlas[:, base + yy * size + xx].T

        top = texel(y0, x0) * (1 - fx) + texel(y0, x1) * fx
        bottom = texel(y1, x0) * (1 - fx) + texel(y1, x1) * fx
        out = out + weight * (top * (1 - fy) + bottom * fy)
    return out  # type: ignore[return-value]


def _street_offset(coord: torch.Tensor, streets: torch.Tensor) -> torch.Tensor:
    """Signed distance from ``coord`` to the nearest of the sorted centre lines ``streets``."""
    i = torch.bucketize(coord.contiguous(), streets).clamp(1, len(streets) - 1)
    below, above = coord - streets[i - 1], coord - streets[i]
    return torch.where(below.abs() < above.abs(), below, above)


def _line_coverage(
    x: torch.Tensor, centre: float, width: float, footprint: torch.Tensor
) -> torch.Tensor:
    """Fraction of a pixel footprint [x - fp/2, x + fp/2] covered by a painted line."""
    lo = torch.maximum(x - footprint / 2, torch.tensor(centre - width / 2))
    hi = torch.minimum(x + footprint / 2, torch.tensor(centre + width / 2))
    return ((hi - lo).clamp_min(0) / footprint.clamp_min(1e-6)).clamp(max=1.0)


def render_view(
    scene: Scene, pose: torch.Tensor, intrinsics: torch.Tensor, *, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ray-cast one frame from camera-to-world ``pose`` (4, 4) with ``intrinsics`` (3, 3).

    Returns the image (3, H, W) in [0, 1] and its z-depth (1, H, W) in metres.

    Runs on one torch thread (restored afterwards): its many small tensor ops gain
    nothing from intra-op threads and, on a machine whose cores are shared, they can be
    slowed down by orders of magnitude. Render sequences in parallel processes instead.
    """
    with _single_threaded(), torch.no_grad():
        return _render_view(scene, pose, intrinsics, height, width)


def _render_view(
    scene: Scene, pose: torch.Tensor, intrinsics: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    rot, centre = pose[:3, :3].float(), pose[:3, 3].float()
    k = intrinsics.float()
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing="ij",
    )
    dirs_cam = torch.stack(
        [(xs - k[0, 2]) / k[0, 0], (ys - k[1, 2]) / k[1, 1], torch.ones_like(xs)], -1
    )
    dirs = dirs_cam @ rot.T  # (H, W, 3) world directions; the ray parameter is z-depth
    safe = torch.where(dirs.abs() < 1e-9, torch.full_like(dirs, 1e-9), dirs)
    inv = 1.0 / safe

    visible = _visible_boxes(scene, rot, centre, k, height, width)
    depth, box_id, axis = _cast_boxes(scene, centre, inv, float(dirs.norm(dim=-1).max()), visible)

    ground_t = torch.where(
        dirs[..., 1] > 1e-9,
        (CAMERA_HEIGHT - centre[1]) / safe[..., 1],
        torch.full_like(depth, math.inf),
    )
    ground = ground_t < depth
    depth = torch.where(ground, ground_t, depth)
    _, sky_tmax = _slab(centre, inv, scene.sky_min, scene.sky_max)
    sky_t, sky_ax = sky_tmax.min(-1)
    sky = sky_t < depth
    depth = torch.where(sky, sky_t, depth)
    is_box = ~ground & ~sky
    axis = torch.where(ground, torch.ones_like(axis), torch.where(sky, sky_ax, axis))

    point = centre + depth[..., None] * dirs
    px, py, pz = point.unbind(-1)
    height_above = CAMERA_HEIGHT - py
    u = torch.where(axis == 0, pz, px)
    v = torch.where(axis == 1, pz, height_above)
    bid = box_id.clamp_min(0)
    u = u + torch.where(is_box, scene.box_shift[bid], torch.zeros_like(u))
    road = scene.road_half_width
    off_x, off_z = _street_offset(px, scene.streets_x), _street_offset(pz, scene.streets_z)
    on_x, on_z = off_x.abs() < road, off_z.abs() < road  # on a north-south / east-west street
    ground_mat = torch.where(on_x | on_z, ASPHALT, SIDEWALK)
    mat = torch.where(ground, ground_mat, torch.where(sky, SKY, scene.box_material[bid]))

    normal = torch.zeros_like(dirs)
    normal.scatter_(-1, axis[..., None], -torch.sign(dirs.gather(-1, axis[..., None])))
    ray_len = dirs.norm(dim=-1)
    distance = depth * ray_len
    cos = (normal * dirs).sum(-1).abs() / ray_len
    focal = 0.5 * (k[0, 0] + k[1, 1])
    footprint = distance / (focal * cos.clamp_min(1e-3).sqrt())
    albedo = _sample(scene, mat.flatten(), u.flatten(), v.flatten(), footprint.flatten()).reshape(
        height, width, 3
    )

    # Lane markings outside intersections: dashed centre lines, solid edge lines
    # (box-filtered across the line).
    across = distance / focal
    paint = torch.zeros_like(px)
    for offset, along, crossing in ((off_x, pz, on_z), (off_z, px, on_x)):
        dashed = (torch.remainder(along, 6.0) < 3.0).float()
        lines = dashed * _line_coverage(offset, 0.0, 0.15, across)
        for edge in (-1.0, 1.0):
            lines = lines + _line_coverage(offset, edge * (road - 0.3), 0.15, across)
        paint = paint + lines * (~crossing).float()
    paint = (paint * ground.float()).clamp(max=1.0)[..., None]
    albedo = albedo * (1 - paint) + 0.9 * paint
    tint = torch.where(is_box[..., None], scene.box_tint[bid], torch.ones_like(albedo))
    albedo = albedo * tint

    light = scene.lighting
    diffuse = (normal @ light.sun).clamp_min(0.0)[..., None]
    color = albedo * (light.ambient + light.sun_color * diffuse)
    haze = 1.0 - torch.exp(-distance / light.haze)[..., None]
    color = color * (1 - haze) + light.horizon * haze
    elevation = (height_above / SKY_HEIGHT).clamp(0, 1)[..., None]
    elevation = torch.where((axis == 1)[..., None], torch.ones_like(elevation), elevation)
    sky_rgb = light.horizon * (1 - elevation.sqrt()) + light.zenith * elevation.sqrt()
    sky_rgb = sky_rgb * (1 - 0.7 * albedo) + 0.7 * albedo  # clouds (grey albedo = cover)
    color = torch.where(sky[..., None], sky_rgb, color)
    return color.clamp(0, 1).permute(2, 0, 1).contiguous(), depth[None]


def render_sequence(
    seed: int,
    *,
    n_frames: int = 60,
    height: int = 64,
    width: int = 192,
    intrinsics: torch.Tensor | None = None,
) -> Sequence:
    """Render ``n_frames`` frames of the street ``seed`` at (height, width).

    Returns a :class:`~unpaired.data.rgbd.Sequence`: frames (T, 3, H, W), depth
    (T, 1, H, W) metres, poses (T, 4, 4) camera-to-world, intrinsics (3, 3).
    ``seed == TEST_SEED`` (0) is the held-out validation/test sequence. ``intrinsics``
    (3, 3) replaces the default camera (:func:`scene_intrinsics`), e.g. to render a
    street as a TUM or KITTI camera would see it.
    """
    scene = make_scene(seed)
    poses = scene.trajectory(n_frames)
    k = scene_intrinsics(height, width) if intrinsics is None else intrinsics.float()
    with _single_threaded():
        views = [render_view(scene, p, k, height=height, width=width) for p in poses]
    return Sequence(
        torch.stack([v[0] for v in views]),
        torch.stack([v[1] for v in views]),
        poses,
        k,
        name=f"street-{seed}",
    )


def render_pairs(
    seeds: list[int] | range,
    *,
    n_frames: int = 60,
    height: int = 64,
    width: int = 192,
    stride: int = 1,
) -> FramePairs:
    """Frame pairs (t, t + stride) of every sequence in ``seeds``, concatenated."""
    return FramePairs.cat(
        [
            render_sequence(s, n_frames=n_frames, height=height, width=width).pairs(stride=stride)
            for s in seeds
        ]
    )


def street_pair_set(
    seeds: list[int] | range | tuple[int, ...], *, n_frames: int, height: int, width: int
) -> PairSet:
    """Consecutive pairs of the first ``n_frames`` frames of each street ``seeds``, with
    flow and egomotion inputs (:func:`~unpaired.data.flow.make_pair_set`)."""
    return make_pair_set(render_pairs(list(seeds), n_frames=n_frames, height=height, width=width))


def street_motions(seeds: list[int] | range | tuple[int, ...]) -> torch.Tensor:
    """Relative motions (N, 6) between consecutive poses of the whole routes ``seeds``
    (:func:`~unpaired.data.flow.motion_vectors`), no rendering needed: camera-motion
    memories of the SfM AIGN."""
    out = []
    for s in seeds:
        poses = make_scene(s).trajectory(MAX_FRAMES).double()
        rot, trans = relative_motion(poses[:-1], poses[1:])
        out.append(motion_vectors(rot, trans).float())
    return torch.cat(out)


def street_log_depths(
    seeds: list[int] | range | tuple[int, ...], *, n_frames: int, height: int, width: int
) -> torch.Tensor:
    """True log depth maps (N, 1, H, W) of the first ``n_frames`` frames of the streets
    ``seeds``: depth memories of the SfM AIGN."""
    maps = [render_sequence(s, n_frames=n_frames, height=height, width=width).depth for s in seeds]
    return torch.cat(maps).log()
