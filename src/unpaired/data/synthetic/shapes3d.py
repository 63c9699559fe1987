"""A procedural **3D Shapes** renderer: a room corner with one object, every factor exact.

The stand-in for DeepMind's 3dshapes (480,000 MuJoCo renders, ``google-deepmind/3d-shapes``),
which cannot be obtained here, with the same six factors, grid and index order:

============  ======  =================================================
factor        levels  values
============  ======  =================================================
floor_hue     10      hue 0.0, 0.1, ..., 0.9 (HSV, full saturation)
wall_hue      10      same
object_hue    10      same
scale         8       0.75 ... 1.25 (object size)
shape         4       0 cube, 1 cylinder, 2 sphere, 3 capsule
orientation   15      -30 ... 30 degrees
============  ======  =================================================

The image index of a factor tuple is the original's storage order,
``((((f * 10 + w) * 10 + o) * 8 + s) * 4 + sh) * 15 + ori`` (:func:`index_of`,
:func:`factors_of`).

Scene (units: the object at scale 1 has radius 1): a floor ``y = 0`` and two walls
``x = 3`` and ``z = 3`` meeting in a corner; the object stands on the floor at the origin
(cube of half-size r, cylinder and capsule with a vertical axis, sphere); ``r = 0.9 *
scale``. A pinhole camera (40 degree field of view) orbits the object at distance 6 and
height 2.5, looking at (0, 0.6, 0); its azimuth is 45 degrees + orientation, so the
orientation turns the object *and* moves the corner (as in the original, where a sphere's
orientation is visible only through the room). Shading: Lambert with one directional
light plus ambient, hard shadows of the object on the floor and walls (a shadow ray per
pixel), a darker left wall. Per-pixel ray casting is vectorised over images and pixels;
``supersample`` renders at that factor and averages (anti-aliasing: sub-pixel changes
of scale and orientation show as edge intensities).

Units: images in [-1, 1], ``(N, 3, H, W)`` float32; factors ``(N, 6)`` int64 level indices.
``benchmarks/shapes3d.py`` measures images per second.

Example:
    >>> f = torch.tensor([[0, 7, 3, 5, 2, 7]])
    >>> render(f, size=16).shape
    torch.Size([1, 3, 16, 16])
    >>> int(index_of(f)[0]) == ((((0 * 10 + 7) * 10 + 3) * 8 + 5) * 4 + 2) * 15 + 7
    True
    >>> bool((factors_of(index_of(f)) == f).all())
    True
"""

from __future__ import annotations

import math

import torch

from unpaired._checks import check_shape

#: Factor names in the original's label order.
FACTORS: tuple[str, ...] = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
#: Number of levels of each factor.
LEVELS: tuple[int, ...] = (10, 10, 10, 8, 4, 15)
#: Shape names of the ``shape`` factor's levels.
SHAPES: tuple[str, ...] = ("cube", "cylinder", "sphere", "capsule")
#: Ordinal (real-valued) factors: scored by distance, not equality (metrics.guided).
ORDINAL: tuple[str, ...] = ("scale", "orientation")
#: The 3dshapes.h5 label values of each factor's levels (data.shapes3d converts).
VALUES: tuple[tuple[float, ...], ...] = (
    tuple(k / 10 for k in range(10)),
    tuple(k / 10 for k in range(10)),
    tuple(k / 10 for k in range(10)),
    tuple(0.75 + 0.5 * k / 7 for k in range(8)),
    (0.0, 1.0, 2.0, 3.0),
    tuple(-30.0 + 60.0 * k / 14 for k in range(15)),
)
NUM_IMAGES = math.prod(LEVELS)  # 480,000

_WALL = 3.0
_RADIUS = 0.9
_DIST, _HEIGHT, _LOOK_Y, _FOV = 6.0, 2.5, 0.6, 40.0
_LIGHT = torch.tensor([-0.45, 0.8, -0.25])
_AMBIENT = 0.4
_INF = float("inf")


def _strides() -> torch.Tensor:
    s = [1] * 6
    for k in range(4, -1, -1):
        s[k] = s[k + 1] * LEVELS[k + 1]
    return torch.tensor(s)


def index_of(factors: torch.Tensor) -> torch.Tensor:
    """Image index (N,) of level tuples ``factors`` (N, 6), in the original's storage order."""
    check_shape("factors", factors, ("N", 6))
    check_levels(factors)
    return (factors.long() * _strides()).sum(1)


def factors_of(index: torch.Tensor) -> torch.Tensor:
    """Level tuples (N, 6) of image indices (N,); inverse of :func:`index_of`."""
    index = index.long()
    if index.numel() and (index.min() < 0 or index.max() >= NUM_IMAGES):
        raise ValueError(f"image index outside [0, {NUM_IMAGES})")
    return (index[:, None] // _strides()) % torch.tensor(LEVELS)


def check_levels(factors: torch.Tensor) -> None:
    """Raise ``ValueError`` naming the first factor whose level is out of range."""
    for k, (name, n) in enumerate(zip(FACTORS, LEVELS, strict=True)):
        col = factors[:, k]
        if col.numel() and (col.min() < 0 or col.max() >= n):
            raise ValueError(f"factor {name}: levels must lie in [0, {n}), got {col.tolist()[:8]}")


def hue_rgb(hue: torch.Tensor) -> torch.Tensor:
    """RGB (N, 3) in [0, 1] of HSV (hue (N,) in [0, 1), saturation 1, value 1)."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + hue[:, None] * 6) % 6
    return 1 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _camera(orientation_deg: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ray origins (N, 1, 3) and unit directions (N, P, 3), P = size**2, row-major."""
    az = torch.deg2rad(45.0 + orientation_deg)
    n = az.shape[0]
    eye = torch.stack(
        [-_DIST * torch.sin(az), torch.full_like(az, _HEIGHT), -_DIST * torch.cos(az)], 1
    )
    fwd = torch.tensor([0.0, _LOOK_Y, 0.0]) - eye
    fwd = fwd / fwd.norm(dim=1, keepdim=True)
    right = torch.linalg.cross(fwd, torch.tensor([[0.0, 1.0, 0.0]]).expand(n, 3))
    right = right / right.norm(dim=1, keepdim=True)
    up = torch.linalg.cross(right, fwd)
    t = math.tan(math.radians(_FOV) / 2)
    c = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(-c, c, indexing="ij")
    u, v = u.reshape(1, -1, 1) * t, v.reshape(1, -1, 1) * t
    d = fwd[:, None] + u * right[:, None] + v * up[:, None]
    return eye[:, None], d / d.norm(dim=2, keepdim=True)


def _nearest(t1: torch.Tensor, n1: torch.Tensor, t2: torch.Tensor, n2: torch.Tensor):
    take = t2 < t1
    return torch.where(take, t2, t1), torch.where(take[..., None], n2, n1)


def _sphere(o, d, c_y, r):
    """Nearest hit t > 0 of rays with spheres at (0, c_y, 0), radius r (both (N, 1))."""
    oc = o - torch.stack([torch.zeros_like(c_y), c_y, torch.zeros_like(c_y)], -1)
    b = (oc * d).sum(-1)
    disc = b * b - ((oc * oc).sum(-1) - r * r)
    t = -b - disc.clamp(min=0).sqrt()
    t = torch.where((disc >= 0) & (t > 1e-4), t, _INF)
    p = oc + t.clamp(max=1e6)[..., None] * d
    return t, p / r[..., None]


def _cylinder_side(o, d, r, y0, y1):
    """Hits with the side of the vertical cylinder of radius r between heights y0, y1."""
    a = d[..., 0] ** 2 + d[..., 2] ** 2
    b = o[..., 0] * d[..., 0] + o[..., 2] * d[..., 2]
    c = o[..., 0] ** 2 + o[..., 2] ** 2 - r * r
    disc = b * b - a * c
    t = (-b - disc.clamp(min=0).sqrt()) / a.clamp(min=1e-9)
    y = o[..., 1] + t * d[..., 1]
    t = torch.where((disc >= 0) & (t > 1e-4) & (y >= y0) & (y <= y1), t, _INF)
    p = o + t.clamp(max=1e6)[..., None] * d
    n = torch.stack([p[..., 0], torch.zeros_like(t), p[..., 2]], -1) / r[..., None]
    return t, n


def _cap(o, d, r, y):
    """Hits with the top disc of radius r at height y."""
    t = (y - o[..., 1]) / d[..., 1].clamp(max=-1e-9)
    p = o + t.clamp(min=0, max=1e6)[..., None] * d
    ok = (t > 1e-4) & (p[..., 0] ** 2 + p[..., 2] ** 2 <= r * r)
    n = torch.zeros_like(p)
    n[..., 1] = 1.0
    return torch.where(ok, t, _INF), n


def _box(o, d, r):
    """Hits with the box [-r, r] x [0, 2r] x [-r, r] (slab method)."""
    lo = torch.stack([-r, torch.zeros_like(r), -r], -1)
    hi = torch.stack([r, 2 * r, r], -1)
    inv = 1.0 / torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
    t0, t1 = (lo - o) * inv, (hi - o) * inv
    tmin, tmax = torch.minimum(t0, t1), torch.maximum(t0, t1)
    enter, axis = tmin.max(-1)
    exit_ = tmax.min(-1).values
    t = torch.where((enter <= exit_) & (enter > 1e-4), enter, _INF)
    n = torch.eye(3)[axis] * -torch.sign(d)
    return t, n


def _object(o, d, shape: int, r):
    """Nearest hit and normal of rays (N, P) with the object of one ``shape`` (radius r)."""
    if shape == 0:
        return _box(o, d, r)
    if shape == 1:
        return _nearest(*_cylinder_side(o, d, r, 0 * r, 2 * r), *_cap(o, d, r, 2 * r))
    if shape == 2:
        return _sphere(o, d, r, r)
    rc = 0.6 * r  # capsule: a cylinder of radius 0.6 r between two half-spheres, height 2.4 r
    t, n = _cylinder_side(o, d, rc, rc, 3 * rc)
    t, n = _nearest(t, n, *_sphere(o, d, 3 * rc, rc))
    return _nearest(t, n, *_sphere(o, d, rc, rc))


def _room(o, d):
    """Nearest hit with floor / wall x / wall z (convex room): t (N, P), surface id 0/1/2."""
    ts = []
    for axis, plane, sign in ((1, 0.0, -1), (0, _WALL, 1), (2, _WALL, 1)):
        dv = d[..., axis]
        t = (plane - o[..., axis]) / torch.where(dv.abs() < 1e-9, torch.full_like(dv, 1e-9), dv)
        ts.append(torch.where(sign * dv > 0, t, _INF))
    t, surface = torch.stack(ts, -1).min(-1)
    return t, surface


def _cast(o: torch.Tensor, d: torch.Tensor, shape: torch.Tensor, r: torch.Tensor):
    """Nearest object hits t (N, P) and normals (N, P, 3) of rays o (N, 1 or P, 3), d
    (N, P, 3) with each image's object (``shape`` (N,), radius ``r`` (N,)). Only rays that
    meet the object's bounding sphere (centre (0, 1.1 r, 0), radius 1.8 r) are cast."""
    n, p = d.shape[:2]
    o, d = o.expand(n, p, 3).reshape(-1, 3), d.reshape(-1, 3)
    shape, r = shape.repeat_interleave(p), r.repeat_interleave(p)
    oc = o.clone()
    oc[:, 1] -= 1.1 * r
    b = (oc * d).sum(-1)
    disc = b * b - (oc * oc).sum(-1) + (1.8 * r) ** 2
    near = ((disc >= 0) & (-b + disc.clamp(min=0).sqrt() > 0)).nonzero().squeeze(1)
    t = torch.full((n * p,), _INF)
    normal = torch.zeros(n * p, 3)
    for s in range(4):
        idx = near[shape[near] == s]
        if idx.numel():
            t[idx], normal[idx] = _object(o[idx], d[idx], s, r[idx])
    return t.reshape(n, p), normal.reshape(n, p, 3)


def _render_chunk(factors: torch.Tensor, size: int) -> torch.Tensor:
    n = factors.shape[0]
    o, d = _camera(torch.tensor(VALUES[5])[factors[:, 5]], size)
    r = _RADIUS * torch.tensor(VALUES[3])[factors[:, 3]]
    t_room, surface = _room(o, d)
    t_obj, n_obj = _cast(o, d, factors[:, 4], r)
    hit_obj = t_obj < t_room
    light = _LIGHT / _LIGHT.norm()
    # room: normals point into the room; shadow rays from the hit point towards the light
    p = o + t_room[..., None] * d
    n_room = torch.tensor([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])[surface]
    ts, _ = _cast(p + 1e-3 * n_room, light.expand_as(p), factors[:, 4], r)
    shadow = ts < _INF
    lambert_room = (n_room * light).sum(-1).clamp(min=0) * (~shadow)
    wall_dim = torch.where(surface == 2, 0.8, 1.0)
    shade_room = (_AMBIENT + (1 - _AMBIENT) * lambert_room) * wall_dim
    shade_obj = _AMBIENT + (1 - _AMBIENT) * (n_obj * light).sum(-1).clamp(min=0)
    hues = torch.tensor(VALUES[0])
    floor, wall, obj = (hue_rgb(hues[factors[:, k]])[:, None] for k in range(3))
    room_rgb = torch.where((surface == 0)[..., None], floor, wall) * shade_room[..., None]
    rgb = torch.where(hit_obj[..., None], obj * shade_obj[..., None], room_rgb)
    return rgb.reshape(n, size, size, 3).permute(0, 3, 1, 2)


def render(
    factors: torch.Tensor, size: int = 64, *, supersample: int = 2, chunk: int = 256
) -> torch.Tensor:
    """Images (N, 3, size, size) in [-1, 1] of level tuples ``factors`` (N, 6).

    Each image depends only on its factors. ``supersample`` renders at that many times
    the size and averages (1 = no anti-aliasing); ``chunk`` images are cast at a time.
    """
    check_shape("factors", factors, ("N", 6))
    check_levels(factors)
    if size < 4 or supersample < 1:
        raise ValueError(f"size must be >= 4 and supersample >= 1, got {size}, {supersample}")
    out = []
    for i in range(0, factors.shape[0], chunk):
        img = _render_chunk(factors[i : i + chunk].long(), size * supersample)
        if supersample > 1:
            img = torch.nn.functional.avg_pool2d(img, supersample)
        out.append(img * 2 - 1)
    if not out:
        return torch.zeros(0, 3, size, size)
    return torch.cat(out).clamp(-1, 1)
