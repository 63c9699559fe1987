"""The docs' table of ``sfm-sequence`` runs: Pretrain vs Pret.+SelfSup side by side.

Reads each run's ``metrics.json`` and ``config.yaml`` (the recipe's own numbers, formatted with
:func:`unpaired.report.fmt`) so the table in docs/SFM.md and docs/RESULTS.md is printed,
never retyped:

    python benchmarks/sfm_sequence_table.py RUN_DIR [RUN_DIR ...]

One error line naming the file and exit 2 when a run has no ``metrics.json`` or is not
an ``sfm-sequence`` run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from unpaired.report import fmt

MODELS = ("Pretrain", "Pret.+SelfSup")
COLUMNS = (
    ("depth log_l1 (median-scaled)", "depth_med_log_l1"),
    ("abs_rel (med.)", "depth_med_abs_rel"),
    ("delta1 (med.)", "depth_med_delta1"),
    ("log_l1 (no scaling)", "depth_log_l1"),
    ("log scale", "log_scale"),
    ("trl err (m)", "trl_err"),
    ("rot err (rad)", "rot_err"),
    ("trl ang (rad)", "trl_ang"),
    ("ATE (m, Umeyama)", "ate"),
    ("ATE scale", "ate_scale"),
    ("ATE rigid (m)", "ate_unscaled"),
    ("ATE-5 (m)", "ate5"),
)


def _load(run: Path) -> dict:
    path = run / "metrics.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        sys.exit(f"error: {path}: {exc}")
    if data.get("recipe") != "sfm-sequence":
        sys.exit(f"error: {path}: recipe {data.get('recipe')!r}, not sfm-sequence")
    return data


def rows(run: Path) -> list[str]:
    """Two markdown rows (Pretrain, Pret.+SelfSup) of the run in ``run``."""
    data = _load(run)
    m = data["metrics"]
    cfg = yaml.safe_load((run / "config.yaml").read_text())["config"]
    seq = m["sequence"]
    label = f"`{run.name}`: {Path(seq['path']).name}, {seq['frames']} frames at "
    label += "x".join(str(s) for s in seq["size"])
    label += f", finetune depth lr x{cfg['finetune_depth_lr_scale']}"
    out = []
    for i, model in enumerate(MODELS):
        cells = [label if i == 0 else "", model]
        cells += [fmt(m["test"][model].get(key, "")) for _, key in COLUMNS]
        out.append("| " + " | ".join(cells) + " |")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    args = p.parse_args()
    header = ["run", "model"] + [name for name, _ in COLUMNS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for run in args.runs:
        print("\n".join(rows(run)))


if __name__ == "__main__":
    main()
