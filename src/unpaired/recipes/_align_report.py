"""Tables and figures of the alignment recipes: cells over seeds (``m ± s``),
``align-toy``'s convergence tables and figures (``align-digits``' report:
:mod:`unpaired.recipes._align_digits_report`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from unpaired.evaluation import ConvergenceSummary, predict
from unpaired.report import Figure, Table
from unpaired.viz import alignment as viz


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation; (nan, nan) for no values."""
    if not values:
        return math.nan, math.nan
    t = torch.tensor(list(values), dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def pm(values: Sequence[float], digits: int = 3) -> str:
    """``"m ± s"`` (or ``"m"`` for one value, ``"-"`` for none) for a table cell."""
    if not values:
        return "-"
    m, s = mean_std(values)
    if len(values) == 1:
        return f"{m:.{digits}g}"
    return f"{m:.{digits}g} ± {s:.2g}"


def pm_steps(values: Sequence[int | None]) -> str:
    """Step counts over seeds (None: never): ``"m ± s (k/R)"`` over the k that got there."""
    got = [v for v in values if v is not None]
    if not got:
        return f"never (0/{len(values)})"
    m, s = mean_std(got)
    text = f"{m:.0f}" if len(got) == 1 else f"{m:.0f} ± {s:.0f}"
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)})"


# --------------------------------------------------------------------------------------
# align-toy: tables and figures. ``results[method]``: {"label", "problem" ("linear" or
# "affine"), "task" (its KnownMapReplicas), "rows" (logged evaluations), "summaries"
# (one ConvergenceSummary per seed), "final_distance", "curve" (steps, errors per seed)}.
# --------------------------------------------------------------------------------------

TOY_COLUMNS = (
    "steps to stay below",
    "final error",
    "min error",
    "oscillation (std, last 20%)",
    "final distance (seed 0)",
)
TOY_NOTE = (
    "Over seeds: mean ± std (steps: over the k/R seeds that got there; 'stay below' = from "
    "then on until the last step). error = RMS(T(a) - T*(a)) / spread(B) on held-out points; "
    "0 = true map recovered. Distances are in each method's own units (adversarial: the "
    "critic's estimate on held-out points)."
)


def _toy_metrics(summaries: Sequence[ConvergenceSummary], distance: Any) -> dict[str, Any]:
    finals = [s.final for s in summaries]
    return {
        "final_error": mean_std(finals)[0],
        "final_error_std": mean_std(finals)[1],
        "min_error": mean_std([s.best for s in summaries])[0],
        "oscillation": mean_std([s.oscillation for s in summaries])[0],
        "final_errors": finals,
        "oscillations": [s.oscillation for s in summaries],
        "reach_steps": [s.reach for s in summaries],
        "settle_steps": [s.settle for s in summaries],
        "final_distance": distance,
    }


def toy_tables(
    results: Mapping[str, Mapping[str, Any]],
    identity: Mapping[str, list[float]],
    *,
    threshold: float,
    titles: Mapping[str, str],
) -> tuple[list[Table], dict[str, Any]]:
    """One table per problem of ``titles`` that has a method: identity first, then the
    methods in order; and the ``metrics`` of every row."""
    columns = ["model", f"steps to reach error <= {threshold}", *TOY_COLUMNS]
    metrics: dict[str, Any] = {}
    tables = []
    for problem, title in titles.items():
        chosen = [m for m, r in results.items() if r["problem"] == problem]
        if not chosen:
            continue
        ident = identity[problem]
        rows: list[list[Any]] = [
            ["identity (no alignment)", "-", "-", pm(ident), pm(ident), "0", None]
        ]
        key = "identity-linear" if problem == "linear" else "identity"
        metrics[key] = {"final_error": mean_std(ident)[0]}
        for m in chosen:
            ss, distance = results[m]["summaries"], results[m]["final_distance"]
            rows.append(
                [
                    results[m]["label"],
                    pm_steps([s.reach for s in ss]),
                    pm_steps([s.settle for s in ss]),
                    pm([s.final for s in ss]),
                    pm([s.best for s in ss]),
                    pm([s.oscillation for s in ss], 2),
                    distance,
                ]
            )
            metrics[m] = _toy_metrics(ss, distance)
        tables.append(Table(title, columns, rows, note=TOY_NOTE))
    return tables, metrics


def _transform_at(problem: str, row: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed 0's T (W, b) at a logged row (its parameters are logged as ``eval/T<j>``)."""
    if problem == "linear":
        return torch.eye(2), torch.tensor([row["eval/T0"], row["eval/T1"]])
    w = torch.tensor([[row["eval/T0"], row["eval/T1"]], [row["eval/T2"], row["eval/T3"]]])
    return w, torch.tensor([row["eval/T4"], row["eval/T5"]])


def _identity_row(problem: str) -> dict[str, float]:
    values = [0.0, 0.0] if problem == "linear" else [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    return {f"eval/T{j}": v for j, v in enumerate(values)}


def _snapshots(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows near 1/32, 1/16, ..., 1/2 and all of training (most change happens early)."""
    last = rows[-1]["step"]
    picks = [
        min(rows, key=lambda r, f=f: abs(r["step"] - f * last))
        for f in (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2)
    ]
    return list({r["step"]: r for r in [*picks, rows[-1]]}.values())


def _trajectory_panel(
    result: Mapping[str, Any], a: torch.Tensor, b: torch.Tensor
) -> tuple[str, torch.Tensor, list[torch.Tensor], torch.Tensor]:
    problem, rows = result["problem"], result["rows"]
    start = {"step": 0, **_identity_row(problem)}
    moved = []
    for r in [start, *_snapshots(rows)]:
        w, s = _transform_at(problem, r)
        moved.append(a @ w.T + s)
    centers = []
    for r in [start, *rows]:
        w, s = _transform_at(problem, r)
        centers.append(a.mean(0) @ w.T + s)
    return result["label"], b, moved, torch.stack(centers)


def toy_figures(
    out: Callable[[str], Path],
    results: Mapping[str, Mapping[str, Any]],
    held_out: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    threshold: float,
    first: Sequence[str],
    titles: Mapping[str, str],
) -> list[Figure]:
    """The four figures of ``align-toy`` (``out(name)``: the path of a figure file).

    ``held_out[problem]``: seed 0's held-out (A, B) points; ``first``: the methods drawn
    first among the trajectories (the slides' panels); ``titles``: the problems' titles.
    """
    order = list(dict.fromkeys([m for m in first if m in results] + list(results)))
    panels = []
    for m in order:
        a, b = held_out[results[m]["problem"]]
        panels.append(_trajectory_panel(results[m], a[:400], b[:400]))
    viz.plot_trajectories(
        out("figures/trajectories.png"),
        panels,
        title=(
            "T(A) over training, seed 0 (snapshots at step 0, 1/32, 1/16, 1/8, 1/4, 1/2 and "
            "all of training, light to dark; red: path of its mean; grey: B)"
        ),
    )
    curves = [
        (title, {m: (r["curve"][0], torch.tensor(r["curve"][1])) for m, r in group.items()})
        for problem, title in titles.items()
        if (group := {m: r for m, r in results.items() if r["problem"] == problem})
    ]
    viz.plot_error_curves(out("figures/convergence.png"), curves, threshold=threshold)
    viz.plot_steps_and_oscillation(
        out("figures/steps_oscillation.png"),
        list(results),
        [[s.reach for s in r["summaries"]] for r in results.values()],
        [[s.oscillation for s in r["summaries"]] for r in results.values()],
        threshold=threshold,
    )
    clouds = []
    for m, r in results.items():
        a, b = held_out[r["problem"]]
        moved = predict(r["task"].tasks[0].transform, a[:600])
        clouds.append((f"{m}: error {r['summaries'][0].final:.3f}", a[:600], b[:600], moved))
    viz.plot_clouds(out("figures/alignment.png"), clouds)
    return [
        Figure(
            "figures/trajectories.png",
            "T(A) over training, one panel per method (slides: linear dual, linear min-max, kernel dual)",
        ),
        Figure("figures/convergence.png", "error vs step (median over seeds, band: min to max)"),
        Figure(
            "figures/steps_oscillation.png",
            "steps to reach the error threshold, and oscillation (std of the error over the last 20% of steps)",
        ),
        Figure("figures/alignment.png", "A, B and T(A) after training (seed 0)"),
    ]
