"""Dual vs min-max alignment on ``align-toy``: steps to converge and oscillation, over seeds.

    python benchmarks/alignment.py [--quick] [--seeds S] [--steps N] [--out PATH]

Runs the ``align-toy`` recipe (the engine, as users run it) on the methods that compare
the dual adversarial distance with min-max training of the same critic family:

* shift problem, linear logistic critic: ``linear-dual`` (min-min) vs ``linear-minmax``
  (alternating gradient steps on the same L2-regularized objective), with
  ``linear-mean`` (difference of means) as the closed-form reference; at two critic L2
  weights ``lam`` (0.1: the recipe's default, a weakly regularized critic; 1.0: a
  strongly regularized one);
* affine problem: ``dual-rbf`` (kernel dual) vs ``minmax-logistic`` (MLP critic), with
  ``mmd`` (same RBF kernel as the kernel dual) as the closed-form reference.

Each method is trained on ``--seeds`` independent data sets and initialisations. Per
method the JSON holds, over seeds: the median number of steps until the error
``RMS(T(a) - T*(a)) / spread(B)`` first reaches the recipe's threshold (0.1) and until it
stays below it to the last step ("settle"; seeds that never settle count as infinite, so
the median is ``null`` when more than half never settle), how many seeds settle, the
median oscillation (std of the error over the last 20% of evaluations), the median final
error, and the median training speed (steps per second of all seeds together, from
``log.jsonl``; the machine's load is recorded in ``meta``). The goal: the dual settles
on every seed where min-max oscillates.

Writes ``benchmarks/results/alignment.json`` (default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from unpaired.engine import read_log
from unpaired.recipes.runner import run_recipe

ROOT = Path(__file__).resolve().parent
SETTINGS = (
    {
        "name": "lam=0.1",
        "lam": 0.1,
        "methods": (
            "minmax-logistic",
            "linear-dual",
            "linear-minmax",
            "linear-mean",
            "dual-rbf",
            "mmd",
        ),
    },
    {"name": "lam=1.0", "lam": 1.0, "methods": ("linear-dual", "linear-minmax")},
)


def _median_steps(values: list[int | None]) -> float | None:
    """Median with ``None`` (never) as +inf; ``None`` when the median itself is infinite."""
    ordered = sorted(float("inf") if v is None else float(v) for v in values)
    med = statistics.median(ordered)
    return None if med == float("inf") else med


def _summarize(metrics: dict[str, Any], log: list[dict[str, Any]], method: str) -> dict[str, Any]:
    m = metrics[method]
    speeds = [
        r["time/steps_per_s"] for r in log if r["model"] == method and "time/steps_per_s" in r
    ]
    return {
        "seeds": len(m["reach_steps"]),
        "reach_steps": m["reach_steps"],
        "settle_steps": m["settle_steps"],
        "reach_median": _median_steps(m["reach_steps"]),
        "settle_median": _median_steps(m["settle_steps"]),
        "settled": sum(s is not None for s in m["settle_steps"]),
        "oscillation_median": statistics.median(m["oscillations"]),
        "final_error_median": statistics.median(m["final_errors"]),
        "steps_per_s_median": statistics.median(speeds) if speeds else None,
    }


def run_setting(
    setting: dict[str, Any], *, seeds: int, steps: int, threads: int, out: Path
) -> dict[str, Any]:
    t0 = time.perf_counter()
    outcome = run_recipe(
        "align-toy",
        out=out,
        overrides={
            "methods": setting["methods"],
            "seeds": seeds,
            "lam": setting["lam"],
            "train.steps": steps,
        },
        threads=threads,
        progress=False,
    )
    assert outcome.report is not None, outcome.message
    log = read_log(out / "log.jsonl")
    methods = {m: _summarize(outcome.report.metrics, log, m) for m in setting["methods"]}
    return {"lam": setting["lam"], "seconds": time.perf_counter() - t0, "methods": methods}


def _goal(settings: dict[str, Any]) -> dict[str, Any]:
    goal = {}
    for name, s in settings.items():
        ms = s["methods"]
        for dual, minmax in (("linear-dual", "linear-minmax"), ("dual-rbf", "minmax-logistic")):
            if dual in ms and minmax in ms:
                d, m = ms[dual], ms[minmax]
                goal[f"{name}: {dual} vs {minmax}"] = {
                    "dual_settled": f"{d['settled']}/{d['seeds']}",
                    "minmax_settled": f"{m['settled']}/{m['seeds']}",
                    "settle_median_dual": d["settle_median"],
                    "settle_median_minmax": m["settle_median"],
                    "oscillation_ratio_minmax_over_dual": m["oscillation_median"]
                    / d["oscillation_median"],
                    "met": d["settled"] == d["seeds"]
                    and m["oscillation_median"] > d["oscillation_median"],
                }
    return goal


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="3 seeds, 1500 steps")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "alignment.json")
    args = p.parse_args()
    seeds, steps = (3, 1500) if args.quick else (args.seeds, args.steps)
    start = time.time()
    result: dict[str, Any] = {
        "meta": {
            "command": "python benchmarks/alignment.py" + (" --quick" if args.quick else ""),
            "seeds": seeds,
            "steps": steps,
            "threads": args.threads,
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_start": os.getloadavg(),
        },
        "settings": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for setting in SETTINGS:
            print(f"{setting['name']}: {', '.join(setting['methods'])} x {seeds} seeds", flush=True)
            result["settings"][setting["name"]] = run_setting(
                setting,
                seeds=seeds,
                steps=steps,
                threads=args.threads,
                out=Path(tmp) / setting["name"],
            )
    result["goal"] = _goal(result["settings"])
    result["meta"]["loadavg_end"] = os.getloadavg()
    result["meta"]["total_s"] = time.time() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for k, v in result["goal"].items():
        print(k, json.dumps(v))
    print(f"wrote {args.out} in {result['meta']['total_s']:.0f} s")


if __name__ == "__main__":
    main()
