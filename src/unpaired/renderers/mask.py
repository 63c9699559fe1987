"""Masking renderer for inpainting (Sec. 2.4 of the AIGN paper) and mask generators.

The renderer is ``P(G(x), m) = m ⊙ G(x)``: the generator's complete image, hidden
where the input was hidden, so the reconstruction loss of Eq. 1 compares only the
visible pixels with the masked input ``x``.

Mask convention: a mask ``m`` is a float tensor (B, 1, H, W) of zeros and ones,
**1 = visible (kept), 0 = hidden** (the black region of the paper's masked input).
Boxes are given as fractions of the image size, ``(top, left, bottom, right)`` in
[0, 1], so one box serves every resolution.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from unpaired._checks import check_shape

Box = tuple[float, float, float, float]

#: Named boxes ``(top, left, bottom, right)`` as fractions of the image size.
#: ``digit_band`` hides the middle horizontal band of a digit (rows 3/8 to 5/8).
#: ``olivetti_mouth`` / ``olivetti_nose`` cover the mouth / nose of Olivetti faces
#: (checked by eye on the 64x64 images). ``celeba_mouth`` / ``celeba_nose`` are for
#: aligned CelebA under the default central square crop of ``unpaired.data.celeba``,
#: placed from the typical aligned landmark positions (nose tip near row 0.64, mouth
#: corners near row 0.74, columns 0.40-0.59); not checked on real CelebA images here.
BOXES: dict[str, Box] = {
    "digit_band": (0.375, 0.0, 0.625, 1.0),
    "olivetti_mouth": (0.68, 0.25, 0.90, 0.75),
    "olivetti_nose": (0.45, 0.36, 0.72, 0.64),
    "celeba_mouth": (0.66, 0.32, 0.84, 0.68),
    "celeba_nose": (0.50, 0.40, 0.70, 0.60),
}


def apply_mask(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """The inpainting renderer ``P(G(x), m) = m ⊙ G(x)`` (Sec. 2.4 of the AIGN paper).

    ``x`` is (B, C, H, W); ``m`` is (B, 1, H, W), (B, C, H, W) or a single mask
    (1, 1, H, W) / (1, C, H, W) shared by the batch; 1 = visible, 0 = hidden.
    Returns (B, C, H, W). Linear in ``x`` and in ``m``; parameter-free.
    """
    check_shape("x", x, ("B", "C", "H", "W"))
    check_shape("m", m, ("B", "C", "H", "W"))
    b, c, h, w = x.shape
    if m.shape[0] not in (1, b) or m.shape[1] not in (1, c) or m.shape[-2:] != (h, w):
        raise ValueError(
            f"m: expected shape (B or 1, 1 or C, H, W) = ({b} or 1, 1 or {c}, {h}, {w}), "
            f"got {tuple(m.shape)}"
        )
    return m * x


def _to_pixels(fraction: float, size: int) -> int:
    return math.floor(fraction * size + 0.5)


def box_mask(
    height: int,
    width: int,
    box: Box,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A (1, 1, H, W) mask that hides one rectangle ``box`` and keeps the rest.

    ``box = (top, left, bottom, right)`` as fractions of ``height`` / ``width``
    (e.g. ``BOXES["mouth"]``); rows ``round(top * H)`` to ``round(bottom * H) - 1`` and
    columns ``round(left * W)`` to ``round(right * W) - 1`` are hidden (set to 0).
    Non-blind inpainting (a fixed mask), as in the AIGN paper's biased inpainting.
    """
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height}x{width}")
    if len(box) != 4:
        raise ValueError(f"box must be (top, left, bottom, right), got {box!r}")
    top, left, bottom, right = box
    if not (0.0 <= top < bottom <= 1.0 and 0.0 <= left < right <= 1.0):
        raise ValueError(
            f"box must satisfy 0 <= top < bottom <= 1 and 0 <= left < right <= 1, got {box!r}"
        )
    m = torch.ones(1, 1, height, width, dtype=dtype, device=device)
    r0, r1 = _to_pixels(top, height), _to_pixels(bottom, height)
    c0, c1 = _to_pixels(left, width), _to_pixels(right, width)
    m[..., r0:r1, c0:c1] = 0
    return m


def free_form_mask(
    batch: int,
    height: int,
    width: int,
    *,
    strokes: int = 4,
    vertices: int = 5,
    max_length: float = 0.4,
    thickness: tuple[float, float] = (0.05, 0.15),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Random free-form masks (B, 1, H, W): thick polyline strokes hidden, rest kept.

    Each image gets ``1..strokes`` strokes (uniform); each stroke starts at a uniform
    point and makes ``1..vertices`` straight steps of uniform direction and length up
    to ``max_length * min(H, W)``, clipped to the image; every pixel whose centre lies
    within half the stroke thickness of a step is hidden. Thickness is uniform in
    ``thickness`` (fractions of ``min(H, W)``), never below 1.5 px, so every image has
    at least one hidden pixel. Deterministic given ``generator`` (sampled on the CPU).
    """
    if batch < 1 or height < 1 or width < 1:
        raise ValueError(
            f"batch, height and width must be positive, got {batch}, {height}, {width}"
        )
    if strokes < 1 or vertices < 1:
        raise ValueError(f"strokes and vertices must be >= 1, got {strokes}, {vertices}")
    lo, hi = thickness
    if not (0.0 < lo <= hi) or max_length < 0:
        raise ValueError(
            f"need 0 < thickness[0] <= thickness[1] and max_length >= 0, got {thickness}, {max_length}"
        )
    g = generator
    side = float(min(height, width))
    n_strokes = torch.randint(1, strokes + 1, (batch, 1), generator=g)
    n_steps = torch.randint(1, vertices + 1, (batch, strokes, 1), generator=g)
    active = (torch.arange(vertices) < n_steps) & (torch.arange(strokes) < n_strokes)[..., None]
    size = torch.tensor([float(height), float(width)])
    start = torch.rand(batch, strokes, 1, 2, generator=g) * size
    angle = torch.rand(batch, strokes, vertices, generator=g) * (2 * math.pi)
    length = torch.rand(batch, strokes, vertices, generator=g) * (max_length * side)
    steps = torch.stack([length * torch.sin(angle), length * torch.cos(angle)], dim=-1)
    verts = torch.cat([start, start + steps.cumsum(dim=2)], dim=2)
    verts = torch.minimum(verts.clamp(min=0.0), size)
    radius = (lo + (hi - lo) * torch.rand(batch, strokes, generator=g)) * side / 2
    radius = radius.clamp(min=0.75)[..., None].expand(-1, -1, vertices)

    p0 = verts[:, :, :-1].reshape(batch, -1, 2)  # (B, K, 2) segment starts, K = strokes * vertices
    d = (verts[:, :, 1:] - verts[:, :, :-1]).reshape(batch, -1, 2)
    active, radius = active.reshape(batch, -1), radius.reshape(batch, -1)
    rows = torch.arange(height, dtype=torch.float32) + 0.5
    cols = torch.arange(width, dtype=torch.float32) + 0.5
    q = torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1).reshape(1, -1, 2)
    hidden = torch.zeros(batch, height * width, dtype=torch.bool)
    for k in range(p0.shape[1]):
        rel = q - p0[:, k, None]  # (B, HW, 2)
        dk = d[:, k, None]  # (B, 1, 2)
        t = ((rel * dk).sum(-1) / (dk * dk).sum(-1).clamp(min=1e-12)).clamp(0.0, 1.0)
        dist = (rel - t[..., None] * dk).norm(dim=-1)
        hidden |= active[:, k, None] & (dist <= radius[:, k, None])
    m = (~hidden).reshape(batch, 1, height, width)
    return m.to(dtype=dtype, device=device)


class Masking(nn.Module):
    """Renderer module around :func:`apply_mask`; holds nothing (no parameters)."""

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """``x`` (B, C, H, W), ``m`` (B or 1, 1 or C, H, W) -> ``m ⊙ x`` (B, C, H, W)."""
        return apply_mask(x, m)
