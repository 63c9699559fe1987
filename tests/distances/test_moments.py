"""Mean distance and CORAL against direct numpy formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unpaired.distances import coral, mean_distance


def _coral_numpy(a: np.ndarray, b: np.ndarray) -> float:
    d = a.shape[1]
    return float(((np.cov(a, rowvar=False) - np.cov(b, rowvar=False)) ** 2).sum() / (4 * d * d))


def test_mean_distance_matches_numpy() -> None:
    a, b = torch.randn(30, 5, dtype=torch.float64), torch.randn(20, 5, dtype=torch.float64) + 1
    want = np.linalg.norm(a.numpy().mean(0) - b.numpy().mean(0))
    assert mean_distance(a, b).item() == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("dim", [3, 90])  # 90 > N + M exercises the Gram-matrix path
def test_coral_matches_numpy(dim: int) -> None:
    a = torch.randn(30, dim, dtype=torch.float64)
    b = torch.randn(25, dim, dtype=torch.float64) * torch.linspace(
        0.5, 2.0, dim, dtype=torch.float64
    )
    assert coral(a, b).item() == pytest.approx(_coral_numpy(a.numpy(), b.numpy()), rel=1e-10)


def test_samples_are_flattened() -> None:
    a, b = torch.randn(12, 2, 3), torch.randn(10, 2, 3)
    assert coral(a, b) == coral(a.reshape(12, 6), b.reshape(10, 6))
    assert mean_distance(a, b) == mean_distance(a.reshape(12, 6), b.reshape(10, 6))


@pytest.mark.parametrize("fn", [coral, mean_distance])
def test_batched_matches_loop(fn) -> None:  # type: ignore[no-untyped-def]
    a, b = torch.randn(3, 16, 4, dtype=torch.float64), torch.randn(3, 11, 4, dtype=torch.float64)
    want = torch.stack([fn(a[i], b[i]) for i in range(3)])
    torch.testing.assert_close(fn(a, b, batched=True), want)


def test_coral_needs_two_samples_and_matching_batches() -> None:
    with pytest.raises(ValueError, match=r"^a: needs at least 2"):
        coral(torch.randn(1, 3), torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"^b: "):
        coral(torch.randn(2, 8, 3), torch.randn(3, 8, 3), batched=True)
