"""sr-digits: the digit split, the critic augmentation, and an end-to-end run on MNIST
and USPS with tiny networks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from unpaired.engine.rng import mix
from unpaired.recipes import _images
from unpaired.recipes.runner import run_recipe
from unpaired.recipes.sr_digits import Config

TINY = {
    "nets.generator_width": 4,
    "nets.generator_blocks": 1,
    "nets.critic_width": 4,
    "nets.decoder_width": 4,
    "nets.classifier_width": 4,
    "train.steps": 3,
    "supervised.steps": 2,
    "classifier.steps": 2,
    "betas": (0.05,),
    "n_test": 60,
    "n_val": 40,
    "grid_examples": 4,
}


class _Ctx:
    def __init__(self, root: Path) -> None:
        self.root = root

    def data_root(self) -> Path:
        return self.root

    def generator(self, stream: str) -> torch.Generator:
        return torch.Generator().manual_seed(mix(0, *stream.encode()))


@pytest.mark.parametrize("dataset", ["mnist", "usps"])
def test_digit_split_keeps_evaluation_digits_out(shared_data: Path, dataset: str) -> None:
    cfg = Config(dataset=dataset, n_test=300, n_val=200, memory_class=3)
    data = _images.digits_data(cfg, _Ctx(shared_data))
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


@pytest.mark.slow
def test_sr_digits_recipe_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    outcome = run_recipe(
        "sr-digits",
        out=tmp_path,
        overrides=TINY,
        threads=1,
        progress=False,
        data_dir_option=str(shared_data),
    )
    report = outcome.report
    assert outcome.status == "completed" and report is not None
    main, sweep, classifier = report.tables
    assert [r[1] for r in main.rows] == [
        "paired targets",
        "every digit (unbiased)",
        "digit 8 only",
        "digit 8 only",
    ]
    assert report.metrics["chosen_beta"] == 0.05 and [r[0] for r in sweep.rows] == [0.05]
    for row in main.rows:
        assert all(math.isfinite(v) and v >= 0 for v in row[3:8])
        assert 0 <= row[5] <= 1 and 0 <= row[6] <= 1  # rates
    assert classifier.rows[0][1] == 10 and 0 <= classifier.rows[0][2] <= 1
    fits = report.metrics["test"]
    assert set(fits) == {"supervised", "unbiased", "biased", "parametric_decoder"}
    assert "test_decoder_psnr" in fits["parametric_decoder"]
    assert (tmp_path / "figures" / "grid.png").exists()
