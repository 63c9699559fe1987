from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unpaired.data.images import read_image, write_image
from unpaired.translation.scores import CycleEvaluator


class _Cheater:
    """A -> B drops the image to a constant but hides it at 1/100 amplitude; B -> A
    reads it back: a perfect cycle through a hidden signal."""

    def translate(self, x: torch.Tensor, direction: str = "a2b", guide=None) -> torch.Tensor:
        return 0.5 + x / 100 if direction == "a2b" else (x - 0.5) * 100


class _Honest:
    """Both ways: the sign of the mean (one bit of class), as a flat image."""

    def translate(self, x: torch.Tensor, direction: str = "a2b", guide=None) -> torch.Tensor:
        return torch.sign(x.mean((1, 2, 3), keepdim=True)).expand_as(x) * 0.5


def _sets() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(6) % 2
    x = torch.rand(6, 1, 8, 8, generator=g) * 0.5 + labels.view(-1, 1, 1, 1) * 0.5 - 0.5
    return x, x.flip(0), labels


def test_a_hidden_signal_gives_a_small_cycle_error_and_a_large_sn() -> None:
    a, b, _ = _sets()
    ev = CycleEvaluator(a, b)
    cheat, honest = ev(_Cheater()), ev(_Honest())
    assert cheat["cycle_a"] < 1e-4 < honest["cycle_a"]
    # noise of sigma on the map comes back 100 times larger: 100 * sigma * sqrt(64)
    assert cheat["sn_a_0.01"] == pytest.approx(100 * 0.01 * 8, rel=0.2)
    assert honest["sn_a_0.01"] == 0.0
    assert ev(_Cheater()) == cheat  # its own seeded noise: repeatable


def test_class_kept_uses_the_target_classifier_and_the_source_labels() -> None:
    a, b, labels = _sets()

    def classifier(x: torch.Tensor) -> torch.Tensor:  # class 1 where the mean is > 0
        m = x.mean((1, 2, 3))
        return torch.stack([-m, m], 1)

    scores = CycleEvaluator(a, b, labels, labels.flip(0), classifier, classifier)(_Honest())
    assert scores["kept_ab"] == 1.0 and scores["kept_ba"] == 1.0
    flipped = CycleEvaluator(a, b, 1 - labels, labels.flip(0), classifier, classifier)(_Honest())
    assert flipped["kept_ab"] == 0.0
    with pytest.raises(ValueError, match="labels_a: expected shape"):
        CycleEvaluator(a, b, labels[:3])


def test_write_image_round_trips_through_read_image(tmp_path: Path) -> None:
    x = torch.linspace(-1, 1, 3 * 4 * 5).reshape(3, 4, 5)
    path = write_image(x, tmp_path / "deep" / "x.png")
    assert torch.allclose(read_image(path), x, atol=1 / 255)
    assert read_image(write_image(x[:1], tmp_path / "g.png"), channels=1).shape == (1, 4, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "g.png"]  # no temp files left
    with pytest.raises(ValueError, match="C 1 or 3"):
        write_image(torch.zeros(2, 4, 4), tmp_path / "bad.png")
