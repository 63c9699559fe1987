from __future__ import annotations

import math

import pytest
import torch

from unpaired.data.synthetic.maps import PALETTE, render_ids, tile_ids
from unpaired.metrics.honesty import (
    SIGMAS,
    cycle_error,
    hidden_signal,
    label_preservation,
    p2p_scores,
    palette_labels,
    quantize_to_palette,
    reconstruction_honesty,
    segm_scores,
    segmentation_scores,
    sensitivity_to_noise,
    translated_labels,
)

EPS = 1 / 64  # amplitude of the hidden code, relative to the detail it encodes


@pytest.fixture(scope="module")
def tiles():
    return render_ids(tile_ids("test", 6), size=32)


def _cheaters():
    """A photo -> map translator that hides the photo in low-amplitude bits of its map,
    and the map -> photo translator that decodes them: a perfect, dishonest cycle."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        q = quantize_to_palette(x, PALETTE)
        return q + EPS * (x - q)  # looks like the map, off by < EPS * 2 per value

    def backward(y: torch.Tensor) -> torch.Tensor:
        q = quantize_to_palette(y, PALETTE)
        return q + (y - q) / EPS

    return forward, backward


def test_quantize_snaps_to_the_nearest_colour() -> None:
    labels = torch.randint(len(PALETTE), (3, 5, 7), generator=torch.Generator().manual_seed(0))
    clean = PALETTE[labels].permute(0, 3, 1, 2)
    noisy = clean + 0.02 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))
    assert torch.equal(palette_labels(noisy, PALETTE), labels)
    assert torch.equal(quantize_to_palette(noisy, PALETTE), clean)
    assert torch.allclose(hidden_signal(noisy, PALETTE), noisy - clean)
    # Hand-made: a two-colour palette, a pixel just on either side of the midpoint.
    pal = torch.tensor([[0.0], [1.0]])
    x = torch.tensor([0.49, 0.51, -3.0, 7.0]).view(1, 1, 2, 2)
    assert palette_labels(x, pal).tolist() == [[[0, 1], [0, 1]]]
    with pytest.raises(ValueError, match="palette"):
        palette_labels(noisy, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="images"):
        quantize_to_palette(noisy[0], PALETTE)


def test_rh_is_zero_for_honest_pairs(tiles) -> None:
    maps = tiles.map

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t.clone()

    assert reconstruction_honesty(ident, ident, maps, PALETTE).item() == 0.0
    # A lossy but honest pair: the translation is an exact palette image, so the
    # reconstruction cannot use anything quantisation would remove.
    colours = torch.rand(len(PALETTE), 3, generator=torch.Generator().manual_seed(2)) * 2 - 1

    def to_map(x: torch.Tensor) -> torch.Tensor:
        return quantize_to_palette(x, PALETTE)

    def to_photo(y: torch.Tensor) -> torch.Tensor:
        return colours[palette_labels(y, PALETTE)].permute(0, 3, 1, 2)

    per_image = reconstruction_honesty(
        to_map, to_photo, tiles.photo, PALETTE, reduction="none", batch_size=4
    )
    assert per_image.shape == (6,) and per_image.abs().max() == 0.0
    assert cycle_error(to_map, to_photo, tiles.photo) > 1.0  # lossy, yet honest


def test_rh_is_large_for_a_generator_hiding_a_code(tiles) -> None:
    forward, backward = _cheaters()
    x = tiles.photo
    y = forward(x)
    # The hidden code is invisible: the translation is within 2 * EPS of a clean map ...
    assert (y - quantize_to_palette(y, PALETTE)).abs().max() <= 2 * EPS + 1e-6
    # ... and the cycle is perfect, until the code is quantised away.
    assert cycle_error(forward, backward, x).item() < 1e-3
    rh = reconstruction_honesty(forward, backward, x, PALETTE, reduction="none", batch_size=4)
    expected = (x - quantize_to_palette(x, PALETTE)).flatten(1).norm(dim=1)
    assert torch.allclose(rh, expected, atol=1e-3)
    assert rh.mean() > 5.0  # in [-1, 1] units over 3 x 32 x 32 values


def test_sn_zero_for_input_blind_backward_and_grows_with_sigma(tiles) -> None:
    x = tiles.photo

    def forward(t: torch.Tensor) -> torch.Tensor:
        return torch.tanh(t)

    def blind(y: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(y) + 0.3

    g = torch.Generator().manual_seed(0)
    assert torch.equal(sensitivity_to_noise(forward, blind, x, generator=g), torch.zeros(4))
    k = 5.0

    def loud(y: torch.Tensor) -> torch.Tensor:
        return k * y

    sn = sensitivity_to_noise(forward, loud, x, generator=torch.Generator().manual_seed(0))
    assert sn.shape == (len(SIGMAS),)
    assert (sn.diff() > 0).all()
    dim = x[0].numel()  # E||z|| ~ sqrt(D) for z ~ N(0, I_D)
    for value, sigma in zip(sn.tolist(), SIGMAS, strict=True):
        assert value == pytest.approx(k * sigma * math.sqrt(dim), rel=0.03)
    # Seeded: the same generator state gives the same curve; batching does not matter.
    again = sensitivity_to_noise(
        forward, loud, x, generator=torch.Generator().manual_seed(0), batch_size=64
    )
    assert torch.equal(sn, again)
    per = sensitivity_to_noise(
        forward, loud, x, (0.1,), generator=torch.Generator().manual_seed(0), reduction="none"
    )
    assert per.shape == (1, 6)
    forward_c, backward_c = _cheaters()  # the decoder of a hidden code is very sensitive
    cheat = sensitivity_to_noise(
        forward_c, backward_c, x, (0.01,), generator=torch.Generator().manual_seed(0)
    )
    assert cheat.item() > 0.5 / EPS * 0.01 * math.sqrt(dim)
    with pytest.raises(ValueError, match="sigmas"):
        sensitivity_to_noise(forward, loud, x, (-0.1,))


def test_cycle_error_and_bad_translators() -> None:
    x = torch.zeros(2, 3, 4, 4)

    def shift(t: torch.Tensor) -> torch.Tensor:
        return t + 0.5

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    assert torch.allclose(
        cycle_error(ident, shift, x, reduction="none"), torch.full((2,), 0.5 * 48**0.5)
    )

    def flat(t: torch.Tensor) -> torch.Tensor:
        return t.flatten(1)

    with pytest.raises(ValueError, match="forward"):
        cycle_error(flat, ident, x)
    with pytest.raises(ValueError, match="x"):
        cycle_error(ident, ident, x[0])
    with pytest.raises(ValueError, match="reduction"):
        cycle_error(ident, ident, x, reduction="sum")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size"):
        cycle_error(ident, ident, x, batch_size=0)


def test_segmentation_scores_by_hand() -> None:
    reference = torch.tensor([[[0, 0, 1], [1, 2, 2]]])
    predicted = torch.tensor([[[0, 1, 1], [1, 2, 0]]])
    s = segmentation_scores(predicted, reference, num_classes=4)
    # class 0: TP 1, FP 1, FN 1; class 1: TP 2, FP 1, FN 0; class 2: TP 1, FP 0, FN 1.
    assert s.pixel_accuracy == pytest.approx(4 / 6)
    assert s.class_iou[:3].tolist() == pytest.approx([1 / 3, 2 / 3, 1 / 2])
    assert math.isnan(s.class_iou[3]) and math.isnan(s.class_accuracy[3])  # absent class
    assert s.mean_iou == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert s.mean_class_accuracy == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert s.confusion.sum() == 6 and s.confusion[2, 0] == 1
    assert set(s.as_dict()) == {"pixel_accuracy", "mean_iou", "mean_class_accuracy"}
    # A class that is only predicted counts with IoU 0.
    s = segmentation_scores(torch.tensor([[[3, 0]]]), torch.tensor([[[0, 0]]]), num_classes=4)
    assert s.mean_iou == pytest.approx((1 / 2 + 0) / 2)
    with pytest.raises(ValueError, match="labels must lie"):
        segmentation_scores(predicted, reference, num_classes=2)
    with pytest.raises(ValueError, match="reference"):
        segmentation_scores(predicted, reference[:, :1], num_classes=4)


def test_segm_and_p2p_scores(tiles) -> None:
    def oracle(x: torch.Tensor) -> torch.Tensor:  # a perfect G_B on these tiles
        rows = [int((tiles.photo == p).flatten(1).all(1).nonzero()[0, 0]) for p in x]
        return tiles.map[rows]

    perfect = segm_scores(oracle, tiles.photo, tiles.labels, PALETTE, batch_size=4)
    assert perfect.pixel_accuracy == 1.0 and perfect.mean_iou == 1.0

    def constant_land(x: torch.Tensor) -> torch.Tensor:
        return PALETTE[0].view(1, 3, 1, 1).expand(x.shape[0], 3, x.shape[2], x.shape[3])

    land = segm_scores(constant_land, tiles.photo, tiles.labels, PALETTE)
    share = (tiles.labels == 0).float().mean().item()
    assert land.pixel_accuracy == pytest.approx(share)
    assert land.class_iou[0].item() == pytest.approx(share)

    # IoU p2p: G_A = identity on maps, pix = identity: generated "photos" segment into
    # exactly their maps; against pix(photos) = a constant map the score drops.
    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    ref = translated_labels(ident, tiles.map, PALETTE, batch_size=2)
    assert torch.equal(ref, tiles.labels)
    assert p2p_scores(ident, ident, tiles.map, ref, PALETTE).mean_iou == 1.0
    worse = p2p_scores(
        ident, ident, tiles.map, translated_labels(constant_land, tiles.photo, PALETTE), PALETTE
    )
    assert worse.mean_iou < 0.5


def test_label_preservation() -> None:
    x = torch.zeros(5, 1, 2, 2)
    x[:, 0, 0, 0] = torch.tensor([0.0, 1.0, 2.0, 1.0, 0.0])

    def classifier(t: torch.Tensor) -> torch.Tensor:  # one-hot logits of the marked value
        return torch.nn.functional.one_hot(t[:, 0, 0, 0].long(), 3).float()

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    labels = torch.tensor([0, 1, 2, 2, 0])
    assert label_preservation(classifier, ident, x, labels, batch_size=2) == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="labels"):
        label_preservation(classifier, ident, x, labels[:3])
