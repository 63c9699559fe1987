"""Tables and goals of the translation recipes (``cyclegan-maps`` and its relatives).

Rows are ``label -> per-seed score dicts`` from
:class:`unpaired.translation.MapsEvaluator`; cells are ``mean ± std`` over seeds.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from unpaired.report import Table
from unpaired.translation import sn_key

SIGMAS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1)
#: Rows whose goal is compared with the plain CycleGAN row (``"cyclegan"``).
DEFENDED: tuple[str, ...] = ("noise", "guess", "guess-noise")

COLUMNS: tuple[tuple[str, str], ...] = (
    ("acc_segm", "acc segm"),
    ("iou_segm", "IoU segm"),
    ("iou_p2p", "IoU p2p"),
    ("rh", "RH"),
    *((sn_key(s), f"SN({s:g})") for s in SIGMAS),
    ("cycle_a", "cycle error (photo)"),
    ("hidden_rms", "hidden RMS"),
)


def _pm(values: list[float], digits: int) -> str:
    if not values:  # a metric the row does not have (pix2pix: no way back)
        return "—"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def goals(means: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Per defended row: RH and SN(0.05) ratios to CycleGAN (higher = more honest), acc
    and IoU drops, and whether RH and SN are >= 3x lower with drops <= 0.01 (the goal)."""
    base = means.get("cyclegan")
    if base is None:
        return {}
    out: dict[str, Any] = {}
    for r in DEFENDED:
        m = means.get(r)
        if m is None:
            continue
        out[r] = {
            "rh_ratio": base["rh"] / m["rh"] if m["rh"] > 0 else float("inf"),
            "sn_0.05_ratio": base["sn_0.05"] / m["sn_0.05"] if m["sn_0.05"] > 0 else float("inf"),
            "acc_drop": base["acc_segm"] - m["acc_segm"],
            "iou_drop": base["iou_segm"] - m["iou_segm"],
        }
        g = out[r]
        g["met"] = bool(
            g["rh_ratio"] >= 3
            and g["sn_0.05_ratio"] >= 3
            and g["acc_drop"] <= 0.01
            and g["iou_drop"] <= 0.01
        )
    out["any_defended_3x_lower_at_equal_segm"] = any(
        v["met"] for v in out.values() if isinstance(v, dict)
    )
    return out


def val_curve(history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """The validation scores logged during training: [{"step": k, "rh": ..., ...}]."""
    return [
        {"step": h["step"], **{k[5:]: v for k, v in h.items() if k.startswith("eval/")}}
        for h in history
        if "eval/rh" in h
    ]


def tables(
    labels: Mapping[str, str],
    scores: Mapping[str, list[dict[str, float]]],
    curves: Mapping[str, list[list[dict[str, float]]]],
    *,
    n_test: int,
    n_val: int,
    size: int,
    seeds: int,
) -> list[Table]:
    digits = {"acc_segm": 3, "iou_segm": 3, "iou_p2p": 3}
    rows = [
        [
            labels[r],
            *(_pm([x[k] for x in scores[r] if k in x], digits.get(k, 2)) for k, _ in COLUMNS),
        ]
        for r in labels
    ]
    test = Table(
        f"Test tiles ({n_test}, {size}x{size}), mean ± std over {seeds} seed(s)",
        ["model", *(c for _, c in COLUMNS)],
        rows,
        note="RH, SN, cycle error: per-image L2 norms in [-1, 1] units, averaged over "
        "images; hidden RMS: RMS of G(x) - q(G(x)). Lower RH / SN = more honest. IoU p2p: "
        "mean IoU of pix(G_A(map)) against pix(photo), pix = the seed's pix2pix photo -> map "
        "network, frozen; pix2pix has no map -> photo direction (—).",
    )
    steps = max(([c["step"] for c in curves[r][0]] for r in labels), key=len)
    by_step = [
        [
            labels[r],
            *(
                f"{statistics.fmean(run[i]['rh'] for run in curves[r]):.2f} / "
                f"{statistics.fmean(run[i]['acc_segm'] for run in curves[r]):.2f}"
                if all(len(run) > i for run in curves[r])
                else "—"
                for i in range(len(steps))
            ),
        ]
        for r in labels
    ]
    val = Table(
        f"Validation tiles ({n_val}) during training: RH / acc segm, mean over seeds",
        ["model", *(f"step {k}" for k in steps)],
        by_step,
    )
    return [test, val] if steps else [test]
