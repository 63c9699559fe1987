"""sr-digits: the digit split on MNIST and USPS and the critic augmentation (end to
end: test_image_recipes.py)."""

from __future__ import annotations

import pytest
import torch

from unpaired.recipes import _images
from unpaired.recipes.base import RunContext
from unpaired.recipes.sr_digits import Config


@pytest.mark.parametrize("dataset", ["mnist", "usps"])
def test_digit_split_keeps_evaluation_digits_out(data_ctx: RunContext, dataset: str) -> None:
    cfg = Config(dataset=dataset, n_test=300, n_val=200, memory_class=3)
    data = _images.digits_data(cfg, data_ctx)
    assert data.test.images.shape[1:] == (1, 32, 32) and len(data.test) == 300
    assert 3 not in data.inputs.labels.tolist()
    assert set(data.biased_memories.labels.tolist()) == {3}
    assert set(data.memory_pool.labels.tolist()) == set(range(10))
    total = {"mnist": 10000, "usps": 9298}[dataset]
    n_inputs_all = len(data.classifier_train) - len(data.memory_pool)
    assert len(data.classifier_train) + 300 + 200 == total  # evaluation digits stay out
    assert n_inputs_all >= len(data.inputs)
    # the held-out sets are disjoint from what the classifier and generators train on
    train = {bytes(r.numpy().tobytes()) for r in data.classifier_train.images.flatten(1)}
    held = [
        bytes(r.numpy().tobytes())
        for r in torch.cat([data.val.images, data.test.images]).flatten(1)
    ]
    assert sum(h in train for h in held) <= 2  # identical duplicates in the dataset at most


def test_random_shift_moves_each_image_by_its_own_offset() -> None:
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # a dot in the centre
    torch.manual_seed(0)
    y = _images.random_shift(x, 2)
    rows, cols = torch.nonzero(y[:, 0])[:, 1:].T
    assert y.sum(dim=(1, 2, 3)).eq(1).all()  # the dot moves, nothing else appears
    assert rows.sub(4).abs().max() <= 2 and cols.sub(4).abs().max() <= 2
    assert len({(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}) > 10
    assert torch.equal(_images.random_shift(x, 0), x)
    x.requires_grad_(True)
    _images.random_shift(x, 1).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
