"""Combine per-split ``rift-shapes`` runs into the all-split table (ACC per split, AVG, RD).

The recipe computes RD only from a run that holds all three splits (``split=all``); on a
shared machine the splits and methods are faster as separate runs. This script reads
their ``metrics.json`` (the per-record ACC of every method), merges the records of each
method over the runs, and summarizes them with the recipe's own code
(:func:`unpaired.metrics.guided.summarize`, the recipe's tables).

    python benchmarks/rift_combine.py RUN_DIR [RUN_DIR ...] [--out FILE.json]

Prints the markdown tables; writes ``benchmarks/results/rift_shapes.json`` by default.
The last table is the diagnosis (``metrics["diagnosis"]``, mean over the splits): where
each role's output levels come from (the source's or the guide's level, % of pairs whose
inputs differ), how much the output moves when only the guide changes, and RIFT's last
logged cycle L1 (``gen/cycle_*`` / the cycle weight, from ``log.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from unpaired.metrics.guided import Record, summarize
from unpaired.recipes._rift_report import LABELS, classifier_table, factor_table, method_table
from unpaired.report import Table

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "rift_shapes.json"
ORDER = (
    "rift",
    "rift-no-capacity",
    "rift-no-honesty",
    "stargan",
    "munit",
    "cyclegan",
    "rand",
    "chance",
    "oracle",
)


ORIGINS = (
    "shared_from_source",
    "shared_from_guide",
    "target_from_source",
    "target_from_guide",
    "source_from_source",
)


def cycle_l1(run: Path) -> dict[str, list[float]]:
    """RIFT models' last logged cycle L1 per domain ([-1, 1] px), by method, over splits."""
    conf = run / "config.yaml"
    found = re.search(
        r"^\s*cycle:\s*([0-9.eE+-]+)\s*$", conf.read_text() if conf.is_file() else "", re.M
    )
    weight = float(found.group(1)) if found else 10.0
    last: dict[str, dict] = {}
    log = run / "log.jsonl"
    for line in log.read_text().splitlines() if log.is_file() else []:
        row = json.loads(line)
        if str(row.get("model", "")).startswith("rift") and "gen/cycle_a" in row:
            last[row["model"]] = row
    out: dict[str, list[float]] = {}
    for model, row in last.items():
        method = model.rsplit("-", 1)[0]
        out.setdefault(method, []).append((row["gen/cycle_a"] + row["gen/cycle_b"]) / 2 / weight)
    return out


def diagnosis_table(diagnosis: dict[str, dict], cycles: dict[str, list[float]]) -> Table:
    cols = ["method", *[f"{k} (%)" for k in ORIGINS], "guide effect (L1)", "cycle L1", "mean abs s"]
    rows = []
    for method in ORDER:
        cells = [v for k, v in diagnosis.items() if k.rsplit("/", 1)[0] == method]
        if not cells:
            continue

        def mean(key: str, cells: list = cells) -> str:
            vals = [c[key] for c in cells if key in c]
            return f"{sum(vals) / len(vals):.3g}" if vals else "-"

        cyc = cycles.get(method)
        rows.append(
            [
                LABELS.get(method, method),
                *[mean(k) for k in ORIGINS],
                mean("guide_effect_l1"),
                f"{sum(cyc) / len(cyc):.3g}" if cyc else "-",
                mean("mean_abs_s"),
            ]
        )
    return Table("Diagnosis: where the output levels come from (mean over splits)", cols, rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    records: dict[str, dict] = {}
    classifier, capacity, configs, diagnosis, cycles = None, {}, {}, {}, {}
    for run in args.runs:
        m = json.loads((run / "metrics.json").read_text())
        metrics = m.get("metrics", m)
        for method, rows in metrics["records"].items():
            for r in rows:  # one record per (split, direction, factor); later runs don't duplicate
                records.setdefault(method, {})[(r["split"], r["direction"], r["factor"])] = Record(
                    **r
                )
        classifier = classifier or metrics.get("classifier")
        capacity.update(metrics.get("capacity", {}))
        diagnosis.update(metrics.get("diagnosis", {}))
        for method, vals in cycle_l1(run).items():
            cycles.setdefault(method, []).extend(vals)
        configs[str(run)] = sorted(metrics["records"])
    summaries = {k: summarize(records[k].values()) for k in ORDER if k in records}
    splits = sorted({key[0] for recs in records.values() for key in recs})
    tables = [method_table(summaries, splits), factor_table(summaries)]
    if classifier:
        tables.append(classifier_table(classifier))
    if diagnosis:
        tables.append(diagnosis_table(diagnosis, cycles))
    for t in tables:
        print(t.to_markdown())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/rift_combine.py "
                + " ".join(str(r) for r in args.runs),
                "runs": configs,
                "summaries": summaries,
                "classifier": classifier,
                "capacity": capacity,
                "diagnosis": diagnosis,
                "cycle_l1": cycles,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
