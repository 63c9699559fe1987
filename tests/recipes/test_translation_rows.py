"""The translation recipes' shared rows: CycleGAN variants, MUNIT + cycle, pix2pix on maps,
and IoU p2p."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from unpaired.data.synthetic.maps import PALETTE, maps_splits
from unpaired.errors import ConfigError
from unpaired.recipes._translation import (
    ROWS,
    Nets,
    iou_p2p,
    make_translator,
    maps_munit,
    maps_pix2pix,
)
from unpaired.translation import MUNIT, Pix2Pix
from unpaired.translation.cyclegan import CycleGAN

TINY = Nets(
    width=4, blocks=1, critic_width=4, critic_layers=1, munit_width=4, munit_blocks=1, munit_mlp=8
)


@pytest.mark.parametrize("row", list(ROWS))
def test_every_row_builds_its_task_with_its_defenses(row: str) -> None:
    torch.manual_seed(0)
    task = make_translator(row, TINY, 1, 3)
    if row == "munit-cycle":
        assert isinstance(task, MUNIT) and task.cycle_weight == 10.0
        return
    assert isinstance(task, CycleGAN)
    assert task.noise_std == (0.1 if "noise" in row else 0.0)
    assert task.guess_weight == (2.0 if "guess" in row else 0.0)
    assert task.identity == 0.0  # 1 vs 3 channels: no identity loss
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    assert task.translate(x).shape == (2, 3, 16, 16)
    with pytest.raises(ConfigError, match="unknown or no rows"):
        make_translator("cyclegan-2", TINY, 1, 1)


def test_maps_rows_and_iou_p2p() -> None:
    torch.manual_seed(0)
    data = maps_splits(8, n_val=2, n_test=4, size=16, seed=0)
    nets = SimpleNamespace(gen_width=4, n_blocks=1, critic_width=4, critic_layers=1)
    cfg = SimpleNamespace(size=16, batch_size=2, nets=nets)
    munit, batches = maps_munit(cfg, data)
    assert isinstance(munit, MUNIT) and set(batches.sample(torch.Generator())) == {"a", "b"}
    pix, pairs = maps_pix2pix(cfg, data)
    assert isinstance(pix, Pix2Pix)
    photo, map_ = pairs.sample(torch.Generator().manual_seed(0))
    assert photo.shape == map_.shape == (2, 3, 16, 16)
    # the pairs are the training photos with their own maps (palette images)
    assert all(any(torch.equal(x, p) for p in data.photos) for x in photo)
    assert torch.cdist(map_.permute(0, 2, 3, 1).reshape(-1, 3), PALETTE).min(1).values.max() < 1e-3
    pix.eval()
    munit.eval()

    class Truth:  # map -> the true photo of that test tile
        def translate(self, x, direction="a2b", guide=None):
            return data.test.photo

    # with the true photos, IoU p2p compares pix(photo) with itself: 1
    assert iou_p2p(pix, Truth(), data.test.map, data.test.photo) == 1.0
    assert 0 <= iou_p2p(pix, munit, data.test.map, data.test.photo) <= 1
