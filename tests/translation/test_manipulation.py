from __future__ import annotations

import pytest
import torch

from unpaired.data.digits import random_scale
from unpaired.data.synthetic.font_digits import render, sample_attributes
from unpaired.translation.manipulation import domain_discrepancy, evaluate_manipulation, make_probe
from unpaired.translation.puppetgan import PuppetData
from unpaired.viz.manipulation import manipulation_grids, mosaic


@pytest.fixture(scope="module")
def probe():
    g = torch.Generator().manual_seed(0)
    attrs = sample_attributes(60, generator=g)
    real = render(attrs) * 2 - 1  # stand-ins for real digits, with known classes
    return make_probe(real, attrs["digit"], "rotation", generator=g, groups=10, per_group=4)


def _oracle(x: torch.Tensor) -> torch.Tensor:
    """A constant "classifier": every image is read as a 0."""
    return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 10).float()


def test_the_trivial_manipulators_score_as_defined(probe) -> None:
    ident = evaluate_manipulation(lambda a, b: a, _oracle, probe)
    ref = evaluate_manipulation(lambda a, b: b, _oracle, probe)
    assert ident["V_rest"] == 0.0  # the output ignores the reference
    assert abs(ident["r_attr"]) < 0.5
    assert ref["r_attr"] == pytest.approx(1.0) and ref["r_rest"] == pytest.approx(1.0)
    assert ref["V_rest"] > 0.05  # references differ in everything but the AoI
    assert ident["Acc"] == pytest.approx(float((probe.labels == 0).float().mean()))
    shapes = (probe.group_refs.shape, probe.refs.shape)
    assert shapes == ((10, 4, 1, 32, 32), (60, 1, 32, 32))


def test_domain_discrepancy_is_zero_for_one_set(probe) -> None:
    j = domain_discrepancy(probe.real, probe.real, "size")
    assert j["J_attr"] == pytest.approx(0, abs=1e-9) and j["J_rest"] == pytest.approx(0, abs=1e-9)


def test_puppet_data_batches_and_random_scale() -> None:
    real = torch.rand(10, 1, 32, 32) * 2 - 1
    batch = PuppetData(real, "size", batch_size=4).sample(torch.Generator().manual_seed(0))
    assert set(batch) == {"a", "b1", "b2", "b3"} and all(
        v.shape == (4, 1, 32, 32) for v in batch.values()
    )
    assert batch["b1"].min() >= -1 and batch["b1"].max() <= 1
    x = torch.zeros(2, 1, 32, 32)
    x[..., 8:24, 8:24] = 1
    small = random_scale(x, 0.5, 0.5, generator=torch.Generator())
    assert float(small.sum()) == pytest.approx(float(x.sum()) / 4, rel=0.05)


def test_mosaic_layout_and_grid_file(tmp_path) -> None:
    reals, refs = torch.rand(3, 1, 4, 4), torch.rand(2, 1, 4, 4)
    outs = torch.rand(2, 3, 1, 4, 4)
    m = mosaic(reals, refs, outs)
    assert m.shape == (3 * 4 + 1, 4 * 4 + 1)
    assert torch.equal(m[:4, 5:9], reals[0, 0]) and torch.equal(m[5:9, :4], refs[0, 0])
    assert torch.equal(m[9:13, 13:17], outs[1, 2, 0])
    path = manipulation_grids(tmp_path / "g.png", reals, refs, {"m1": outs, "m2": outs})
    assert path.is_file() and path.stat().st_size > 0
