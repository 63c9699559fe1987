"""unpaired.alignment.fit: align() on two tensors, the standardizer, private densities."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unpaired.alignment import Standardizer, align
from unpaired.distances import FlowLRMF, MeanDistance
from unpaired.engine.session import Session
from unpaired.models.transforms import Affine, Shift


def test_standardizer_round_trip_and_units() -> None:
    a, b = 5 + 3 * torch.randn(100, 4), -2 + 3 * torch.randn(80, 4)
    std = Standardizer.fit(a, b)
    torch.testing.assert_close(std.inverse(std(a)), a)
    assert float(torch.cat([std(a), std(b)]).square().mean()) == pytest.approx(1.0, rel=0.2)


def test_align_recovers_a_shift_with_the_mean_distance(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 2, generator=g)
    b = torch.randn(400, 2, generator=g) * 1.0 + torch.tensor([30.0, -10.0])
    with Session.open(tmp_path / "run", progress=False) as s:
        res = align(
            a, b, distance=MeanDistance(), transform=Shift(2), steps=150, lr=0.05, session=s
        )
    moved = res.aligned.mean(0)
    assert torch.allclose(moved, b.mean(0), atol=0.5), moved
    assert res.initial_distance is not None and res.final_distance < 0.05 * res.initial_distance
    assert (tmp_path / "run/checkpoints/align/last.pt").is_file()
    with Session.open(tmp_path / "run", resume=True, progress=False) as s:
        again = align(
            a, b, distance=MeanDistance(), transform=Shift(2), steps=150, lr=0.05, session=s
        )
    assert torch.equal(again.aligned, res.aligned)  # finished fit: reloaded, not retrained


def test_flow_lrmf_fits_its_private_densities_first() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 2, generator=g), torch.randn(64, 2, generator=g) + 1
    dist = FlowLRMF(2, transforms=1, hidden=(8, 8))
    res = align(a, b, distance=dist, transform=Affine(2), steps=4, density_steps=3, progress=False)
    assert list(res.fits) == ["density-source", "density-target", "align"]
    assert torch.isfinite(dist.private_loglik) and res.initial_distance is None
    with pytest.raises(ValueError, match="FlowLRMF for 3 features"):
        align(a, b, distance=FlowLRMF(3), transform=Affine(2), steps=1, progress=False)
