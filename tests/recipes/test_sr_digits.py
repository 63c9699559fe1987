"""sr-digits: the digit split on MNIST and USPS (end to end: test_image_recipes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unpaired.errors import ConfigError
from unpaired.recipes.sr_digits import Config


@pytest.mark.parametrize("dataset", ["mnist", "usps"])
def test_digit_split_keeps_evaluation_digits_out(shared_data: Path, dataset: str) -> None:
    cfg = Config(dataset=dataset, n_test=300, n_val=200, memory_class=3)
    data = cfg.split(shared_data, torch.Generator().manual_seed(0))
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


def test_bad_digit_splits_are_config_errors(shared_data: Path) -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ConfigError, match=r"memory_class must be a digit id in 0\.\.9"):
        Config(memory_class=10).split(shared_data, g)
    with pytest.raises(ConfigError, match="n_test and n_val"):
        Config(n_test=9000, n_val=2000).split(shared_data, g)
