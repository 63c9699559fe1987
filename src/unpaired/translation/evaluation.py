"""Honesty and segmentation scores of any :class:`~unpaired.translation.Translator`.

:class:`MapsEvaluator` scores a photo (A) <-> map (B) translator on held-out paired
tiles with :mod:`unpaired.metrics.honesty` (forward = ``a2b``, photo -> map, the
direction with a palette; backward = ``b2a``):

* ``acc_segm``, ``iou_segm``: labels of ``q(a2b(photo))`` against the true labels;
* ``rh`` (mean) and ``rh_std`` (std over images): reconstruction honesty;
* ``sn_<sigma>``: sensitivity to noise at each sigma (own seeded generator);
* ``cycle_a``: ``||b2a(a2b(photo)) - photo||_2``; ``cycle_b``: the same for maps;
* ``hidden_rms``: RMS over values of ``a2b(photo) - q(a2b(photo))``, the signal
  quantisation strips (in [-1, 1] units).

Norms are per image, in [-1, 1] units (see the honesty module). Every value is a
function of the translator and the tiles only (the SN noise comes from
``torch.Generator().manual_seed(seed)``), so it does not depend on the training RNG.

Example:
    >>> import torch
    >>> from unpaired.data.synthetic.maps import PALETTE
    >>> class Quantizer:  # photo -> its nearest palette colours; maps pass through
    ...     def translate(self, x, direction="a2b", guide=None):
    ...         return quantize_to_palette(x, PALETTE) if direction == "a2b" else x
    >>> labels = torch.zeros(2, 8, 8, dtype=torch.long)
    >>> maps = PALETTE[labels].permute(0, 3, 1, 2)
    >>> scores = MapsEvaluator(maps, maps, labels, PALETTE)(Quantizer())
    >>> scores["acc_segm"], scores["rh"], scores["cycle_a"]
    (1.0, 0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape
from unpaired.metrics.honesty import (
    SIGMAS,
    cycle_error,
    hidden_signal,
    quantize_to_palette,
    reconstruction_honesty,
    segm_scores,
    sensitivity_to_noise,
)
from unpaired.translation.base import Translator, as_callable, translate_batched

__all__ = ["MapsEvaluator", "honesty_images", "quantize_to_palette", "sn_key"]


def sn_key(sigma: float) -> str:
    """The metric name of SN at ``sigma``: ``sn_0.05``."""
    return f"sn_{sigma:g}"


@dataclass
class MapsEvaluator:
    """Scores of a photo <-> map translator (module docstring).

    ``photos`` (N, C_a, H, W) and ``maps`` (N, C_b, H, W) in [-1, 1] (pixel-aligned
    pairs), ``labels`` (N, H, W) int64 class of every pixel, ``palette`` (K, C_b) in
    [-1, 1] (class k = row k)."""

    photos: torch.Tensor
    maps: torch.Tensor
    labels: torch.Tensor
    palette: torch.Tensor
    sigmas: Sequence[float] = SIGMAS
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_shape("photos", self.photos, ("N", "C", "H", "W"))
        n, _, h, w = self.photos.shape
        check_shape("maps", self.maps, (n, "C", h, w))
        check_shape("labels", self.labels, (n, h, w))
        check_shape("palette", self.palette, ("K", self.maps.shape[1]))

    @torch.no_grad()
    def honest_bound(self) -> float:
        """Cycle error of an honest map -> photo that paints every pixel the mean photo
        colour of its class (over these tiles) from the *true* map: a reconstruction
        from the map alone, with no hidden signal. A translator whose ``cycle_a`` is well
        below it reconstructs detail the map does not hold."""
        x, k = self.photos, self.palette.shape[0]
        pix = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
        lab = self.labels.reshape(-1)
        sums = torch.zeros(k, x.shape[1], dtype=x.dtype, device=x.device).index_add_(0, lab, pix)
        counts = torch.bincount(lab, minlength=k).clamp(min=1).to(x.dtype)
        paint = (sums / counts[:, None])[self.labels].permute(0, 3, 1, 2)
        return float((x - paint).flatten(1).norm(dim=1).mean())

    @torch.no_grad()
    def __call__(self, translator: Translator) -> dict[str, float]:
        fwd, bwd = as_callable(translator, "a2b"), as_callable(translator, "b2a")
        kw = {"batch_size": self.batch_size}
        segm = segm_scores(fwd, self.photos, self.labels, self.palette, **kw)
        rh = reconstruction_honesty(fwd, bwd, self.photos, self.palette, reduction="none", **kw)
        g = torch.Generator(device=self.photos.device).manual_seed(self.seed)
        sn = sensitivity_to_noise(fwd, bwd, self.photos, self.sigmas, generator=g, **kw)
        maps = translate_batched(translator, self.photos, "a2b", batch_size=self.batch_size)
        hidden = hidden_signal(maps, self.palette)
        out = {
            "acc_segm": segm.pixel_accuracy,
            "iou_segm": segm.mean_iou,
            "rh": float(rh.mean()),
            "rh_std": float(rh.std()) if rh.numel() > 1 else 0.0,
            **{sn_key(s): float(v) for s, v in zip(self.sigmas, sn, strict=True)},
            "cycle_a": float(cycle_error(fwd, bwd, self.photos, **kw)),
            "cycle_b": float(cycle_error(bwd, fwd, self.maps, **kw)),
            "hidden_rms": float(hidden.square().mean().sqrt()),
        }
        return out


@torch.no_grad()
def honesty_images(
    translator: Translator,
    photos: torch.Tensor,
    maps: torch.Tensor,
    palette: torch.Tensor,
    *,
    sigma: float = 0.05,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """The images of the honesty figure, each (N, C, H, W) in [-1, 1] except ``hidden``.

    ``photo``, ``map`` (the true one), ``a2b`` = translation t, ``quantized`` = q(t),
    ``hidden`` = |t - q(t)| summed over channels (N, 1, H, W, raw amplitude: scale it to
    see it), ``rec`` = b2a(t), ``rec_quantized`` = b2a(q(t)), ``rec_noisy`` =
    b2a(t + N(0, sigma^2)), ``b2a`` = the photo made from the true map."""
    check_shape("photos", photos, ("N", "C", "H", "W"))
    t = translator.translate(photos, "a2b")
    q = quantize_to_palette(t, palette)
    g = torch.Generator(device=photos.device).manual_seed(seed)
    noise = torch.randn(t.shape, generator=g, device=t.device, dtype=t.dtype)
    return {
        "photo": photos,
        "map": maps,
        "a2b": t,
        "quantized": q,
        "hidden": (t - q).abs().sum(1, keepdim=True),
        "rec": translator.translate(t, "b2a"),
        "rec_quantized": translator.translate(q, "b2a"),
        "rec_noisy": translator.translate(t + sigma * noise, "b2a"),
        "b2a": translator.translate(maps, "b2a"),
    }
