from __future__ import annotations

import pytest
import torch

from unpaired.data.synthetic.maps import (
    BUILDING,
    CLASSES,
    LAND,
    MAJOR_ROAD,
    PALETTE,
    PALETTE_RGB,
    PARK,
    ROAD,
    SPLITS,
    WATER,
    labels_to_map,
    maps_splits,
    render_ids,
    render_tiles,
    tile_ids,
)


@pytest.fixture(scope="module")
def tiles():
    return render_ids(tile_ids("val", 48), size=64)


def test_shapes_ranges_and_palette_purity(tiles) -> None:
    assert tiles.photo.shape == (48, 3, 64, 64) and tiles.photo.dtype == torch.float32
    assert tiles.map.shape == (48, 3, 64, 64)
    assert tiles.labels.shape == (48, 64, 64) and tiles.labels.dtype == torch.long
    assert tiles.photo.min() >= -1 and tiles.photo.max() <= 1
    assert tiles.labels.min() >= 0 and tiles.labels.max() < len(CLASSES)
    # Every map pixel is exactly one palette row: the one of its label.
    pixels = tiles.map.permute(0, 2, 3, 1).reshape(-1, 1, 3)
    exact = (pixels == PALETTE[None]).all(-1)
    assert (exact.sum(-1) == 1).all()
    assert torch.equal(exact.float().argmax(-1), tiles.labels.flatten())
    assert torch.equal(tiles.map, labels_to_map(tiles.labels))
    assert torch.equal(PALETTE, torch.tensor(PALETTE_RGB, dtype=torch.float32) / 127.5 - 1)
    # Photos are textured images, not flat colour fields.
    assert (tiles.photo[..., 1:] - tiles.photo[..., :-1]).abs().mean() > 0.03


def test_class_coverage(tiles) -> None:
    counts = torch.bincount(tiles.labels.flatten(), minlength=len(CLASSES)).float()
    share = counts / counts.sum()
    assert (share > 0.03).all(), dict(zip(CLASSES, share.tolist(), strict=True))
    per_tile = torch.stack(
        [(tiles.labels == k).flatten(1).any(1) for k in range(len(CLASSES))], 1
    ).sum(0)
    assert (per_tile >= 4).all()  # every class appears in several tiles, water included


def test_photo_is_aligned_with_labels(tiles) -> None:
    photo, labels = tiles.photo, tiles.labels

    def mean(k: int) -> torch.Tensor:
        return photo.permute(1, 0, 2, 3)[:, labels == k].mean(1)

    water, park, road, land = mean(WATER), mean(PARK), mean(ROAD), mean(LAND)
    assert water.sum() < land.sum() and water[2] > water[0]  # dark, blue-green
    assert park[1] - park[0] > 0.1 and park[1] - park[0] > land[1] - land[0] + 0.05  # green
    assert road.sum() < land.sum() - 0.3  # asphalt is darker than sidewalks and yards

    # The photo predicted from the labels (each pixel its class's mean colour) correlates
    # best with the real photo at zero shift: photo and labels are pixel-aligned.
    means = torch.stack([mean(k) for k in range(len(CLASSES))])  # (K, 3)
    predicted = means[labels].permute(0, 3, 1, 2)

    def corr(dy: int, dx: int) -> float:
        p = photo[:, :, 8 + dy : 56 + dy, 8 + dx : 56 + dx].flatten()
        q = predicted[:, :, 8:56, 8:56].flatten()
        return torch.corrcoef(torch.stack([p, q]))[0, 1].item()

    best = corr(0, 0)
    assert best > 0.4
    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert corr(dy, dx) < best
    for dy, dx in ((2, 0), (-2, 0), (0, 2), (0, -2)):
        assert corr(dy, dx) < best - 0.02


def test_maps_to_photos_is_one_to_many(tiles) -> None:
    # The map paints every building the same colour; the photos' roofs vary widely.
    roofs = [
        tiles.photo[i][:, tiles.labels[i] == BUILDING].mean(1)
        for i in range(len(tiles))
        if (tiles.labels[i] == BUILDING).sum() > 50
    ]
    assert len(roofs) >= 10
    spread = torch.stack(roofs).std(0)
    assert spread.max() > 0.15
    # Major and minor roads both exist and both look like asphalt.
    assert (tiles.labels == MAJOR_ROAD).any() and (tiles.labels == ROAD).any()


def test_tiles_depend_only_on_their_id() -> None:
    ids = tile_ids("test", 6)
    whole = render_ids(ids, size=32)
    part = render_ids(ids[3:5], size=32, chunk=1)
    assert torch.equal(whole.photo[3:5], part.photo)
    assert torch.equal(whole.labels[3:5], part.labels)
    assert torch.equal(whole[3:5].ids, part.ids)
    assert len(whole[-1]) == 1 and torch.equal(whole[-1].photo, whole.photo[-1:])
    # Different tiles differ.
    assert (whole.photo[0] - whole.photo[1]).abs().mean() > 0.1


def test_render_tiles_is_deterministic_by_generator() -> None:
    a = render_tiles(3, size=32, generator=torch.Generator().manual_seed(5))
    b = render_tiles(3, size=32, generator=torch.Generator().manual_seed(5))
    c = render_tiles(3, size=32, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.photo, b.photo) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.ids, b.ids) and not torch.equal(a.ids, c.ids)
    assert (a.photo - c.photo).abs().mean() > 0.1
    assert len(render_tiles(0, size=32)) == 0


def test_geometry_is_resolution_independent() -> None:
    ids = tile_ids("val", 4)
    small, large = render_ids(ids, size=64), render_ids(ids, size=128)
    assert large.photo.shape == (4, 3, 128, 128)
    # Pixel (r, c) at 64 px covers pixels 2r..2r+1, 2c..2c+1 at 128 px.
    agree = (small.labels == large.labels[:, ::2, ::2]).float().mean()
    assert agree > 0.9
    down = large.photo.unflatten(2, (64, 2)).unflatten(4, (64, 2)).mean((3, 5))
    assert (down - small.photo).abs().mean() < 0.12


def test_splits_are_disjoint_and_stable() -> None:
    ranges = {
        (split, seed): set(tile_ids(split, 50, seed=seed).tolist())
        for split in SPLITS
        for seed in (0, 1)
    }
    keys = list(ranges)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            same = a[0] == b[0] and not a[0].startswith("train")
            assert (ranges[a] == ranges[b]) if same else not (ranges[a] & ranges[b]), (a, b)
    assert torch.equal(tile_ids("test", 3), tile_ids("test", 10)[:3])

    s = maps_splits(4, n_val=2, n_test=3, size=32, seed=1)
    assert s.photos.shape == (4, 3, 32, 32) and s.maps.shape == (4, 3, 32, 32)
    assert len(s.val) == 2 and len(s.test) == 3
    all_ids = torch.cat([s.photo_ids, s.map_ids, s.val.ids, s.test.ids])
    assert all_ids.unique().numel() == all_ids.numel()
    # Unpaired: no training map is the map of a training photo.
    photo_maps = render_ids(s.photo_ids, size=32).map
    assert torch.equal(render_ids(s.photo_ids, size=32).photo, s.photos)
    assert not (photo_maps[:, None] == s.maps[None]).flatten(2).all(-1).any()
    assert torch.equal(s.test.photo, render_ids(tile_ids("test", 3), size=32).photo)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="size"):
        render_ids(tile_ids("test", 1), size=30)
    with pytest.raises(ValueError, match="size"):
        render_tiles(1, size=8)
    with pytest.raises(ValueError, match="split"):
        tile_ids("training", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        tile_ids("train_maps", 3, seed=-1)
    with pytest.raises(ValueError, match="int64"):
        render_ids(torch.zeros(2, dtype=torch.int32))
    with pytest.raises(ValueError, match="ids"):
        render_ids(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        labels_to_map(torch.full((1, 2, 2), len(CLASSES)))
    with pytest.raises(ValueError, match="n_train"):
        maps_splits(0)
