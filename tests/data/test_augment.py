"""data.augment: random integer translations."""

from __future__ import annotations

import torch

from unpaired.data.augment import random_roll, random_shift


def test_random_shift_moves_each_image_by_its_own_offset() -> None:
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # a dot in the centre
    torch.manual_seed(0)
    y = random_shift(x, 2)
    rows, cols = torch.nonzero(y[:, 0])[:, 1:].T
    assert y.sum(dim=(1, 2, 3)).eq(1).all()  # the dot moves, nothing else appears
    assert rows.sub(4).abs().max() <= 2 and cols.sub(4).abs().max() <= 2
    assert len({(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}) > 10
    assert torch.equal(random_shift(x, 0), x)
    x.requires_grad_(True)
    random_shift(x, 1).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_random_shift_with_a_generator_is_reproducible() -> None:
    x = torch.rand(8, 2, 6, 6)
    a = random_shift(x, 1, generator=torch.Generator().manual_seed(3))
    b = random_shift(x, 1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_random_roll_moves_the_whole_batch_alike_and_wraps() -> None:
    x = torch.zeros(5, 1, 4, 4)
    x[:, :, 0, 0] = 1.0
    moved = [random_roll(x, 1, generator=torch.Generator().manual_seed(s)) for s in range(20)]
    spots = set()
    for y in moved:
        where = torch.nonzero(y[:, 0])[:, 1:]
        assert (where == where[:1]).all()  # one offset for the batch
        spots.add(tuple(where[0].tolist()))
    assert spots <= {(r, c) for r in (3, 0, 1) for c in (3, 0, 1)} and len(spots) > 3
    assert torch.equal(random_roll(x, 0), x)
