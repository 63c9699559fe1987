"""align-digits: the honest split, and an end-to-end run on USPS and MNIST with tiny models."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unpaired.recipes.runner import run_recipe


@pytest.mark.slow
def test_tiny_run_reports_every_method_in_both_spaces(shared_data: Path, tmp_path: Path) -> None:
    methods = ("mean", "adversarial", "flow-lrmf")
    out = run_recipe(
        "align-digits",
        out=tmp_path / "run",
        data_dir_option=str(shared_data),
        overrides={
            "methods": methods,
            "classifier.steps": 30,
            "autoencoder.steps": 20,
            "density.steps": 5,
            "embedding.steps": 5,
            "pixel.steps": 5,
            "warp.steps": 5,
            "conv.steps": 5,
            "critic_hidden": 32,
            "latent": 8,
            "ae_width": 8,
            "classifier_width": 8,
            "eval_points": 100,
        },
        threads=1,
        progress=False,
    )
    table = out.report.tables[0]
    labels = (
        "mean",
        "adversarial (min-max, logistic critic)",
        "flow LRMF (MAF density)",
    )
    want = [("embedding", "-", "no alignment")]
    want += [("embedding", "affine (D x D)", m) for m in labels]
    want += [("pixel", "-", "no alignment")]
    for family in ("affine (D x D)", "warp + tone curve"):
        want += [("pixel", family, m) for m in labels]
    # the residual conv runs conv_methods only (and could not run flow LRMF: no log-det)
    want += [("pixel", "residual conv", "adversarial (min-max, logistic critic)")]
    assert [(r[0], r[1], r[2]) for r in table.rows] == want
    for r in table.rows:
        assert 0.0 <= r[3] <= 1.0 and 0.0 <= r[4] <= 1.0
        assert r[5] is None or math.isfinite(r[5])
        assert math.isfinite(r[6]) and r[6] >= 0  # the referee MMD of every row
    m = out.report.metrics
    assert set(m["references"]) == {
        "MNIST val (target domain)",
        "MNIST val, autoencoded",
        "source only (= no alignment): MNIST classifier on USPS test",
        "target oracle: classifier trained on USPS labels, USPS test",
    }
    assert (
        m["references"]["source only (= no alignment): MNIST classifier on USPS test"]
        == (m["pixel/no alignment"]["test_accuracy"])
    )
    assert m["embedding/flow-lrmf"]["final_distance"] is not None
    assert m["pixel-warp/flow-lrmf"]["final_distance"] is not None
    assert "pixel-conv/flow-lrmf" not in m
    signal = m["failure_signal"]
    assert signal["referee MMD, all rows"]["rows"] == len(table.rows)
    assert -1.0 <= signal["referee MMD, all rows"]["spearman"] <= 1.0
    for space in ("embedding", "pixel"):
        assert (tmp_path / f"run/figures/samples_{space}.png").read_bytes()[:4] == b"\x89PNG"
    # flow LRMF's private densities are fit once per space, shared by the T families
    assert (tmp_path / "run/checkpoints/pixel/density-source/last.pt").is_file()
    assert not (tmp_path / "run/checkpoints/pixel-warp/density-source").exists()
    # every declared claim finds its metric (recipes/_claims_table.py)
    assert [v.label for v in out.verdicts if v.detail.startswith("no metric")] == [
        "pixel: dual adversarial, warp T beats no alignment (USPS test accuracy)",
        "embedding: dual adversarial beats min-max adversarial (accuracy)",
    ]  # dual-rbf is not in methods


def test_spearman_and_the_failure_signal_table() -> None:
    from unpaired.recipes._align_digits_report import failure_signal, spearman

    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert math.isnan(spearman([1, 2], [2, 1]))
    rows = [
        {
            "space": "pixel",
            "T": "none",
            "method": "no alignment",
            "test": 0.9,
            "referee": 0.1,
            "distance": None,
        },
        *(
            {"space": "pixel", "T": "warp", "method": m, "test": acc, "referee": ref, "distance": d}
            for m, acc, ref, d in (
                ("mmd", 0.8, 0.2, 1.0),
                ("dual-rbf", 0.5, 0.5, 2.0),
                ("flow-lrmf", 0.95, 0.05, 0.1),
            )
        ),
    ]
    table = failure_signal(rows, {})
    got = {r[0]: (r[1], r[2]) for r in table.rows}
    assert got["referee MMD, all rows"] == (4, pytest.approx(-1.0))
    assert "own final distance: mmd" not in got  # one row per method: no correlation
