"""Scoring guided translators on 3D Shapes: an oracle and copy baselines, exact ACC / RD."""

from __future__ import annotations

import pytest
import torch

from unpaired.data.shapes3d import SPLITS
from unpaired.data.synthetic.shapes3d import LEVELS, render
from unpaired.evaluation.attributes import (
    FactorTask,
    guided_pairs,
    level_origins,
    oracle_records,
    score_translator,
)
from unpaired.metrics.guided import summarize
from unpaired.models.attributes import FactorClassifier

SIZE = 16


class Lookup:
    """A perfect 'classifier': nearest neighbour in a bank of rendered factor tuples."""

    def __init__(self, tuples: torch.Tensor) -> None:
        self.bank = torch.unique(tuples, dim=0)
        self.images = render(self.bank, SIZE, supersample=1).flatten(1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.bank[torch.cdist(x.flatten(1), self.images).argmin(1)]


def _setup():
    g = torch.Generator().manual_seed(1)
    pairs = {name: guided_pairs(s, 12, g) for name, s in SPLITS.items()}
    tuples = []
    for name, p in pairs.items():
        for direction, (src, guide) in p.items():
            tuples += [src, guide, _truth(SPLITS[name], direction, src, guide)]
    return pairs, Lookup(torch.cat(tuples))


def _truth(split, direction, src, guide):
    keep = torch.tensor(
        [
            split.role(f, direction) == "shared"
            for f in ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
        ]
    )
    return torch.where(keep, src, guide)


def _images(f, size):
    return render(f, size, supersample=1)


@pytest.mark.parametrize("translator", ["oracle", "copy-guide", "copy-source"])
def test_constructed_translators_score_as_expected(translator):
    pairs, lookup = _setup()
    records = []
    for name, split in SPLITS.items():

        def translate(x, direction, guide=None, split=split):
            src, g = lookup.predict(x), lookup.predict(guide)
            if translator == "oracle":
                return render(_truth(split, direction, src, g), SIZE, supersample=1)
            return guide if translator == "copy-guide" else x

        recs, _ = score_translator(translate, lookup, split, pairs[name], _images, SIZE)
        records += recs
    s = summarize(records)
    if translator == "oracle":
        assert s["acc"] == 100.0 and s["rd"] == 0.0
    elif translator == "copy-guide":
        assert s["acc_shared"] == 0.0 and s["acc_target"] == 100.0 and s["acc_source"] == 100.0
        assert s["rd"] == 100.0
    else:
        assert s["acc_shared"] == 100.0 and s["acc_target"] == 0.0 and s["acc_source"] == 0.0
        assert s["rd"] == 100.0


def test_factor_task_losses_and_evaluate():
    net = FactorClassifier(LEVELS, size=16, width=8)
    f = torch.tensor([[0, 7, 3, 5, 2, 0], [4, 1, 9, 7, 0, 14]])
    x = render(f, 16, supersample=1)
    task = FactorTask(net, x, f)
    losses = task.generator_losses((x, f))
    assert sorted(losses) == sorted(
        f"ce_{n}" for n in ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    )
    ev = task.evaluate()
    assert 0 <= ev["acc_min"] <= 1 and len(ev) == 7


class _MisreadsFloor(Lookup):
    """The perfect reader, except that it reads floor hue 0 as 1."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        out = super().predict(x).clone()
        out[:, 0] = torch.where(out[:, 0] == 0, 1, out[:, 0])
        return out


def test_oracle_records_are_100_with_a_perfect_classifier_and_show_its_errors():
    pairs, lookup = _setup()
    records = []
    for name, split in SPLITS.items():
        records += oracle_records(lookup, split, pairs[name], _images, SIZE)
    s = summarize(records)
    assert s["acc"] == 100.0 and s["rd"] == 0.0
    flawed = _MisreadsFloor(lookup.bank)
    records = [
        r for n, sp in SPLITS.items() for r in oracle_records(flawed, sp, pairs[n], _images, SIZE)
    ]
    s = summarize(records)
    assert s["floor_hue_S"] < 100.0 and s["wall_hue_S"] == 100.0 == s["wall_hue_C"]


def test_factor_task_learning_rate_decays_linearly_to_zero():
    from unpaired.engine import TrainConfig

    net = FactorClassifier(LEVELS, size=16, width=4)
    f = torch.zeros(2, 6, dtype=torch.long)
    task = FactorTask(net, torch.zeros(2, 3, 16, 16), f, decay_steps=4)
    opt = task.configure_optimizers(TrainConfig(lr=1.0))["generator"]
    lrs = []
    for step in (1, 3, 5, 9):
        task.on_step_start(step)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="decay_steps"):
        FactorTask(net, torch.zeros(2, 3, 16, 16), f, decay_steps=-1)


def test_level_origins_tell_a_guide_blind_copy_from_a_guide_copy() -> None:
    g = torch.Generator().manual_seed(3)
    split = SPLITS["B"]
    pairs = guided_pairs(split, 40, g)
    src_copy = level_origins(split, pairs, {d: p[0].clone() for d, p in pairs.items()})
    guide_copy = level_origins(split, pairs, {d: p[1].clone() for d, p in pairs.items()})
    for role in ("shared", "source", "target"):
        assert src_copy[f"{role}_from_source"] == 100.0 == guide_copy[f"{role}_from_guide"]
    # the guide differs from the source on a shared factor in some pair, never agrees there
    assert src_copy["shared_from_guide"] == 0.0 == guide_copy["shared_from_source"]
    # half right: a shared factor kept on even pairs, the guide's on odd pairs
    mixed = {}
    for d, (src, guide) in pairs.items():
        mixed[d] = torch.where(torch.arange(len(src))[:, None] % 2 == 0, src, guide)
    out = level_origins(split, pairs, mixed)
    assert 0 < out["shared_from_source"] < 100
    assert out["shared_from_source"] + out["shared_from_guide"] == pytest.approx(100, abs=0.2)
