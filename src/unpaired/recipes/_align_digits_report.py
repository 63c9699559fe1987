"""``align-digits``' report: the accuracy table, the references, the Spearman correlation
of the label-free signals with USPS test accuracy (the "explicit failure signal"), and
the sample grids."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from scipy.stats import spearmanr

from unpaired.data.digits import Labelled
from unpaired.evaluation import predict
from unpaired.report import Figure, Report, Table
from unpaired.viz.images import image_grid


def row_key(r: Mapping[str, Any]) -> str:
    """The metrics key of a row: ``<space>/<method>`` for the affine T (and no
    alignment), ``<space>-<family>/<method>`` for a structured T."""
    if r["T"] in ("affine", "none"):
        return f"{r['space']}/{r['method']}"
    return f"{r['space']}-{r['T']}/{r['method']}"


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); nan for fewer than 3 pairs
    or a constant side."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan
    return float(spearmanr(x, y).statistic)


def failure_signal(rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> Table:
    """Spearman correlation, across rows, between a label-free signal and USPS test
    accuracy: the referee MMD over all rows and per (space, T), and each method's own
    final distance over its rows (spaces x T families). Negative: a larger distance goes
    with a lower accuracy (the signal flags failures)."""
    out: list[list[Any]] = []

    def add(what: str, chosen: list[Mapping[str, Any]], key: str) -> None:
        pairs = [(r[key], r["test"]) for r in chosen if r.get(key) is not None]
        if len(pairs) >= 3:
            x, y = zip(*pairs, strict=True)
            out.append([what, len(pairs), spearman(list(x), list(y))])

    add("referee MMD, all rows", list(rows), "referee")
    for space, t in dict.fromkeys((r["space"], r["T"]) for r in rows if r["T"] != "none"):
        chosen = [r for r in rows if r["space"] == space and r["T"] in (t, "none")]
        add(f"referee MMD, {space} / {t} (incl. no alignment)", chosen, "referee")
    for m in dict.fromkeys(r["method"] for r in rows if r["method"] != "no alignment"):
        add(
            f"own final distance: {labels.get(m, m)}",
            [r for r in rows if r["method"] == m],
            "distance",
        )
    return Table(
        "Explicit failure signal: Spearman rank correlation with USPS test accuracy",
        ["label-free signal (rows)", "rows", "Spearman rho"],
        out,
        note=(
            "Across rows of the table above. referee: multiscale-RBF MMD^2 between "
            "T(USPS hold-out) and MNIST val images (raw pixels, one unit for every row); "
            "own final distance: each method's value on held-out sets (LRMF in nats), "
            "compared only across that method's rows. rho < 0: a larger distance goes with "
            "a lower accuracy, i.e. the signal flags failures without labels."
        ),
    )


def warp_table(rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> Table | None:
    """Where each learned warp went (``r["warp"]``, :func:`~unpaired.recipes._align_digits.
    warp_summary`) next to its accuracy: the diagnosis of a warp that drifts."""
    chosen = [r for r in rows if r.get("warp")]
    if not chosen:
        return None
    keys = ("scale", "anisotropy", "shift_px", "min_slope", "max_slope")
    return Table(
        "Where the warp went (pixel space, warp + tone curve)",
        ["method", "USPS test accuracy", *keys],
        [
            [labels.get(r["method"], r["method"]), r["test"], *(r["warp"][k] for k in keys)]
            for r in chosen
        ],
        note=(
            "scale: sqrt|det A| of the affine part (< 1: the digit shrinks; MNIST digits "
            "sit in a 20/28 box, so about 0.7-0.8 is expected); anisotropy: ratio of A's "
            "singular values; shift_px: translation in pixels; min/max_slope: range of the "
            "tone curve's slopes (1: unchanged intensities)."
        ),
    )


def digits_report(
    rows: Sequence[Mapping[str, Any]],
    refs: Mapping[str, float],
    *,
    spaces: Sequence[str],
    labels: Mapping[str, str],
    families: Mapping[str, str],
    classifier_width: int,
    is_main: bool,
) -> Report:
    """``align-digits``' report: one row per space, T family and method (``rows``: space,
    T, method, test and hold-out accuracy, distance, referee, seconds), the references
    ``refs`` and the failure-signal correlations."""
    columns = ["space", "T", "method", "USPS test accuracy", "USPS hold-out accuracy"]
    table = Table(
        "USPS -> MNIST: accuracy of an MNIST-only classifier on T(USPS test)",
        [*columns, "final distance (held-out)", "referee MMD (held-out)", "train seconds"],
        [
            [
                r["space"],
                families.get(r["T"], "-"),
                labels.get(r["method"], r["method"]),
                r["test"],
                r["holdout"],
                r["distance"],
                r["referee"],
                round(r["seconds"], 1),
            ]
            for r in rows
        ],
        note=(
            "The final T is reported (no selection). Distances are in each method's own "
            "units, on held-out sets (USPS hold-out vs MNIST val); LRMF: nats, ~0 when "
            "aligned. referee: one multiscale MMD^2 in raw pixels for every row. train "
            "seconds: 0 when loaded from a checkpoint (flow LRMF: + its densities, once "
            "per space)."
        ),
    )
    ref_table = Table(
        "References (same classifier architecture)",
        ["images", "accuracy"],
        [[k, v] for k, v in refs.items()],
        note=f"classifier: ImageClassifier width {classifier_width}; MNIST train only unless "
        "named the target oracle (USPS-fit labels, validated on the USPS hold-out).",
    )
    metrics = {
        row_key(r): {
            "test_accuracy": r["test"],
            "holdout_accuracy": r["holdout"],
            "final_distance": r["distance"],
            "referee_mmd": r["referee"],
        }
        for r in rows
    } | {"references": refs}
    for r in rows:
        if r.get("warp"):
            metrics[row_key(r)]["warp"] = dict(r["warp"])
    signal = failure_signal(rows, labels)
    warps = warp_table(rows, labels)
    metrics["failure_signal"] = {r[0]: {"rows": r[1], "spearman": r[2]} for r in signal.rows}
    figures = [
        Figure(f"figures/samples_{s}.png", f"T(USPS test) in {s} space, per method") for s in spaces
    ]
    return Report(
        title="align-digits: USPS -> MNIST with every distance",
        summary=(
            "T learned from unpaired USPS and MNIST digits (16x16) in an autoencoder's "
            "embedding and in pixel space (free affine map, spatial warp + tone curve, "
            "residual conv); scored by an MNIST-only classifier on USPS test."
        ),
        tables=[table, ref_table, signal, *([warps] if warps else [])],
        figures=figures if is_main else [],
        metrics=metrics,
    )


def digits_samples(
    path: Path, space: Any, rows: Sequence[Mapping[str, Any]], test: Labelled
) -> None:
    """One row of ten ``test`` digits (0-9), then one per method (and T family) of
    ``space`` as its T moves them (``space.to_images`` of the moved features)."""
    idx = torch.stack([torch.nonzero(test.labels == d)[0, 0] for d in range(10)])
    grid = [("USPS (input)", test.images[idx])]
    for r in (r for r in rows if r["space"] == space.name):
        moved = predict(r["transform"], space.test[idx], chunk=10)
        name = r["method"] if r["T"] in ("affine", "none") else f"{r['method']} ({r['T']})"
        grid.append((name, space.to_images(moved)))
    image_grid(path, grid)
