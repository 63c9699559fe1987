"""MapsEvaluator: the honest reference bound and the scores of known translators."""

from __future__ import annotations

import torch

from unpaired.data.synthetic.maps import PALETTE, render_ids, tile_ids
from unpaired.metrics.honesty import quantize_to_palette
from unpaired.translation import MapsEvaluator


class _Cheater:
    """photo -> its true map plus the photo at 1/64 amplitude; map -> 64 x (map - q(map))."""

    def __init__(self, maps: torch.Tensor) -> None:
        self.maps = maps

    def translate(self, x, direction="a2b", guide=None):  # type: ignore[no-untyped-def]
        if direction == "a2b":
            return self.maps[: x.shape[0]] + x / 64
        return 64 * (x - quantize_to_palette(x, PALETTE))


def test_honest_bound_is_zero_for_flat_class_colours_and_positive_for_photos() -> None:
    t = render_ids(tile_ids("test", 8), size=16)
    flat = MapsEvaluator(t.map, t.map, t.labels, PALETTE)
    assert flat.honest_bound() < 1e-3  # float32 sums of equal colours
    assert MapsEvaluator(t.photo, t.map, t.labels, PALETTE).honest_bound() > 1.0


def test_a_cheater_beats_the_honest_bound_and_has_a_large_rh() -> None:
    t = render_ids(tile_ids("test", 8), size=16)
    ev = MapsEvaluator(t.photo, t.map, t.labels, PALETTE, batch_size=8)
    scores = ev(_Cheater(t.map))
    assert scores["acc_segm"] == 1.0 and scores["iou_segm"] == 1.0
    assert scores["cycle_a"] < 1e-3 < ev.honest_bound()
    assert scores["rh"] > 0.5 * ev.honest_bound()
    assert scores["sn_0.05"] > scores["sn_0.01"] > 0
