"""Translation figures: translations, reconstructions from clean / quantised / noisy
maps, and the hidden signal made visible (docs/TRANSLATION.md)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from unpaired.viz._figure import new_figure, save

#: Row order and labels of :func:`honesty_grid` (keys of
#: :func:`unpaired.translation.honesty_images`).
ROWS: tuple[tuple[str, str], ...] = (
    ("photo", "photo x"),
    ("map", "true map"),
    ("a2b", "G(x)"),
    ("quantized", "q(G(x))"),
    ("hidden", "|G(x)-q(G(x))|\nx amp"),
    ("rec", "F(G(x))"),
    ("rec_quantized", "F(q(G(x)))"),
    ("rec_noisy", "F(G(x)+noise)"),
    ("b2a", "F(true map)"),
)


def honesty_grid(
    path: str | Path,
    images: Mapping[str, torch.Tensor],
    *,
    title: str = "",
    amplify: float | None = None,
    n: int = 8,
    dpi: int = 100,
) -> Path:
    """PNG of the first ``n`` tiles, one row per entry of :data:`ROWS` present in
    ``images`` (values in [-1, 1]; ``hidden`` is a non-negative amplitude, shown as
    ``amplify * hidden`` in grey, by default scaled so that its 99th percentile is white;
    its row label gives the factor). Drawn as one mosaic (one axes: fast)."""
    rows = []
    labels = []
    for key, label in ROWS:
        if key not in images:
            continue
        x = images[key][:n].detach().float().cpu()
        if key == "hidden":
            amp = amplify
            if amp is None:
                top = float(torch.quantile(x.flatten(), 0.99)) if x.numel() else 0.0
                amp = 1.0 / top if top > 0 else 1.0
            x = (amp * x).clamp(0, 1)
            label = label.replace("amp", f"{amp:.3g}")
        else:
            x = ((x + 1) / 2).clamp(0, 1)
        rows.append(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x)
        labels.append(label)
    if not rows:
        raise ValueError(f"honesty_grid: none of {[k for k, _ in ROWS]} in images")
    k, h, w = rows[0].shape[0], rows[0].shape[2], rows[0].shape[3]
    pad = max(1, h // 16)
    mosaic = torch.ones(3, len(rows) * (h + pad), k * (w + pad))
    for r, x in enumerate(rows):
        for c in range(min(k, x.shape[0])):
            y0, x0 = r * (h + pad), c * (w + pad)
            mosaic[:, y0 : y0 + h, x0 : x0 + w] = x[c]
    fig = new_figure(1.6 + 0.9 * k, 0.4 + 0.9 * len(rows))
    ax = fig.add_axes((1.5 / (1.6 + 0.9 * k), 0.02, 1 - 1.55 / (1.6 + 0.9 * k), 0.92))
    ax.imshow(mosaic.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([(r + 0.5) * (h + pad) for r in range(len(rows))], labels, fontsize=7)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, path, dpi=dpi)
