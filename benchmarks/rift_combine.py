"""Combine per-split ``rift-shapes`` runs into the all-split table (ACC per split, AVG, RD).

The recipe computes RD only from a run that holds all three splits (``split=all``); on a
shared machine the splits and methods are faster as separate runs. This script reads
their ``metrics.json`` (the per-record ACC of every method), merges the records of each
method over the runs, and summarizes them with the recipe's own code
(:func:`unpaired.metrics.guided.summarize`, the recipe's tables).

    python benchmarks/rift_combine.py RUN_DIR [RUN_DIR ...] [--out FILE.json]

Prints the markdown tables; writes ``benchmarks/results/rift_shapes.json`` by default.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from unpaired.metrics.guided import Record, summarize
from unpaired.recipes._rift_report import classifier_table, factor_table, method_table

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    records: dict[str, dict] = {}
    classifier, capacity, configs = None, {}, {}
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
        configs[str(run)] = sorted(metrics["records"])
    summaries = {k: summarize(records[k].values()) for k in ORDER if k in records}
    splits = sorted({key[0] for recs in records.values() for key in recs})
    tables = [method_table(summaries, splits), factor_table(summaries)]
    if classifier:
        tables.append(classifier_table(classifier))
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
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
