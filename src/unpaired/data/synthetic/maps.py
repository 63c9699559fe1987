"""Procedural city tiles seen from above: an aerial **photo** and its **map**, pixel-aligned.

The embedded default and development set for unpaired image translation, the stand-in
for the Google Maps aerial photo <-> map data (and the GTA V frame <-> segmentation data)
of the self-defense paper (thesis talk, "Improving Semantic Consistency with Translation
Honesty", Tables 2-3), which cannot be obtained here. Every tile exists in both renderings
so that translations can be scored against the truth; training sets are **unpaired**
(:func:`maps_splits` draws the photos and the maps from disjoint tiles).

Each tile is a square of 64-96 m of a city, seen straight down, its street grid rotated
by a random angle (axis-aligned in 45% of the tiles). The layout follows the street-grid
idea of :mod:`unpaired.data.synthetic.scenes`: streets of irregular spacing (40-75 m),
minor (half width 3.2-4.8 m) or major (6.5-9.5 m), sidewalks, and blocks that hold
buildings on a grid of lots (or one large building), a park, a parking lot or a plaza;
a quarter of the tiles have a river (with a grassy bank; major roads cross it on bridges)
or a coast.

* The **map** uses the fixed palette :data:`PALETTE` (Google-Maps-like colours), one class
  per pixel (:data:`CLASSES`): land (sidewalks, yards, plazas, parking lots), road, major
  road, building footprint, park, water. Every map pixel is exactly one palette row.
* The **photo** shows what a camera would see: asphalt with lane markings (dashed centre
  lines, double yellow lines and lane dividers on major roads, edge lines, zebra
  crossings), wear (darker wheel paths, patches) and kerbs; paved sidewalks; roofs of
  ten colours, flat (with parapets) or pitched (gable, hip) and shaded by the sun, and
  the shadows of buildings, trees and cars (ray-marched on the height field, sun
  elevation 55-75 degrees); grass, bare yards, trees with lit crowns; water; cars parked
  along the kerbs, driving on major roads and filling parking lots; a per-tile colour
  grade, a slight blur and sensor noise.

Photo -> map is lossy but learnable (cars, markings, shadows, trees and roof colours
are dropped; every class is visible in the photo, up to tree crowns over the ground).
Map -> photo is one-to-many: roof colours and shapes, cars, trees, textures and the
sun direction are not in the map. A cycle-consistent translator can therefore only
reconstruct the photo from the map by hiding those details in it (the "cheating" the
self-defense paper measures with RH and SN, :mod:`unpaired.metrics.honesty`).

* Tiles are identified by an integer **id** (:func:`render_ids`); a tile depends only on
  its id, not on the batch it is rendered in. The geometry is resolution independent: a
  tile rendered at 128 px is the same place as at 64 px (the labels agree up to pixel
  boundaries; textures are drawn per pixel).
* :func:`tile_ids` gives disjoint id ranges: the test and validation tiles are the same
  for every seed; the training photos and maps come from two disjoint ranges per seed.
* Everything is vectorised torch (hash-based per-tile randomness, a cached bank of 1/f
  noise textures); ``benchmarks/maps.py`` measures tiles per second.

Units: images in [-1, 1] (``(N, 3, H, W)`` float32), labels ``(N, H, W)`` int64 in
``[0, len(CLASSES))``. Sizes: any multiple of 4 from 16 px up (64 and 128 are the
intended ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch

from unpaired._checks import check_shape

# ------------------------------------------------------------------------ classes

CLASSES: tuple[str, ...] = ("land", "road", "major_road", "building", "park", "water")
LAND, ROAD, MAJOR_ROAD, BUILDING, PARK, WATER = range(6)
PALETTE_RGB: tuple[tuple[int, int, int], ...] = (
    (242, 239, 233),  # land: Google Maps' background
    (255, 255, 255),  # road
    (252, 214, 134),  # major road
    (217, 208, 201),  # building
    (200, 230, 170),  # park
    (170, 211, 223),  # water
)
#: The map palette (K, 3) in image units [-1, 1] (``PALETTE_RGB / 127.5 - 1``); row k is
#: the colour of class ``CLASSES[k]``. Pass it to :func:`unpaired.metrics.honesty.quantize_to_palette`.
PALETTE = torch.tensor(PALETTE_RGB, dtype=torch.float32) / 127.5 - 1.0

SPLITS = ("test", "val", "train_photos", "train_maps")
_NAMESPACE = {"test": 0, "val": 1, "train_photos": 2, "train_maps": 3}
_RANDOM_NAMESPACE = 7  # ids drawn by render_tiles(n, generator=...)
_MAX_SEED = 2**16
_MAX_TILES = 2**24

# ------------------------------------------------------------------------ layout constants

_K = 8  # streets per axis around each tile (enough to cover the padded tile, see _R)
_GAP = (40.0, 75.0)  # distance between neighbouring parallel streets (m)
_R = 92.0  # the street grid covers |u|, |v| <= _R (padded tile's half diagonal)
_EXTENT = (64.0, 96.0)  # tile side in metres
_MAJOR_P = 0.22
_HALF_MINOR = (3.2, 4.8)
_HALF_MAJOR = (6.5, 9.5)
_LOTS = 4  # at most 4 x 4 lots per block
_CELL = 7.0  # tree cells (m); a crown stays inside its cell
_NCELL = 2 * math.ceil(_R / _CELL)
_CAR_SLOT = 6.2  # street-parking slot length (m)
_SUN_ELEVATION = (math.radians(55.0), math.radians(75.0))
_MAX_HEIGHT = 16.0  # flat roofs 3.5-16 m, pitched up to 10 + 4.7 m, trees up to 12 m
_SHADOW_MAX = _MAX_HEIGHT / math.tan(_SUN_ELEVATION[0])  # longest shadow (m)
_PITCH = math.radians(30.0)

# block kinds
_BUILDINGS, _PARK_BLOCK, _PARKING, _PLAZA = range(4)
# ground surfaces of the photo
(_S_ROAD, _S_SIDEWALK, _S_YARD, _S_PARK, _S_PARKING, _S_PLAZA, _S_WATER, _S_BANK, _S_ROOF) = range(
    9
)

_ROOF_PITCHED = (  # linear RGB in [0, 1]
    (0.62, 0.30, 0.22),  # terracotta
    (0.45, 0.22, 0.18),  # red-brown tiles
    (0.38, 0.40, 0.43),  # slate
    (0.42, 0.33, 0.25),  # brown shingles
    (0.36, 0.52, 0.45),  # green copper
    (0.33, 0.42, 0.55),  # blue metal
)
_ROOF_FLAT = (
    (0.72, 0.72, 0.70),  # concrete
    (0.88, 0.88, 0.86),  # white membrane
    (0.20, 0.20, 0.21),  # tar
    (0.66, 0.60, 0.50),  # gravel
    (0.38, 0.40, 0.43),  # slate
)
_CAR_COLOURS = (
    (0.90, 0.90, 0.90),
    (0.08, 0.08, 0.09),
    (0.65, 0.66, 0.68),
    (0.40, 0.41, 0.43),
    (0.62, 0.08, 0.07),
    (0.12, 0.20, 0.50),
    (0.12, 0.28, 0.16),
    (0.70, 0.62, 0.45),
    (0.88, 0.70, 0.10),
)


# ------------------------------------------------------------------------ public API


@dataclass(frozen=True)
class Tiles:
    """Pixel-aligned renderings of N tiles.

    ``photo`` (N, 3, H, W) and ``map`` (N, 3, H, W) float32 in [-1, 1]; every pixel of
    ``map`` is a row of :data:`PALETTE`, namely ``PALETTE[labels]``; ``labels`` (N, H, W)
    int64 class indices into :data:`CLASSES`; ``ids`` (N,) int64 tile ids
    (:func:`render_ids` renders them again).
    """

    photo: torch.Tensor
    map: torch.Tensor
    labels: torch.Tensor
    ids: torch.Tensor

    def __len__(self) -> int:
        return self.ids.shape[0]

    def __getitem__(self, index: int | slice | torch.Tensor) -> Tiles:
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Tiles(self.photo[index], self.map[index], self.labels[index], self.ids[index])


@dataclass(frozen=True)
class MapSplits:
    """Training, validation and test data of the maps task (:func:`maps_splits`).

    ``photos`` (N, 3, H, W) and ``maps`` (N, 3, H, W) are the **unpaired** training sets
    (domain A and domain B), rendered from the disjoint tiles ``photo_ids`` and
    ``map_ids``: no training photo has its map among ``maps``. Unpaired methods use only
    these two tensors. ``val`` and ``test`` are paired :class:`Tiles` for model selection
    and for the final scores. A supervised baseline (pix2pix) may render the pairs of the
    training photos with ``render_ids(photo_ids, size=...)``.
    """

    photos: torch.Tensor
    maps: torch.Tensor
    photo_ids: torch.Tensor
    map_ids: torch.Tensor
    val: Tiles
    test: Tiles


def labels_to_map(labels: torch.Tensor) -> torch.Tensor:
    """Map rendering (N, 3, H, W) in [-1, 1] of class labels (N, H, W): ``PALETTE[labels]``."""
    check_shape("labels", labels, ("N", "H", "W"))
    if labels.dtype != torch.long:
        raise ValueError(f"labels must be int64 class indices, got {labels.dtype}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(
            f"labels must lie in [0, {len(CLASSES)}), got [{labels.min()}, {labels.max()}]"
        )
    return PALETTE.to(labels.device)[labels].permute(0, 3, 1, 2).contiguous()


def tile_ids(
    split: Literal["test", "val", "train_photos", "train_maps"], n: int, *, seed: int = 0
) -> torch.Tensor:
    """Ids (n,) int64 of the first ``n`` tiles of ``split``.

    The four splits occupy disjoint id ranges. ``test`` and ``val`` ignore ``seed`` (the
    held-out tiles are the same for every training seed); ``train_photos`` and
    ``train_maps`` depend on it, so a new seed gives new training tiles. The first ``k``
    ids of a split do not depend on ``n``.
    """
    if split not in _NAMESPACE:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not 0 <= n <= _MAX_TILES:
        raise ValueError(f"n must be in [0, {_MAX_TILES}], got {n}")
    if not 0 <= seed < _MAX_SEED:
        raise ValueError(f"seed must be in [0, {_MAX_SEED}), got {seed}")
    base = _NAMESPACE[split] << 56
    if split.startswith("train"):
        base |= seed << 24
    return base + torch.arange(n, dtype=torch.long)


def render_ids(ids: torch.Tensor, *, size: int = 64, chunk: int | None = None) -> Tiles:
    """Render the tiles ``ids`` (N,) int64 at ``size`` x ``size`` pixels.

    Tile ``ids[i]`` depends only on that id (and the resolution), so any subset renders
    the same tiles. ``chunk`` tiles are rendered at a time (default: about 0.3 M padded
    pixels per chunk), which bounds the memory use, not the result.
    """
    check_shape("ids", ids, ("N",))
    if ids.dtype != torch.long:
        raise ValueError(f"ids must be int64, got {ids.dtype}")
    if ids.numel() and ids.min() < 0:
        raise ValueError("ids must be non-negative")
    _check_size(size)
    if chunk is None:
        chunk = max(1, 300_000 // (size + _pad(size)) ** 2)
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    ids = ids.cpu()
    photos, labels = [], []
    for start in range(0, ids.shape[0], chunk):
        p, lab = _render(ids[start : start + chunk], size)
        photos.append(p)
        labels.append(lab)
    if not photos:
        empty = torch.zeros(0, 3, size, size)
        return Tiles(empty, empty.clone(), torch.zeros(0, size, size, dtype=torch.long), ids)
    lab = torch.cat(labels)
    return Tiles(torch.cat(photos), labels_to_map(lab), lab, ids.clone())


def render_tiles(n: int, *, size: int = 64, generator: torch.Generator | None = None) -> Tiles:
    """Render ``n`` random tiles at ``size`` x ``size``; the ids are drawn from ``generator``.

    The same generator state gives the same tiles. For training/validation/test data with
    disjoint tiles use :func:`maps_splits` (or :func:`tile_ids` + :func:`render_ids`).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    _check_size(size)
    raw = torch.randint(0, 2**56, (n,), generator=generator, dtype=torch.long)
    return render_ids(raw | (_RANDOM_NAMESPACE << 56), size=size)


def maps_splits(
    n_train: int,
    *,
    n_val: int = 256,
    n_test: int = 256,
    size: int = 64,
    seed: int = 0,
) -> MapSplits:
    """Unpaired training sets, a paired validation set and held-out paired test tiles.

    ``n_train`` photos (domain A) and ``n_train`` maps (domain B) from two disjoint ranges
    of training tiles (``seed`` picks them); ``n_val`` validation and ``n_test`` test
    tiles, the same for every seed. All four id ranges are disjoint (:func:`tile_ids`).
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    photo_ids = tile_ids("train_photos", n_train, seed=seed)
    map_ids = tile_ids("train_maps", n_train, seed=seed)
    photos = render_ids(photo_ids, size=size).photo
    maps = render_ids(map_ids, size=size).map
    return MapSplits(
        photos=photos,
        maps=maps,
        photo_ids=photo_ids,
        map_ids=map_ids,
        val=render_ids(tile_ids("val", n_val), size=size),
        test=render_ids(tile_ids("test", n_test), size=size),
    )


# ------------------------------------------------------------------------ randomness

_M32 = 0xFFFFFFFF


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (xorshift-multiply; both multipliers < 2^31, so the int64
    products never overflow). ``x`` int64 in [0, 2^32)."""
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _M32
    x = x ^ (x >> 15)
    x = (x * 0x5BD1E995) & _M32
    return x ^ (x >> 16)


def _tile_keys(ids: torch.Tensor) -> torch.Tensor:
    return _mix(_mix(ids & _M32) ^ ((ids >> 32) & _M32))


class _Draw:
    """Per-tile uniform numbers: call ``u(k)`` for (N, k) values in [0, 1). Each call
    uses a new stream, so a tile's numbers depend only on its key and the call order."""

    def __init__(self, keys: torch.Tensor) -> None:
        self.keys = keys[:, None]
        self.stream = 0

    def hashes(self, k: int) -> torch.Tensor:
        """(N, k) int64 32-bit hashes (four uniform bytes each, see ``_byte``)."""
        self.stream += 1
        salt = _mix((torch.arange(k, dtype=torch.long) + (self.stream << 20)) & _M32)
        return _mix(self.keys ^ salt[None])

    def u(self, k: int) -> torch.Tensor:
        return (self.hashes(k) >> 8).float() / 2**24

    def range(self, lo: float, hi: float, k: int = 1) -> torch.Tensor:
        return lo + (hi - lo) * self.u(k)


def _cell_hash(keys: torch.Tensor, a: torch.Tensor, b: torch.Tensor, salt: int) -> torch.Tensor:
    """Hash (N, M) of integer cell coordinates ``a``, ``b`` (|a|, |b| < 2^15) per tile."""
    code = ((a + 2**15) & 0xFFFF) | (((b + 2**15) & 0xFFFF) << 16)
    return _mix(keys ^ _mix(code ^ salt))


def _byte(h: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th byte of a hash as a uniform number in (0, 1)."""
    return (((h >> (8 * k)) & 255).float() + 0.5) / 256


@lru_cache(maxsize=4)
def _bank(side: int) -> torch.Tensor:
    """Six tileable noise fields (6, side, side), zero mean, unit std, spectra 1/f^beta with
    beta 0 (white), 0.6, 1.3, 2.2, 1.8, 1.0; fixed (the same on every machine)."""
    gen = torch.Generator().manual_seed(20190611)
    f = torch.fft.fftfreq(side)
    r = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    r[0, 0] = 1.0
    fields = []
    for beta in (0.0, 0.6, 1.3, 2.2, 1.8, 1.0):
        spec = torch.fft.fft2(torch.randn(side, side, generator=gen)) / r**beta
        spec[0, 0] = 0.0
        n = torch.fft.ifft2(spec).real
        fields.append((n - n.mean()) / n.std())
    return torch.stack(fields).float()


# ------------------------------------------------------------------------ helpers


def _check_size(size: int) -> None:
    if not isinstance(size, int) or size < 16 or size % 4:
        raise ValueError(f"size must be a multiple of 4 and >= 16, got {size!r}")


def _pad(size: int) -> int:
    """Padding (pixels) on the sun side, so shadows of objects outside the tile fall in."""
    return math.ceil(_SHADOW_MAX / (_EXTENT[0] / size))


def _box(d: torch.Tensor, half: torch.Tensor | float, px: torch.Tensor) -> torch.Tensor:
    """Coverage in [0, 1] of a pixel of side ``px`` at offset ``d`` by the band |d| < half
    (exact 1D box filter): the anti-aliased line."""
    hi = (
        (d + px / 2).clamp(max=half) if isinstance(half, float) else torch.minimum(half, d + px / 2)
    )
    lo = (
        (d - px / 2).clamp(min=-half)
        if isinstance(half, float)
        else torch.maximum(-half, d - px / 2)
    )
    return ((hi - lo) / px).clamp(0, 1)


def _take(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[n, index[n, m]]``: table (N, T), index (N, M)."""
    return table.gather(1, index)


def _rgb(colours: tuple[tuple[float, float, float], ...]) -> torch.Tensor:
    return torch.tensor(colours, dtype=torch.float32)


# ------------------------------------------------------------------------ scene parameters


@dataclass
class _Scene:
    """Per-tile parameters of N tiles (every tensor has N rows)."""

    keys: torch.Tensor  # (N, 1) hash keys
    extent: torch.Tensor  # (N, 1) tile side (m)
    px: torch.Tensor  # (N, 1) pixel side (m)
    cos_t: torch.Tensor  # (N, 1) grid rotation
    sin_t: torch.Tensor
    walk: torch.Tensor  # (N, 1) sidewalk width (m)
    sun_x: torch.Tensor  # (N, 1) horizontal direction towards the sun, tile frame (x, y >= 0)
    sun_y: torch.Tensor
    sun_u: torch.Tensor  # (N, 1) the same in the grid frame (u, v)
    sun_v: torch.Tensor
    elev: torch.Tensor  # (N, 1) sun elevation (rad)
    flip_x: torch.Tensor  # (N, 1) bool: mirror the rendered tile
    flip_y: torch.Tensor
    pos_u: torch.Tensor  # (N, K) centre lines of the streets of constant u
    half_u: torch.Tensor  # (N, K) their half widths (m)
    major_u: torch.Tensor  # (N, K) bool
    pos_v: torch.Tensor
    half_v: torch.Tensor
    major_v: torch.Tensor
    kind: torch.Tensor  # (N, B) block kind, B = (K - 1)^2 blocks (between streets 0 .. K-1)
    lot_a: torch.Tensor  # (N, B) target lot sizes (m) along u and v
    lot_b: torch.Tensor
    merged: torch.Tensor  # (N, B) bool: one large building
    path: torch.Tensor  # (N, B) park footpath layout in [0, 1)
    occupancy: torch.Tensor  # (N, B) share of occupied parking stalls
    lots: torch.Tensor  # (N, 3, B * L * L) per-lot hashes: 12 bytes of building parameters
    crossing: torch.Tensor  # (N, K * K) bool: zebra crossings at intersection (ku, kv)
    parking: torch.Tensor  # (N, 2K) street parking density per street (u streets, v streets)
    traffic: torch.Tensor  # (N, 2K) moving cars on major roads
    water: torch.Tensor  # (N, 1) 0 none, 1 river, 2 coast
    water_p: torch.Tensor  # (N, 6) water shape parameters in [0, 1)

    def to_grid(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos_t * x + self.sin_t * y, -self.sin_t * x + self.cos_t * y

    def to_tile(self, u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cos_t * u - self.sin_t * v, self.sin_t * u + self.cos_t * v


def _streets(d: _Draw) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centre lines (N, K) sorted, half widths (N, K) and major flags (N, K) of one family
    of parallel streets."""
    gaps = d.range(*_GAP, _K - 1)
    start = -_R - _GAP[1] * d.u(1)
    pos = torch.cat([start, start + gaps.cumsum(1)], 1)
    major = d.u(_K) < _MAJOR_P
    w = d.u(_K)
    half = torch.where(
        major,
        _HALF_MAJOR[0] + (_HALF_MAJOR[1] - _HALF_MAJOR[0]) * w,
        _HALF_MINOR[0] + (_HALF_MINOR[1] - _HALF_MINOR[0]) * w,
    )
    return pos.contiguous(), half, major


def _scene(d: _Draw, size: int) -> _Scene:
    n = d.keys.shape[0]
    extent = d.range(*_EXTENT)
    theta = torch.where(d.u(1) < 0.45, 0.0, d.range(0.0, math.pi / 2))
    walk = d.range(1.8, 3.0)
    # The tile is rendered with the sun towards +x, +y (right, down), so that the
    # padding for outside shadows sits on the right and bottom; mirroring the result
    # (flip_x, flip_y) puts the sun in any quadrant.
    azim = d.range(0.0, math.pi / 2)
    elev = d.range(*_SUN_ELEVATION)
    flip_x, flip_y = d.u(1) < 0.5, d.u(1) < 0.5
    sun_x, sun_y = torch.cos(azim), torch.sin(azim)
    cos_t, sin_t = torch.cos(theta), torch.sin(theta)
    pos_u, half_u, major_u = _streets(d)
    pos_v, half_v, major_v = _streets(d)
    nb = (_K - 1) ** 2
    block = d.u(nb * 6).view(n, nb, 6)
    k = block[..., 0]
    kind = torch.where(
        k < 0.64,
        _BUILDINGS,
        torch.where(k < 0.81, _PARK_BLOCK, torch.where(k < 0.92, _PARKING, _PLAZA)),
    )
    water_u = d.u(1)
    return _Scene(
        keys=d.keys,
        extent=extent,
        px=extent / size,
        cos_t=cos_t,
        sin_t=sin_t,
        walk=walk,
        sun_x=sun_x,
        sun_y=sun_y,
        sun_u=cos_t * sun_x + sin_t * sun_y,
        sun_v=-sin_t * sun_x + cos_t * sun_y,
        elev=elev,
        flip_x=flip_x,
        flip_y=flip_y,
        pos_u=pos_u,
        half_u=half_u,
        major_u=major_u,
        pos_v=pos_v,
        half_v=half_v,
        major_v=major_v,
        kind=kind,
        lot_a=12.0 + 14.0 * block[..., 1],
        lot_b=12.0 + 14.0 * block[..., 2],
        merged=block[..., 3] < 0.15,
        path=block[..., 4],
        occupancy=0.2 + 0.7 * block[..., 5],
        lots=d.hashes(3 * nb * _LOTS * _LOTS).view(n, 3, nb * _LOTS * _LOTS),
        crossing=d.u(_K * _K) < 0.45,
        parking=d.range(0.0, 0.75, 2 * _K),
        traffic=d.range(0.0, 0.25, 2 * _K),
        water=torch.where(water_u < 0.17, 1, torch.where(water_u < 0.25, 2, 0)),
        water_p=d.u(6),
    )


# ------------------------------------------------------------------------ layout


def _axis(pos: torch.Tensor, half: torch.Tensor, walk: torch.Tensor, c: torch.Tensor):
    """Where points ``c`` (N, M) lie across one street family: block index i (street
    i-1 on one side, i on the other), nearest street k, the signed offset from street k's
    centre line, the position in the block interior and the interior's length.

    Streets are at least 40 m apart and reach at most 12.5 m (road + sidewalk), so only
    the nearest street can cover a point."""
    i = torch.searchsorted(pos, c.contiguous()).clamp(1, _K - 1)
    left, right = _take(pos, i - 1), _take(pos, i)
    k = torch.where(right - c < c - left, i, i - 1)
    off = c - _take(pos, k)
    a0 = left + _take(half, i - 1) + walk
    length = right - _take(half, i) - walk - a0
    return i, k, off, c - a0, length


def _shore(sc: _Scene, x: torch.Tensor, y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Signed distance (m) outside the water at tile-frame points (x, y) (N, M): a
    meandering river or a coast; +inf on tiles without water (computed only for those
    that have it)."""
    shore = torch.full_like(u, torch.inf)
    wet_tiles = (sc.water[:, 0] > 0).nonzero()[:, 0]
    if wet_tiles.numel():
        xw, yw, w = x[wet_tiles], y[wet_tiles], sc.water_p[wet_tiles]
        psi = math.pi * w[:, 0:1]
        s = (
            xw * torch.cos(psi)
            + yw * torch.sin(psi)
            - 0.3 * sc.extent[wet_tiles] * (w[:, 1:2] - 0.5)
        )
        along = -xw * torch.sin(psi) + yw * torch.cos(psi)
        s = s + (2.0 + 8.0 * w[:, 3:4]) * torch.sin(
            2 * math.pi * along / (60.0 + 80.0 * w[:, 4:5]) + 2 * math.pi * w[:, 5:6]
        )
        river = s.abs() - (6.0 + 9.0 * w[:, 2:3])  # signed distance outside the water (m)
        shore[wet_tiles] = torch.where(sc.water[wet_tiles] == 1, river, -s)
    return shore


def _layout(sc: _Scene, u: torch.Tensor, v: torch.Tensor) -> dict[str, torch.Tensor]:
    """Ground layout at points (u, v) (N, M) of the grid frame: label, surface, buildings
    (with their roofs), and the coordinates the markings and cars need. No trees, cars."""
    x, y = sc.to_tile(u, v)
    iu, ku, ou, a, la_ = _axis(sc.pos_u, sc.half_u, sc.walk, u)
    iv, kv, ov, b, lb_ = _axis(sc.pos_v, sc.half_v, sc.walk, v)
    hu, hv = _take(sc.half_u, ku), _take(sc.half_v, kv)
    on_u, on_v = ou.abs() < hu, ov.abs() < hv  # on a street of constant u / of constant v
    road = on_u | on_v
    major = (on_u & _take(sc.major_u, ku)) | (on_v & _take(sc.major_v, kv))
    inside = (ou.abs() >= hu + sc.walk) & (ov.abs() >= hv + sc.walk)

    blk = (iu - 1) * (_K - 1) + (iv - 1)
    kind = _take(sc.kind, blk)
    merged = _take(sc.merged, blk)
    na = torch.where(merged, 1.0, (la_ / _take(sc.lot_a, blk)).floor().clamp(1, _LOTS))
    nbl = torch.where(merged, 1.0, (lb_ / _take(sc.lot_b, blk)).floor().clamp(1, _LOTS))
    sa, sb = la_ / na, lb_ / nbl
    ia = torch.minimum((a / sa).floor().clamp(min=0), na - 1)
    ib = torch.minimum((b / sb).floor().clamp(min=0), nbl - 1)
    al, bl = a - ia * sa, b - ib * sb  # position inside the lot
    lot = (blk * _LOTS + ia.long()) * _LOTS + ib.long()
    hashes = sc.lots.gather(2, lot[:, None].expand(-1, 3, -1)).unbind(1)
    lp = [_byte(hashes[k // 4], k % 4) for k in range(9)]
    spread = torch.where(merged, 0.07, 0.22)
    x0, x1 = (0.03 + spread * lp[1]) * sa, sa * (0.97 - spread * lp[2])
    y0, y1 = (0.03 + spread * lp[3]) * sb, sb * (0.97 - spread * lp[4])
    present = (lp[0] < 0.88) | merged
    building = (
        inside & (kind == _BUILDINGS) & present & (al > x0) & (al < x1) & (bl > y0) & (bl < y1)
    )
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    bx, by = al - (x0 + x1) / 2, bl - (y0 + y1) / 2
    dx, dy = hx - bx.abs(), hy - by.abs()
    wall = 3.5 + 12.5 * lp[5] ** 2
    can_pitch = (torch.minimum(hx, hy) <= 8.0) & (wall < 10.0)
    t = lp[6]
    gable = can_pitch & (t < 0.35)
    hip = can_pitch & (t >= 0.35) & (t < 0.6)
    # Facets: a hip roof rises at the same pitch from every edge (height ~ distance to the
    # nearest edge), a gable roof from the two long edges only.
    toward_y = torch.where(hip, dy < dx, hx >= hy)
    dist = torch.where(hip, torch.minimum(dx, dy), torch.where(hx >= hy, dy, dx))
    pitched = gable | hip
    face_u = torch.where(toward_y, 0.0, torch.sign(bx))
    face_v = torch.where(toward_y, torch.sign(by), 0.0)
    roof_h = torch.where(pitched, math.tan(_PITCH) * dist, 0.0)
    cos_e, sin_e = torch.cos(sc.elev), torch.sin(sc.elev)
    dot = torch.where(
        pitched,
        math.sin(_PITCH) * cos_e * (face_u * sc.sun_u + face_v * sc.sun_v)
        + math.cos(_PITCH) * sin_e,
        sin_e,
    )
    n_pitched, n_flat = len(_ROOF_PITCHED), len(_ROOF_PITCHED) + len(_ROOF_FLAT)
    colour = torch.where(
        pitched,
        (lp[7] * n_pitched).long(),
        n_pitched + (lp[7] * (n_flat - n_pitched)).long(),
    )

    surface = torch.full_like(iu, _S_YARD)
    surface = torch.where(kind == _PARK_BLOCK, _S_PARK, surface)
    surface = torch.where(kind == _PARKING, _S_PARKING, surface)
    surface = torch.where(kind == _PLAZA, _S_PLAZA, surface)
    surface = torch.where(building, _S_ROOF, surface)
    surface = torch.where(inside, surface, torch.where(road, _S_ROAD, _S_SIDEWALK))
    label = torch.full_like(iu, LAND)
    label = torch.where(inside & (kind == _PARK_BLOCK), PARK, label)
    label = torch.where(building, BUILDING, label)
    label = torch.where(road, torch.where(major, MAJOR_ROAD, ROAD), label)

    shore = _shore(sc, x, y, u)
    wet = shore < 0
    bank = (shore >= 0) & (shore < 3.5) & ~road
    bridge = wet & major
    water = wet & ~major
    label = torch.where(water, WATER, torch.where(bank, PARK, label))
    surface = torch.where(water, _S_WATER, torch.where(bank, _S_BANK, surface))
    building = building & ~water & ~bank
    height = torch.where(building, wall + roof_h, 0.0)
    height = torch.where(bridge, 1.2, height)
    return {
        "label": label,
        "surface": surface,
        "height": height,
        "building": building,
        "roof_dot": dot / sin_e,  # facet brightness relative to flat ground
        "roof_colour": colour,
        "roof_tone": lp[8],
        "parapet": ~pitched & (torch.minimum(dx, dy) < 0.6),
        "ridge": pitched & (torch.where(hip, (dx - dy).abs(), torch.minimum(hx, hy) - dist) < 0.25),
        "shore": shore,
        "water": water,
        "road": road,
        "on_u": on_u,
        "on_v": on_v,
        "major_u": _take(sc.major_u, ku),
        "major_v": _take(sc.major_v, kv),
        "ku": ku,
        "kv": kv,
        "ou": ou,
        "ov": ov,
        "hu": hu,
        "hv": hv,
        "a": a,
        "b": b,
        "la": la_,
        "lb": lb_,
        "blk": blk,
        "kind": kind,
        "inside": inside,
    }


# ------------------------------------------------------------------------ details


def _markings(sc: _Scene, g: dict[str, torch.Tensor], u: torch.Tensor, v: torch.Tensor):
    """White and yellow paint coverage, wheel-path wear and dark joints (N, M) each."""
    px = sc.px
    white = torch.zeros_like(u)
    yellow = torch.zeros_like(u)
    wear = torch.zeros_like(u)
    joint = torch.zeros_like(u)
    crossing = _take(sc.crossing, g["ku"] * _K + g["kv"])
    families = (
        (g["on_u"], g["ou"], v, g["hu"], g["major_u"], g["on_v"], g["ov"], g["hv"]),
        (g["on_v"], g["ov"], u, g["hv"], g["major_v"], g["on_u"], g["ou"], g["hu"]),
    )
    for on, off, along, half, major, on_x, off_x, half_x in families:
        segment = on & ~on_x  # outside the intersections
        ao = off.abs()
        dash = ((along % 9.0) < 3.5).float()
        travel = half - 2.5  # major roads: travel lanes up to here, then a parking lane
        lane = 0.3 + 0.5 * (travel - 0.3)
        minor_paint = _box(off, 0.09, px) * dash
        major_paint = torch.maximum(_box(ao - lane, 0.08, px) * dash, _box(ao - travel, 0.08, px))
        gap = off_x.abs() - half_x  # distance to the crossing road's edge
        zebra = crossing & (gap > 1.0) & (gap < 4.0) & (((off + 64.0) % 1.2) < 0.6)
        zebra = zebra & (ao < half - 0.3)
        paint = torch.where(major, major_paint, minor_paint)
        paint = torch.where(zebra, 0.9, paint)
        white = torch.where(segment, torch.maximum(white, paint), white)
        yellow = torch.where(segment & major & ~zebra, _box(ao - 0.22, 0.08, px), yellow)
        wheel = torch.where(
            major,
            torch.exp(-((ao - 0.3 - 0.25 * (travel - 0.3)) ** 2) / 0.8)
            + torch.exp(-((ao - 0.3 - 0.75 * (travel - 0.3)) ** 2) / 0.8),
            torch.exp(-((ao - 0.5 * half) ** 2) / 1.0),
        )
        wear = torch.where(on, torch.maximum(wear, wheel), wear)
        pave = ~on & (ao < half + sc.walk)  # this street's sidewalk
        slab = ((along + 0.8) % 1.6) - 0.8
        kerb = _box(ao - half - 0.15, 0.12, px)
        joint = torch.where(pave, torch.maximum(joint, _box(slab, 0.04, px)), joint)
        white = torch.where(pave, torch.maximum(white, 0.35 * kerb), white)
    a, b = g["a"], g["b"]
    plaza = g["inside"] & (g["kind"] == _PLAZA)
    tile_a, tile_b = ((a + 1.0) % 2.0) - 1.0, ((b + 1.0) % 2.0) - 1.0
    joint = torch.where(plaza, torch.maximum(_box(tile_a, 0.05, px), _box(tile_b, 0.05, px)), joint)
    return white, yellow, wear, joint


def _parking(sc: _Scene, g: dict[str, torch.Tensor]):
    """Parking lots: stall lines (white coverage) and parked cars (mask, along, across,
    length, facing, hash) (N, M)."""
    a, b, la, lb = g["a"], g["b"], g["la"], g["lb"]
    lot = g["inside"] & (g["kind"] == _PARKING)
    rb = b - 0.5
    row = torch.floor(rb / 17.0)
    r = rb - 17.0 * row
    sub = (r >= 5.2).long()
    in_rows = lot & (r < 10.4) & (row * 17.0 + 0.5 + 10.4 <= lb)
    sa = torch.floor((a - 1.0) / 2.7)
    in_rows = in_rows & (a >= 1.0) & (1.0 + (sa + 1) * 2.7 <= la)
    da = (a - 1.0) - sa * 2.7
    lines = torch.maximum(
        _box(torch.minimum(da, 2.7 - da), 0.06, sc.px), _box(r - 5.2, 0.06, sc.px)
    )
    white = torch.where(in_rows, lines, 0.0)
    h = _cell_hash(sc.keys, g["blk"] * 64 + row.long() * 2 + sub, sa.long(), 0x1B873593)
    present = in_rows & (_byte(h, 0) < _take(sc.occupancy, g["blk"]))
    length = 4.2 + 0.6 * _byte(h, 1)
    along = r - (sub.float() + 0.5) * 5.2
    across = da - 1.35
    facing = torch.where(sub == 0, 1.0, -1.0)
    return white, present, along, across, length, facing, h


def _street_cars(sc: _Scene, g: dict[str, torch.Tensor], u: torch.Tensor, v: torch.Tensor):
    """Cars parked along the kerbs and driving on major roads: (mask, along, across,
    length, facing, hash) (N, M), along/across in metres from the car's centre."""
    out = None
    families = (
        (0, g["on_u"], g["ou"], v, g["hu"], g["major_u"], g["ku"], g["on_v"], g["ov"], g["hv"]),
        (1, g["on_v"], g["ov"], u, g["hv"], g["major_v"], g["kv"], g["on_u"], g["ou"], g["hu"]),
    )
    for fam, on, off, along, half, major, k, on_x, off_x, half_x in families:
        ao = off.abs()
        travel = half - 2.5
        centres = torch.stack(
            [half - 1.2, 0.3 + 0.25 * (travel - 0.3), 0.3 + 0.75 * (travel - 0.3)], 0
        )
        # the nearest lane centre (minor roads: only the parking lanes)
        d0, d1, d2 = (ao - centres[0]).abs(), (ao - centres[1]).abs(), (ao - centres[2]).abs()
        lane = torch.where(major & (d1 < d0), 1, 0)
        lane = torch.where(major & (d2 < torch.minimum(d0, d1)), 2, lane)
        centre = torch.where(lane == 0, centres[0], torch.where(lane == 1, centres[1], centres[2]))
        slot_len = torch.where(lane == 0, _CAR_SLOT, 9.0)
        slot = torch.floor(along / slot_len)
        side = (off > 0).long()
        code = ((fam * _K + k) * 3 + lane) * 2 + side
        h = _cell_hash(sc.keys, code, slot.long(), 0x68E31DA4)
        density = torch.where(
            lane == 0, _take(sc.parking, fam * _K + k), _take(sc.traffic, fam * _K + k)
        )
        length = 3.9 + 1.0 * _byte(h, 1)
        shift = (slot_len - length - 0.6) / 2 * (2 * _byte(h, 2) - 1)
        c_along = (slot + 0.5) * slot_len + shift
        off_c = off_x + (c_along - along)  # the car centre's offset from the crossing street
        room = half_x + torch.where(lane == 0, sc.walk + 1.0, 1.5) + length / 2
        present = on & ~on_x & (_byte(h, 0) < density) & (off_c.abs() > room)
        # right-hand traffic: driving cars face along +along on one side, - on the other
        facing = torch.where(
            lane == 0, torch.where(_byte(h, 3) < 0.5, 1.0, -1.0), torch.where(side == 1, 1.0, -1.0)
        )
        rel_along, across = along - c_along, ao - centre
        fam_out = (present, rel_along, across, length, facing, h)
        if out is None:
            out = fam_out
        else:
            use = fam_out[0]
            out = tuple(torch.where(use, new, old) for new, old in zip(fam_out, out, strict=True))
    assert out is not None
    return out


def _car_shape(present, along, across, length, facing, h):
    """Car body and glass masks and colour index from car-frame coordinates (N, M)."""
    body = present & ((along / (length / 2)) ** 4 + (across / 0.9) ** 4 < 1.0)
    rel = along * facing / (length / 2)
    glass = (
        body
        & (across.abs() < 0.72)
        & (((rel > 0.18) & (rel < 0.5)) | ((rel > -0.78) & (rel < -0.56)))
    )
    colour = (_byte(_mix(h ^ 0x2545F491), 0) * len(_CAR_COLOURS)).long()
    return body, glass, colour


_TREE_P = {
    _S_PARK: 0.5,
    _S_YARD: 0.3,
    _S_SIDEWALK: 0.2,
    _S_PLAZA: 0.15,
    _S_PARKING: 0.04,
    _S_BANK: 0.35,
}


def _trees(sc: _Scene, u: torch.Tensor, v: torch.Tensor):
    """Tree crowns: (mask, height, brightness factor of the lit crown, tone) (N, M).

    Trees stand on a jittered grid of 7 m cells; a tree exists with a probability set by
    the surface at its centre (parks, yards, sidewalks, plazas, banks), and its crown
    (radius 1.8-3.4 m, lobed) stays inside its cell."""
    n = u.shape[0]
    half = _NCELL // 2
    idx = torch.arange(_NCELL) - half
    ci = idx[:, None].expand(_NCELL, _NCELL).reshape(1, -1).expand(n, -1)
    cj = idx[None, :].expand(_NCELL, _NCELL).reshape(1, -1).expand(n, -1)
    h = _cell_hash(sc.keys, ci, cj, 0x3C6EF372)
    r = 1.8 + 1.6 * _byte(h, 0)
    cu = (ci + 0.5) * _CELL + (_CELL / 2 - r) * (2 * _byte(h, 1) - 1)
    cv = (cj + 0.5) * _CELL + (_CELL / 2 - r) * (2 * _byte(h, 2) - 1)
    at = _layout(sc, cu, cv)
    prob = torch.zeros_like(r)
    for surface, p in _TREE_P.items():
        prob = torch.where(at["surface"] == surface, p, prob)
    r = torch.where(at["surface"] == _S_SIDEWALK, r.clamp(max=2.4), r)
    present = _byte(h, 3) < prob
    h2 = _mix(h ^ 0x27D4EB2F)
    tall = 5.0 + 7.0 * _byte(h2, 0)
    cell = ((torch.floor(u / _CELL).long() + half).clamp(0, _NCELL - 1) * _NCELL) + (
        torch.floor(v / _CELL).long() + half
    ).clamp(0, _NCELL - 1)
    du, dv = u - _take(cu, cell), v - _take(cv, cell)
    rad = _take(r, cell) * (
        1
        - 0.12
        * (0.5 + 0.5 * torch.sin(5 * torch.atan2(dv, du) + 6.283 * _take(_byte(h2, 2), cell)))
    )
    dist2 = (du**2 + dv**2) / rad**2
    crown = _take(present, cell) & (dist2 < 1.0)
    nz = torch.sqrt((1 - dist2).clamp(min=0))
    cos_e, sin_e = torch.cos(sc.elev), torch.sin(sc.elev)
    dot = cos_e * (du * sc.sun_u + dv * sc.sun_v) / rad + sin_e * nz
    height = _take(tall, cell) * (0.7 + 0.3 * nz)
    return crown, height, (dot / sin_e).clamp(min=0), _take(_byte(h2, 1), cell)


# ------------------------------------------------------------------------ rendering


def _render(ids: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Photo (N, 3, S, S) in [-1, 1] and labels (N, S, S) of the tiles ``ids``."""
    n, S, P = ids.shape[0], size, _pad(size)
    Sp = S + P
    d = _Draw(_tile_keys(ids))
    sc = _scene(d, S)

    # The layout and the trees are computed on the tile padded by P pixels on the right
    # and bottom (the sun side), whose objects may cast shadows into the tile; cars only
    # on the tile (their shadows are about a pixel long).
    c = torch.arange(Sp, dtype=torch.float32) + 0.5
    half = sc.extent[:, :, None] / 2
    x = (c[None, None, :] * sc.px[:, :, None] - half).expand(n, Sp, Sp).reshape(n, -1)
    y = (c[None, :, None] * sc.px[:, :, None] - half).expand(n, Sp, Sp).reshape(n, -1)
    u, v = sc.to_grid(x, y)
    g = _layout(sc, u, v)
    crown, tree_h, tree_lit, tree_tone = _trees(sc, u, v)
    crown = crown & ~g["building"]
    height = torch.where(crown, torch.maximum(g["height"], tree_h), g["height"])
    fields = dict(g, u=u, v=v, crown=crown, tree_lit=tree_lit, tree_tone=tree_tone)
    f = {k: t.view(n, Sp, Sp)[:, :S, :S].reshape(n, -1) for k, t in fields.items()}

    cars = _street_cars(sc, f, f["u"], f["v"])
    lot_white, *lot_cars = _parking(sc, f)
    cars = tuple(
        torch.where(lot_cars[0], new, old) for new, old in zip(lot_cars, cars, strict=True)
    )
    car, glass, car_colour = _car_shape(*cars)
    car = car & ~f["water"] & ~f["crown"]
    grid = height.view(n, Sp, Sp).clone()
    base = torch.where(car, f["height"].clamp(min=1.5), grid[:, :S, :S].reshape(n, -1))
    grid[:, :S, :S] = base.view(n, S, S)

    # Shadows: march from each tile pixel towards the sun over the height field; a pixel
    # is shadowed if the sun ray passes below any height on its way out.
    step = 1.0 / torch.maximum(sc.sun_x, sc.sun_y)  # ray length per pixel of the main axis
    rise = torch.tan(sc.elev) * sc.px * step
    pixel = (torch.arange(S)[:, None] * Sp + torch.arange(S)[None, :]).reshape(1, -1)
    flat = grid.view(n, -1)
    shadow = torch.zeros(n, S * S, dtype=torch.bool)
    for k in range(1, P + 1):
        dx = torch.round(k * sc.sun_x * step).long()
        dy = torch.round(k * sc.sun_y * step).long()
        shadow |= flat.gather(1, pixel + dy * Sp + dx) > base + k * rise

    white, yellow, wear, joint = _markings(sc, f, f["u"], f["v"])
    f.update(
        white=torch.maximum(white, lot_white), yellow=yellow, wear=wear, joint=joint,
        path=_park_path(sc, f), car=car, glass=glass, car_colour=car_colour,
    )  # fmt: skip
    photo = _shade(sc, d, f, shadow, S)
    labels = f["label"].view(n, S, S)

    fx, fy = sc.flip_x[:, :, None], sc.flip_y[:, :, None]
    photo = torch.where(fx[..., None], photo.flip(-1), photo)
    photo = torch.where(fy[..., None], photo.flip(-2), photo)
    labels = torch.where(fx, labels.flip(-1), labels)
    labels = torch.where(fy, labels.flip(-2), labels)
    return photo.contiguous(), labels.contiguous()


def _park_path(sc: _Scene, g: dict[str, torch.Tensor]) -> torch.Tensor:
    """Gravel footpaths in parks (N, M) bool: a diagonal, a cross, or none."""
    a, b, la, lb = g["a"], g["b"], g["la"], g["lb"]
    layout = _take(sc.path, g["blk"])
    diagonal = (a * lb - b * la).abs() / torch.sqrt(la**2 + lb**2) < 1.0
    cross = ((a - la / 2).abs() < 1.0) | ((b - lb / 2).abs() < 1.0)
    path = torch.where(layout < 0.4, diagonal, (layout < 0.7) & cross)
    return path & g["inside"] & (g["kind"] == _PARK_BLOCK) & (g["surface"] == _S_PARK)


def _blur(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Binomial [1, 2, 1] / 4 filter along ``dim``, edges replicated."""
    n = x.shape[dim]
    out = 0.5 * x
    out.narrow(dim, 1, n - 1).add_(0.25 * x.narrow(dim, 0, n - 1))
    out.narrow(dim, 0, n - 1).add_(0.25 * x.narrow(dim, 1, n - 1))
    out.narrow(dim, 0, 1).add_(0.25 * x.narrow(dim, 0, 1))
    out.narrow(dim, n - 1, 1).add_(0.25 * x.narrow(dim, n - 1, 1))
    return out


_N_SURFACES = 9
_ROOF0 = _N_SURFACES  # colour table rows: surfaces, roofs, cars, glass, tree crowns
_CAR0 = _ROOF0 + len(_ROOF_PITCHED) + len(_ROOF_FLAT)
_GLASS = _CAR0 + len(_CAR_COLOURS)
_TREE0 = _GLASS + 1
_TREE_TONES = 8


def _shade(
    sc: _Scene, d: _Draw, f: dict[str, torch.Tensor], shadow: torch.Tensor, S: int
) -> torch.Tensor:
    """Photo (N, 3, S, S) in [-1, 1] from the cropped per-pixel fields (N, S*S).

    Every pixel gets a base colour from one table (per-tile surface colours, then roof,
    car, glass and tree colours), a grey modulation (texture, wear, joints), a few
    blends (grass patches, paths, shallow water, paint), the sunlight or shadow, and
    the camera (grade, blur, noise)."""
    n = shadow.shape[0]
    side = max(256, 1 << (S - 1).bit_length())
    bank = _bank(side).view(6, -1)
    off = (d.u(2) * side).long()
    r = torch.arange(S)
    index = ((off[:, 0:1, None] + r[None, :, None]) % side) * side + (
        (off[:, 1:2, None] + r[None, None, :]) % side
    )
    n0, n1, n2, n3, n4, n5 = bank[:, index.view(n, -1)]  # each (N, M)

    def tile(lo: float, hi: float, k: int = 1) -> torch.Tensor:
        return d.range(lo, hi, k)  # (N, k)

    def rgb(*c: float) -> torch.Tensor:
        return torch.tensor(c)

    # Per-tile surface colours (N, 9, 3), in the order of the _S_* codes.
    asphalt = tile(0.26, 0.40)[:, :, None] * rgb(1.0, 0.99, 0.96)
    surfaces = torch.stack(
        [
            asphalt[:, 0],
            tile(0.58, 0.72) * rgb(1.0, 0.97, 0.92),
            rgb(0.52, 0.47, 0.40).expand(n, 3),
            torch.lerp(rgb(0.26, 0.42, 0.16), rgb(0.46, 0.47, 0.28), tile(0.0, 1.0)),
            asphalt[:, 0] * tile(0.9, 1.15),
            tile(0.62, 0.78) * rgb(1.0, 0.95, 0.87),
            torch.lerp(rgb(0.09, 0.18, 0.22), rgb(0.16, 0.28, 0.30), tile(0.0, 1.0)),
            rgb(0.30, 0.38, 0.20).expand(n, 3),
            torch.zeros(n, 3),
        ],
        1,
    )
    tones = torch.linspace(0, 1, _TREE_TONES)[:, None]
    fixed = torch.cat(
        [
            _rgb(_ROOF_PITCHED + _ROOF_FLAT),
            _rgb(_CAR_COLOURS),
            rgb(0.07, 0.08, 0.10)[None],
            torch.lerp(rgb(0.10, 0.21, 0.07), rgb(0.22, 0.33, 0.12), tones),
        ]
    )
    table = torch.cat([surfaces, fixed.expand(n, -1, -1)], 1)

    surface, roof, car, glass, crown = f["surface"], f["building"], f["car"], f["glass"], f["crown"]
    row = torch.where(roof, _ROOF0 + f["roof_colour"], surface)
    row = torch.where(car, torch.where(glass, _GLASS, _CAR0 + f["car_colour"]), row)
    row = torch.where(crown, _TREE0 + (f["tree_tone"] * _TREE_TONES).long().clamp(max=7), row)
    base = table.gather(1, row[..., None].expand(-1, -1, 3))  # (N, M, 3)

    asphalt_mod = (1 + 0.07 * n1 + 0.05 * n3) * (1 - 0.08 * f["wear"])
    asphalt_mod = asphalt_mod * torch.where(n4 > 1.3, 0.86, 1.0)
    roof_mod = (0.85 + 0.3 * f["roof_tone"]) * (1 + 0.04 * n2 + 0.03 * n1 + 0.04 * n3)
    roof_mod = roof_mod * torch.where(f["parapet"], 1.18, 1.0) * torch.where(f["ridge"], 0.82, 1.0)
    mod = asphalt_mod
    for code, m in (
        (_S_SIDEWALK, (1 + 0.035 * n2) * (1 - 0.35 * f["joint"])),
        (_S_YARD, 1 + 0.06 * n1),
        (_S_PARK, 1 + 0.07 * n2 + 0.06 * n3 + 0.04 * n1),
        (_S_PLAZA, (1 + 0.04 * n2) * (1 - 0.3 * f["joint"])),
        (_S_WATER, 1 + 0.04 * n3 + 0.03 * n5),
        (_S_BANK, 1 + 0.08 * n2 + 0.05 * n3),
    ):  # fmt: skip
        mod = torch.where(surface == code, m, mod)
    mod = torch.where(roof, roof_mod, mod)
    mod = torch.where(car, 1 + 0.03 * n1, mod)
    mod = torch.where(crown, 0.86 + 0.14 * n1.clamp(-2, 2) / 2 + 0.08 * n2, mod)
    albedo = base * mod[..., None]

    ground = ~roof & ~car & ~crown
    grass = rgb(0.34, 0.42, 0.22) * (1 + 0.08 * n2)[..., None]
    patches = torch.sigmoid(3 * (n3 - tile(-0.8, 0.8)))
    albedo = torch.lerp(albedo, grass, (patches * (ground & (surface == _S_YARD)))[..., None])
    path = ground & f["path"]
    albedo = torch.where(
        path[..., None], rgb(0.66, 0.62, 0.54) * (1 + 0.05 * n1)[..., None], albedo
    )
    shallow = 0.6 * (1 + f["shore"] / 3.0).clamp(0, 1) * (ground & (surface == _S_WATER))
    albedo = torch.lerp(albedo, rgb(0.26, 0.33, 0.28), shallow[..., None])
    paved = ground & ((surface == _S_ROAD) | (surface == _S_PARKING) | (surface == _S_SIDEWALK))
    fade = tile(0.55, 0.95)
    albedo = torch.lerp(albedo, rgb(0.86, 0.86, 0.83), (f["white"] * fade * paved)[..., None])
    albedo = torch.lerp(albedo, rgb(0.85, 0.68, 0.18), (f["yellow"] * fade * paved)[..., None])

    ambient = tile(0.35, 0.5)
    lit = torch.where(roof, ambient + (1 - ambient) * f["roof_dot"].clamp(min=0), 1.0)
    lit = torch.where(crown, ambient + (1 - ambient) * f["tree_lit"], lit)
    light = torch.where(
        shadow[..., None], ambient[:, :, None] * rgb(0.9, 0.96, 1.12), lit[..., None]
    )

    # Camera: exposure and white balance, saturation, haze, a slight blur, sensor noise.
    gain = tile(0.85, 1.15) * (1 + 0.12 * (d.u(3) - 0.5))  # (N, 3)
    photo = albedo * light * gain[:, None]
    grey = photo.mean(-1, keepdim=True)
    photo = torch.lerp(grey, photo, tile(0.75, 1.15)[:, :, None])
    haze = tile(0.0, 0.12)[:, :, None]
    photo = torch.lerp(photo, rgb(0.72, 0.77, 0.82), haze)
    photo = photo.view(n, S, S, 3)
    photo = _blur(_blur(photo, 1), 2)
    photo = photo + (tile(0.004, 0.015)[:, :, None] * n0.view(n, S, S))[..., None]
    return (photo.clamp(0, 1) * 2 - 1).permute(0, 3, 1, 2).contiguous()
