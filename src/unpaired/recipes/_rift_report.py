"""Tables of ``rift-shapes``: ACC / RD per method beside the paper's, per-factor ACC^S /
ACC^C, and the measuring classifier's clean accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence

from unpaired.data.synthetic.shapes3d import FACTORS
from unpaired.report import Table

#: The thesis talk's Table 1, 3D-Shapes column (3DS ACC, RD) and AVG over its datasets.
PAPER = {
    "rift": (88, 6, 75),
    "stargan": (45, 97, 59),
    "munit": (58, 56, 49),
    "drit": (18, 20, 32),
    "chance": (12, 9, 27),  # the paper's RAND row
}
LABELS = {
    "rift": "RIFT",
    "rift-no-capacity": "RIFT without capacity loss",
    "rift-no-honesty": "RIFT without honesty",
    "stargan": "StarGAN v2-style",
    "munit": "MUNIT",
    "cyclegan": "CycleGAN (no guide)",
    "oracle": "oracle (ground truth, read by f_k)",
    "rand": "RAND (random target image)",
    "chance": "chance (uniform random levels)",
}


def _r(x: float) -> float | str:
    return "n/a" if math.isnan(x) else round(x, 1)


def method_table(summaries: dict[str, dict], splits: Sequence[str]) -> Table:
    cols = [
        "method",
        *[f"ACC {s}" for s in splits],
        "AVG",
        "RD",
        "ACC shared",
        "ACC source-specific",
        "ACC target-specific",
        "paper 3DS ACC",
        "paper RD",
        "paper AVG (3 datasets)",
    ]
    rows = []
    for m, s in summaries.items():
        paper = PAPER.get(m, ("-", "-", "-"))
        rows.append(
            [
                LABELS.get(m, m),
                *[_r(s[f"acc_{x}"]) for x in splits],
                _r(s["acc"]),
                _r(s["rd"]),
                _r(s["acc_shared"]),
                _r(s["acc_source"]),
                _r(s["acc_target"]),
                *paper,
            ]
        )
    note = (
        "ACC in %: shared factors must keep the source's level, specific ones take the "
        "guide's (a source-specific factor: the target domain's frozen level). RD needs "
        "all three splits (each factor shared in one, specific in two). The paper's RAND "
        "row is compared with 'chance'."
    )
    return Table("Manipulation accuracy and relative discrepancy", cols, rows, note=note)


def factor_table(summaries: dict[str, dict]) -> Table:
    cols = ["method", *[f"{f} S / C" for f in FACTORS]]
    rows = [
        [LABELS.get(m, m), *[f"{_r(s[f + '_S'])} / {_r(s[f + '_C'])}" for f in FACTORS]]
        for m, s in summaries.items()
    ]
    return Table("Per-factor ACC where specific (S) / where shared (C)", cols, rows)


def classifier_table(final: dict[str, float]) -> Table:
    cols = ["classifier", *FACTORS, "min"]
    row = [
        "held-out clean accuracy (%)",
        *[_r(100 * final.get(f"eval/acc_{f}", math.nan)) for f in FACTORS],
        _r(100 * final.get("eval/acc_min", math.nan)),
    ]
    return Table("Measuring classifiers f_k: held-out clean accuracy (%), goal >= 99", cols, [row])
