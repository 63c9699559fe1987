"""Procedural driving scenes: the embedded default data for structure from motion.

A camera on a car drives down a straight street through a static textured 3D world:
a ground plane (asphalt with lane markings, paved sidewalks), building facades with
windows (axis-aligned boxes along the road), poles, parked and stopped cars, and a sky
box with clouds. Frames are rendered by vectorized ray casting in torch (ray-plane and
ray-box slab intersections, nearest hit) with exact per-pixel z-depth and exact camera
poses, so every frame pair comes with its true relative motion (the stand-in for
Virtual KITTI in Sec. 3.2 of the AIGN paper).

* Sequences are identified by a seed. **Seed 0 (``TEST_SEED``) is the validation/test
  sequence**, as the paper holds out the first VKITTI sequence; train on seeds 1, 2, ...
  A seed fixes the layout, textures, lighting, haze and trajectory; the first ``k``
  frames of a sequence do not depend on how many frames are rendered.
* Motion is car-like: forward speed 0.5-1.5 m/frame (smoothly varying), heading
  weaving by at most a few degrees (yaw rate below 0.01 rad/frame), pitch and roll
  within about 0.005 rad.
* Depth is z-depth in metres and always finite: rays that miss every object hit the
  sky box (400 m high, walls 800 m beside and behind the start and 800 m beyond the
  longest path), so depth never exceeds ``MAX_DEPTH``. Evaluate depth with a cap (e.g.
  80 m as is usual for KITTI); sky pixels are hundreds of metres away.
* Texture lookups are filtered (trilinear mip-mapping with a footprint estimated from
  distance and incidence angle), so far textures do not shimmer between frames and the
  brightness constancy of Eq. 3 holds up to small filtering differences.
* Intrinsics: ``fx = fy = 725/1242 * width`` (Virtual KITTI's 81 degree horizontal
  field of view), principal point at the image centre.

Conventions (shared with :mod:`unpaired.data.rgbd`): world and camera axes x right,
y down, z forward; the ground is the plane ``y = CAMERA_HEIGHT`` and the camera rides at
``y`` close to 0; poses are camera-to-world.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import torch
import torch.nn.functional as F

from unpaired.data.rgbd import FramePairs, Sequence
from unpaired.geometry import euler_to_matrix

TEST_SEED = 0
MAX_FRAMES = 1000
MAX_SPEED = 1.5  # m/frame
CAMERA_HEIGHT = 1.65  # m above the ground, as the KITTI cameras
FOCAL_RATIO = 725.0 / 1242.0  # fx / width of Virtual KITTI
MAX_PATH = MAX_SPEED * MAX_FRAMES
SKY_MARGIN = 800.0
SKY_HEIGHT = 400.0
_Z_START = -80.0
_Z_END = MAX_PATH + 400.0
MAX_DEPTH = math.sqrt((MAX_PATH + SKY_MARGIN - _Z_START) ** 2 + SKY_MARGIN**2 + SKY_HEIGHT**2)

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
    """A procedural street. Boxes are axis-aligned in the world: ``box_min``,
    ``box_max`` (K, 3), ``box_material`` (K,), ``box_tint`` (K, 3), ``box_shift`` (K,)
    (texture offset in metres), ``box_reach`` (K,) (beyond this distance the box is not
    drawn: poles and cars would be sub-pixel)."""

    seed: int
    road_half_width: float
    sidewalk_width: float
    box_min: torch.Tensor
    box_max: torch.Tensor
    box_material: torch.Tensor
    box_tint: torch.Tensor
    box_shift: torch.Tensor
    box_reach: torch.Tensor
    atlas: torch.Tensor  # (3, texels) all materials and mip levels, flattened
    atlas_offset: torch.Tensor  # (materials, levels) start of each level in ``atlas``
    lighting: Lighting
    motion: torch.Tensor  # (10,) trajectory parameters, see ``trajectory``

    @property
    def sky_min(self) -> torch.Tensor:
        return torch.tensor([-SKY_MARGIN, -SKY_HEIGHT, _Z_START - SKY_MARGIN])

    @property
    def sky_max(self) -> torch.Tensor:
        return torch.tensor([SKY_MARGIN, CAMERA_HEIGHT + 1.0, MAX_PATH + SKY_MARGIN])

    def trajectory(self, n_frames: int) -> torch.Tensor:
        """Camera-to-world poses (n_frames, 4, 4) of the car-mounted camera."""
        if not 1 <= n_frames <= MAX_FRAMES:
            raise ValueError(f"n_frames must be in [1, {MAX_FRAMES}], got {n_frames}")
        v0, dv, wv, pv, yaw_amp, wy, py, pitch_amp, wp, pp = self.motion.double().tolist()
        t = torch.arange(n_frames, dtype=torch.float64)
        speed = v0 + dv * torch.sin(wv * t + pv)
        heading = yaw_amp * torch.sin(wy * t + py)
        step_x = speed * torch.sin(heading)
        step_z = speed * torch.cos(heading)
        x = 1.75 + torch.cumsum(step_x, 0) - step_x[0]
        z = torch.cumsum(step_z, 0) - step_z[0]
        y = -0.01 * torch.sin(2.3 * wp * t + pp)
        pitch = pitch_amp * torch.sin(wp * t + pp)
        roll = 0.6 * pitch_amp * torch.sin(1.7 * wp * t + py)
        poses = torch.eye(4, dtype=torch.float64).repeat(n_frames, 1, 1)
        poses[:, :3, :3] = euler_to_matrix(torch.stack([pitch, heading, roll], -1))
        poses[:, :3, 3] = torch.stack([x, y, z], -1)
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


def _layout(gen: torch.Generator, road: float, walk: float) -> list[tuple]:
    """Boxes as (min xyz, max xyz, material, tint, shift, reach)."""
    boxes: list[tuple] = []
    g = CAMERA_HEIGHT

    def u(lo: float, hi: float) -> float:
        return _rand(gen, lo, hi)

    for side in (-1.0, 1.0):
        z = _Z_START
        while z < _Z_END:  # buildings
            if u(0, 1) < 0.2:
                z += u(3, 10)
                continue
            length, near, depth, height = u(8, 25), road + walk + u(0, 3), u(8, 16), u(6, 28)
            xs = sorted((side * near, side * (near + depth)))
            tint = _FACADE_TINTS[int(u(0, len(_FACADE_TINTS) - 1e-6))] * _rand3(gen, 0.85, 1.1)
            mat = FACADE0 + int(u(0, _N_FACADES - 1e-6))
            boxes.append(((xs[0], g - height, z), (xs[1], g, z + length), mat, tint, u(0, 12), 1e9))
            z += length + u(0, 1.5)
        z = _Z_START + u(0, 10)
        while z < _Z_END:  # poles on the curb
            x, h = side * (road + 0.4), u(5, 8)
            boxes.append(
                (
                    (x - 0.12, g - h, z - 0.12),
                    (x + 0.12, g, z + 0.12),
                    POLE,
                    torch.ones(3),
                    u(0, 1),
                    150.0,
                )
            )
            z += u(15, 30)
        z = _Z_START + u(0, 10)
        while z < _Z_END:  # parked cars along the kerb, stopped cars in the other lane
            length, width, height = u(3.8, 4.8), 1.8, u(1.4, 1.7)
            if u(0, 1) < 0.5:
                x = side * (road - 1.1)
            elif side < 0 and u(0, 1) < 0.3:
                x = -1.75
            else:
                z += u(5, 20)
                continue
            tint = _rand3(gen, 0.1, 0.95)
            boxes.append(
                (
                    (x - width / 2, g - height, z),
                    (x + width / 2, g, z + length),
                    CAR,
                    tint,
                    u(0, 4),
                    250.0,
                )
            )
            z += length + u(1, 25)
    return boxes


@lru_cache(maxsize=16)
def make_scene(seed: int) -> Scene:
    """The street of sequence ``seed`` (deterministic; cached)."""
    with _single_threaded():
        return _build_scene(int(seed))


def _build_scene(seed: int) -> Scene:
    gen = torch.Generator().manual_seed(seed)
    road, walk = _rand(gen, 5.5, 7.5), _rand(gen, 2.0, 3.5)
    atlas, offsets = _atlas(gen)
    boxes = _layout(gen, road, walk)
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
    motion = torch.tensor(
        [
            _rand(gen, 0.8, 1.2),  # mean speed
            _rand(gen, 0.1, 0.3),  # speed amplitude
            2 * math.pi / _rand(gen, 40, 120),
            _rand(gen, 0, 2 * math.pi),
            _rand(gen, 0.01, 0.04),  # heading amplitude (rad)
            2 * math.pi / _rand(gen, 30, 90),
            _rand(gen, 0, 2 * math.pi),
            _rand(gen, 0.001, 0.005),  # pitch amplitude (rad)
            2 * math.pi / _rand(gen, 8, 25),
            _rand(gen, 0, 2 * math.pi),
        ]
    )
    return Scene(
        seed=seed,
        road_half_width=road,
        sidewalk_width=walk,
        box_min=torch.tensor([b[0] for b in boxes]),
        box_max=torch.tensor([b[1] for b in boxes]),
        box_material=torch.tensor([b[2] for b in boxes]),
        box_tint=torch.stack([b[3] for b in boxes]).float(),
        box_shift=torch.tensor([b[4] for b in boxes]),
        box_reach=torch.tensor([b[5] for b in boxes]),
        atlas=atlas,
        atlas_offset=offsets,
        lighting=lighting,
        motion=motion,
    )


# ----------------------------------------------------------------------- rendering


def _visible_boxes(
    scene: Scene, rot: torch.Tensor, centre: torch.Tensor, k: torch.Tensor, height: int, width: int
) -> list[tuple[int, int, int, int, int]]:
    """Boxes that may be visible, each with a conservative pixel bounding box
    (index, row0, row1, col0, col1)."""
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
    out = []
    for i in torch.nonzero(~culled).flatten().tolist():
        if behind[i]:
            out.append((i, 0, height, 0, width))
            continue
        c0 = max(math.floor(px[i].min()), 0)
        c1 = min(math.ceil(px[i].max()) + 1, width)
        r0 = max(math.floor(py[i].min()), 0)
        r1 = min(math.ceil(py[i].max()) + 1, height)
        if c0 < c1 and r0 < r1:
            out.append((i, r0, r1, c0, c1))
    return out


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

    depth = torch.full((height, width), math.inf)
    box_id = torch.full((height, width), -1, dtype=torch.long)
    axis = torch.zeros((height, width), dtype=torch.long)
    for i, r0, r1, c0, c1 in _visible_boxes(scene, rot, centre, k, height, width):
        tmin, tmax = _slab(centre, inv[r0:r1, c0:c1], scene.box_min[i], scene.box_max[i])
        near, ax = tmin.max(-1)
        far = tmax.min(-1).values
        cur = depth[r0:r1, c0:c1]
        hit = (near <= far) & (near > 0) & (near < cur)
        cur.copy_(torch.where(hit, near, cur))
        box_id[r0:r1, c0:c1].masked_fill_(hit, i)
        axis[r0:r1, c0:c1].copy_(torch.where(hit, ax, axis[r0:r1, c0:c1]))

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
    ground_mat = torch.where(px.abs() < scene.road_half_width, ASPHALT, SIDEWALK)
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

    # Lane markings: dashed centre line, solid edge lines (box-filtered across the line).
    across = distance / focal
    dashed = (torch.remainder(pz, 6.0) < 3.0).float()
    paint = dashed * _line_coverage(px, 0.0, 0.15, across)
    for edge in (-1.0, 1.0):
        paint = paint + _line_coverage(px, edge * (scene.road_half_width - 0.3), 0.15, across)
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
    seed: int, *, n_frames: int = 60, height: int = 64, width: int = 192
) -> Sequence:
    """Render ``n_frames`` frames of the street ``seed`` at (height, width).

    Returns a :class:`~unpaired.data.rgbd.Sequence`: frames (T, 3, H, W), depth
    (T, 1, H, W) metres, poses (T, 4, 4) camera-to-world, intrinsics (3, 3).
    ``seed == TEST_SEED`` (0) is the held-out validation/test sequence.
    """
    scene = make_scene(seed)
    poses = scene.trajectory(n_frames)
    k = scene_intrinsics(height, width)
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
