"""Typewritten digits with exact attributes, rendered from the fonts matplotlib bundles.

The synthetic domain of PuppetGAN (Usman et al., ICCV 2019, Sec. 4: "typewritten digits
rendered using a sans-serif Roboto font"; Roboto does not ship here, the DejaVu families
of matplotlib's ``mpl-data/fonts/ttf`` do). Every image is 1 x ``resolution`` x ``resolution``
(default 32) in [0, 1], ink bright on black like MNIST, with known attributes:

* ``digit``: the class, 0..9;
* ``font``: an index into :data:`FONTS`;
* ``rotation``: degrees, counter-clockwise on screen, about the glyph's box centre;
* ``size``: the glyph's ink-box height at rotation 0 as a fraction of the frame height;
* ``stroke``: pixels added to (or, negative, taken from) each side of the font's strokes;
* ``dx``, ``dy``: position jitter of the box centre from the frame centre, in pixels
  (``dy`` positive downwards).

How: each (font, digit) glyph is drawn once with Pillow at high resolution and turned
into a signed distance field (negative inside the ink) on a glyph grid where the ink box
spans [-1, 1] vertically. An image samples that field through the inverse of its affine
map (``F.grid_sample``, bilinear) and thresholds it with a one-pixel linear ramp at the
offset ``stroke``: ``ink = clamp(0.5 + stroke - distance_px, 0, 1)``. The ramp is the
antialiasing; the offset sets the stroke weight exactly. Rendering is vectorised over the
batch (about 10^4 images per second on one CPU core, ``benchmarks/font_digits.py``).

Triplets (:func:`render_triplets`): ``(b1, b2, b3)`` with ``b3`` = ``b2``'s attributes
except the attribute of interest (``"rotation"`` or ``"size"``), which is ``b1``'s.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> attrs = sample_attributes(4, generator=g)
    >>> render(attrs).shape
    torch.Size([4, 1, 32, 32])
    >>> b1, b2, b3, a = render_triplets(4, "rotation", generator=g)
    >>> bool((a["b3"]["rotation"] == a["b1"]["rotation"]).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from unpaired.errors import ConfigError, DataNotFoundError

#: Font files of matplotlib's mpl-data/fonts/ttf used as styles (upright ones only: an
#: oblique font would mix a slant into the rotation attribute).
FONTS: tuple[str, ...] = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
)
#: Names of the attributes every attribute dict holds, each a (N,) tensor.
ATTRIBUTES: tuple[str, ...] = ("digit", "font", "rotation", "size", "stroke", "dx", "dy")
#: Attributes of interest a triplet can exchange.
AOIS: tuple[str, ...] = ("rotation", "size")

_GRID = 96  # SDF samples per side of the glyph grid
_EXTENT = 1.35  # the glyph grid covers [-_EXTENT, _EXTENT]^2 (ink box height = 2)
_DRAW = 160  # Pillow font size of the master glyphs


@dataclass(frozen=True)
class Ranges:
    """Uniform ranges of the random attributes (``(low, high)`` each)."""

    rotation: tuple[float, float] = (-45.0, 45.0)
    size: tuple[float, float] = (0.5, 0.8)
    stroke: tuple[float, float] = (-0.4, 0.5)
    jitter: float = 1.5  # |dx|, |dy| <= jitter pixels

    def __post_init__(self) -> None:
        for name in ("rotation", "size", "stroke"):
            lo, hi = getattr(self, name)
            if not lo <= hi:
                raise ConfigError(f"font digits: {name} range must be (low, high), got {(lo, hi)}")
        if self.size[0] <= 0 or self.jitter < 0:
            raise ConfigError(f"font digits: need size > 0 and jitter >= 0, got {self}")


def font_dir() -> Path:
    """matplotlib's bundled TrueType folder (``mpl-data/fonts/ttf``)."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _glyph_mask(font: str, digit: int) -> np.ndarray:
    path = font_dir() / font
    if not path.is_file():
        raise DataNotFoundError(f"{path}: font not found (it ships with matplotlib)")
    face = ImageFont.truetype(str(path), _DRAW)
    img = Image.new("L", (2 * _DRAW, 2 * _DRAW), 0)
    ImageDraw.Draw(img).text((_DRAW // 2, _DRAW // 4), str(digit), fill=255, font=face)
    return np.asarray(img) > 127


@cache
def glyph_sdf(font: str, digit: int) -> torch.Tensor:
    """Signed distance field (``_GRID``, ``_GRID``) of one glyph, in glyph units (the ink
    box is 2 units high, centred at 0), negative inside the ink."""
    mask = _glyph_mask(font, digit)
    rows, cols = np.nonzero(mask)
    cy, cx = (rows.min() + rows.max() + 1) / 2, (cols.min() + cols.max() + 1) / 2
    half = (rows.max() + 1 - rows.min()) / 2  # master pixels per glyph unit
    outside = ndimage.distance_transform_edt(~mask)
    inside = ndimage.distance_transform_edt(mask)
    sdf = (outside - inside + np.where(mask, 0.5, -0.5)) / half  # boundary at 0
    u = np.linspace(-_EXTENT, _EXTENT, _GRID)
    yy, xx = np.meshgrid(cy - 0.5 + u * half, cx - 0.5 + u * half, indexing="ij")
    grid = ndimage.map_coordinates(sdf, [yy, xx], order=1, mode="nearest")
    return torch.from_numpy(grid.astype(np.float32))


@lru_cache(maxsize=4)
def _atlas(fonts: tuple[str, ...]) -> torch.Tensor:
    """(1, 1, len(fonts) * 10 * _GRID, _GRID): the glyph fields stacked vertically, glyph
    ``font * 10 + digit`` in rows ``[k * _GRID, (k + 1) * _GRID)``."""
    return torch.cat([glyph_sdf(f, d) for f in fonts for d in range(10)])[None, None]


def sample_attributes(
    n: int,
    *,
    generator: torch.Generator,
    ranges: Ranges = Ranges(),
    fonts: int = len(FONTS),
) -> dict[str, torch.Tensor]:
    """``n`` independent attribute sets: class and font uniform, the rest uniform in
    ``ranges``. Values are (n,) tensors (int64 for ``digit``/``font``, float32 else)."""
    if not 1 <= fonts <= len(FONTS):
        raise ConfigError(f"font digits: fonts must be in 1..{len(FONTS)}, got {fonts}")

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=generator)

    j = ranges.jitter
    return {
        "digit": torch.randint(0, 10, (n,), generator=generator),
        "font": torch.randint(0, fonts, (n,), generator=generator),
        "rotation": uniform(*ranges.rotation),
        "size": uniform(*ranges.size),
        "stroke": uniform(*ranges.stroke),
        "dx": uniform(-j, j),
        "dy": uniform(-j, j),
    }


def render(attrs: dict[str, torch.Tensor], *, resolution: int = 32) -> torch.Tensor:
    """Images (N, 1, resolution, resolution) in [0, 1] of the attribute sets ``attrs`` (see the module
    docstring; every key of :data:`ATTRIBUTES`, each (N,))."""
    missing = [k for k in ATTRIBUTES if k not in attrs]
    if missing:
        raise ValueError(f"render: attributes {missing} missing (need {ATTRIBUTES})")
    n = attrs["digit"].shape[0]
    atlas = _atlas(FONTS)
    tiles = atlas.shape[2] // _GRID
    k = (attrs["font"].long() * 10 + attrs["digit"].long()).float()[:, None, None]
    # output pixel centres in frame units: [-1, 1] spans the frame
    t = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution * 2 - 1
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    theta = torch.deg2rad(attrs["rotation"].float())[:, None, None]
    s = attrs["size"].float()[:, None, None]
    px = xx - (attrs["dx"].float() * 2 / resolution)[:, None, None]
    py = yy - (attrs["dy"].float() * 2 / resolution)[:, None, None]
    # inverse map: screen rotation by +theta counter-clockwise (y down) undone, / scale;
    # clamped to the glyph's own tile (the "border" padding of a single field)
    c, si = torch.cos(theta), torch.sin(theta)
    gx = ((c * px - si * py) / s).clamp(-_EXTENT, _EXTENT) / _EXTENT
    gy = ((si * px + c * py) / s).clamp(-_EXTENT, _EXTENT) / _EXTENT
    gy = ((gy + 1) / 2 * (_GRID - 1) + k * _GRID) / (tiles * _GRID - 1) * 2 - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(1, n * resolution, resolution, 2)
    d = F.grid_sample(atlas, grid, mode="bilinear", padding_mode="border", align_corners=True)
    d_px = d.reshape(n, 1, resolution, resolution) * (  # glyph units -> pixels
        s[:, None] * resolution / 2
    )
    stroke = attrs["stroke"].float().view(n, 1, 1, 1)
    return (0.5 + stroke - d_px).clamp(0.0, 1.0)


def render_triplets(
    n: int,
    aoi: str,
    *,
    generator: torch.Generator,
    ranges: Ranges = Ranges(),
    fonts: int = len(FONTS),
    resolution: int = 32,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, dict[str, torch.Tensor]]]:
    """``n`` triplets ``(b1, b2, b3)`` (each (n, 1, resolution, resolution)) and their attributes
    ``{"b1": ..., "b2": ..., "b3": ...}``: b1, b2 independent; b3 has b1's ``aoi`` and
    every other attribute of b2 (PuppetGAN Sec. 3)."""
    if aoi not in AOIS:
        raise ConfigError(f"font digits: aoi must be one of {AOIS}, got {aoi!r}")
    a1 = sample_attributes(n, generator=generator, ranges=ranges, fonts=fonts)
    a2 = sample_attributes(n, generator=generator, ranges=ranges, fonts=fonts)
    a3 = {**a2, aoi: a1[aoi].clone()}
    images = [render(a, resolution=resolution) for a in (a1, a2, a3)]
    return images[0], images[1], images[2], {"b1": a1, "b2": a2, "b3": a3}


class TripletSource:
    """Batch source (``engine.data.BatchSource``) of freshly rendered triplets:
    ``sample(g)`` -> ``{"b1", "b2", "b3"}``, each (batch_size, 1, R, R) in [-1, 1] (the
    image range of the translators). Every draw is new: the synthetic domain is unbounded.
    With several ranks it renders the global batch and keeps its rank's slice."""

    def __init__(
        self,
        aoi: str,
        *,
        batch_size: int,
        ranges: Ranges = Ranges(),
        fonts: int = len(FONTS),
        resolution: int = 32,
    ) -> None:
        if aoi not in AOIS:
            raise ConfigError(f"font digits: aoi must be one of {AOIS}, got {aoi!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.aoi, self.batch_size, self.ranges = aoi, batch_size, ranges
        self.fonts, self.resolution = fonts, resolution

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, torch.Tensor]:
        n = self.batch_size
        b = render_triplets(
            n * world_size,
            self.aoi,
            generator=generator,
            ranges=self.ranges,
            fonts=self.fonts,
            resolution=self.resolution,
        )[:3]
        return {
            k: x[rank * n : (rank + 1) * n] * 2 - 1
            for k, x in zip(("b1", "b2", "b3"), b, strict=True)
        }


def with_attribute(attrs: dict[str, torch.Tensor], **values: float) -> dict[str, torch.Tensor]:
    """A copy of ``attrs`` with the named attributes set to one value each."""
    out = {k: v.clone() for k, v in attrs.items()}
    for k, v in values.items():
        if k not in ATTRIBUTES:
            raise ValueError(f"unknown attribute {k!r}; attributes are {ATTRIBUTES}")
        out[k] = torch.full_like(out[k], v) if not isinstance(v, torch.Tensor) else v
    return out


__all__ = [
    "AOIS",
    "ATTRIBUTES",
    "FONTS",
    "Ranges",
    "TripletSource",
    "font_dir",
    "glyph_sdf",
    "render",
    "render_triplets",
    "sample_attributes",
    "with_attribute",
]
