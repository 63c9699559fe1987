"""Verdict-first run reports: what a run showed, then its tables, then its figures.

A run's ``report.html`` opens with the recipe's claim and verdict table (met / not met /
n/a, our number, the goal, the paper's), then contents, then the tables and figures as
collapsible ``<details>``; the demo's opens with one row per recipe. Images are relative
paths inside the run folder, nothing is fetched (docs/REPORTS.md).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unpaired.recipes._claims import RecipeClaims, Verdict, evaluate, summarize
from unpaired.report import (
    REPORT_STYLE,
    Figure,
    Report,
    Table,
    fmt3,
    html_page,
    markdown,
    table_section,
    write_json,
)
from unpaired.viz.compare import plot_compare

__all__ = [
    "RunView",
    "comparison_figure",
    "demo_markdown",
    "demo_page",
    "headline",
    "run_markdown",
    "run_page",
    "verdict_table",
    "write_demo",
    "write_report",
]

_STATUS_CLASS = {"met": "met", "not met": "notmet", "n/a": "na"}


@dataclass
class RunView:
    """What a report shows of one run: the recipe's claim and verdicts with its report."""

    name: str
    report: Report
    claim: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    status: str = "completed"
    seconds: float | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    """The verdicts as a :class:`~unpaired.report.Table` (markdown, JSON records)."""
    return Table(
        "Verdict",
        ["claim", "ours", "goal", "paper", "verdict", "goal from"],
        [
            [
                v.label,
                v.shown,
                v.goal,
                "" if v.paper is None else fmt3(v.paper),
                v.status if v.status != "n/a" else f"n/a ({v.detail})",
                v.source,
            ]
            for v in verdicts
        ],
    )


def _verdict_box(view: RunView) -> str:
    claim = html.escape(view.claim) if view.claim else "no claims declared for this recipe"
    parts = [f"<div class='verdict'><p><b>Claim:</b> {claim}</p>"]
    if view.status != "completed":
        parts.append(f"<p><b>Stopped early</b> ({html.escape(view.status)}).</p>")
    if view.verdicts:
        rows = []
        for v in view.verdicts:
            status = v.status if v.status != "n/a" else f"n/a: {v.detail}"
            rows.append(
                f"<tr class='{_STATUS_CLASS[v.status]}'><td>{html.escape(v.label)}</td>"
                f"<td>{html.escape(v.shown)}</td>"
                f"<td>{html.escape(v.goal)}</td>"
                f"<td>{html.escape('' if v.paper is None else fmt3(v.paper))}</td>"
                f"<td class=text>{html.escape(status)}</td>"
                f"<td class=text>{html.escape(v.source)}</td></tr>"
            )
        parts.append(
            "<table class='verdicts'><tr><th>claim</th><th>ours</th><th>goal</th>"
            "<th>paper</th><th>verdict</th><th>goal from</th></tr>" + "".join(rows) + "</table>"
        )
        parts.append(f"<p><b>Verdict: {html.escape(summarize(view.verdicts))}</b></p>")
    parts.append("</div>")
    return "".join(parts)


def _figure_html(f: Figure, prefix: str) -> str:
    return (
        f"<figure><img src='{html.escape(prefix + f.path)}' alt='{html.escape(f.caption)}'>"
        f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
    )


def run_section(view: RunView, *, prefix: str = "", heading: str = "h2") -> str:
    """One run as HTML: verdict box, contents, the recipe's summary, tables, figures
    (the per-model training curves folded), notes. ``prefix``: prepended to image paths
    and anchors (the demo's ``<recipe>/``)."""
    rep, a = view.report, _slug(view.name) if prefix else "run"
    curves = [f for f in rep.figures if f.caption.startswith("training curves: ")]
    figures = [f for f in rep.figures if f not in curves]
    sections = [(f"{a}-t{i}", t.title) for i, t in enumerate(rep.tables)]
    if figures:
        sections.append((f"{a}-figures", "Figures"))
    if curves:
        sections.append((f"{a}-curves", f"Training curves per model ({len(curves)})"))
    if rep.notes:
        sections.append((f"{a}-notes", "Notes"))
    toc = "".join(f"<li><a href='#{i}'>{html.escape(t)}</a></li>" for i, t in sections)
    parts = [
        f"<{heading} id='{a}-verdict'>{html.escape(rep.title)}</{heading}>",
        _verdict_box(view),
        f"<nav><b>Contents</b><ol>{toc}</ol></nav>",
    ]
    if rep.summary:
        parts.append(f"<p>{html.escape(rep.summary)}</p>")
    parts += [table_section(t, f"{a}-t{i}") for i, t in enumerate(rep.tables)]
    if figures:
        body = "".join(_figure_html(f, prefix) for f in figures)
        parts.append(f"<details open id='{a}-figures'><summary>Figures</summary>{body}</details>")
    if curves:
        body = "".join(_figure_html(f, prefix) for f in curves)
        parts.append(
            f"<details id='{a}-curves'><summary>Training curves per model ({len(curves)})"
            f"</summary>{body}</details>"
        )
    if rep.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in rep.notes)
        parts.append(
            f"<details open id='{a}-notes'><summary>Notes</summary><ul>{items}</ul></details>"
        )
    return "\n".join(parts)


def run_page(view: RunView) -> str:
    """One run's self-contained ``report.html``."""
    return html_page(view.report.title, run_section(view), style=REPORT_STYLE)


def run_markdown(view: RunView) -> str:
    """The verdict block that opens one run's ``report.md``."""
    lines = [f"**Claim:** {view.claim or 'no claims declared for this recipe'}", ""]
    if view.verdicts:
        lines += [
            verdict_table(view.verdicts).to_markdown(),
            f"**Verdict: {summarize(view.verdicts)}**",
            "",
        ]
    return "\n".join(lines)


def headline(view: RunView) -> str:
    """The first claim with our number and its goal: a run's result in one line."""
    if not view.verdicts:
        return ""
    v = view.verdicts[0]
    value = v.shown or "n/a"
    return f"{v.label}: {value} (goal {v.goal})" if v.goal else f"{v.label}: {value}"


def _overall(view: RunView) -> str:
    """The CSS class of a run's verdict: ``notmet`` if any claim is not met, ``met`` if
    every checked one is, else ``na``."""
    statuses = {v.status for v in view.verdicts}
    return "notmet" if "not met" in statuses else "met" if "met" in statuses else "na"


def demo_page(views: Sequence[RunView], *, seed: int, seconds: float) -> str:
    """The demo's combined ``report.html``: what the demo did, one summary row per recipe
    (claim, headline, verdict, time, link), then each recipe as a collapsible section."""
    rows = "".join(
        f"<tr><td><a href='#{_slug(v.name)}-verdict'>{html.escape(v.name)}</a></td>"
        f"<td class=text>{html.escape(v.claim)}</td><td class=text>{html.escape(headline(v))}</td>"
        f"<td class='text {_overall(v)}'>"
        f"{html.escape(summarize(v.verdicts) if v.status == 'completed' else v.status)}</td>"
        f"<td>{'' if v.seconds is None else f'{v.seconds:.0f}'}</td></tr>"
        for v in views
    )
    intro = (
        f"<p><code>unpaired demo</code> ran {len(views)} recipe(s) on embedded (procedural) "
        f"data in quick mode (seed {seed}) in {seconds:.0f} s. Quick mode trains small "
        "versions with few steps: a goal set for the full run may be not met here; each "
        "recipe's full run and its figures are in docs/RESULTS.md.</p>"
    )
    summary = (
        "<table class='summary'><tr><th>recipe</th><th>claim</th><th>headline</th>"
        f"<th>verdict</th><th>time (s)</th></tr>{rows}</table>"
    )
    sections = [
        f"<details open><summary>{html.escape(v.name)}: "
        f"{html.escape(summarize(v.verdicts))}</summary>"
        f"{run_section(v, prefix=v.name + '/', heading='h2')}"
        f"<p><a href='{html.escape(v.name)}/report.html'>full run report</a></p></details>"
        for v in views
    ]
    body = "<h1>unpaired demo</h1>" + intro + summary + "\n".join(sections)
    return html_page("unpaired demo", body, style=REPORT_STYLE)


def demo_markdown(views: Sequence[RunView], *, seed: int, seconds: float) -> str:
    """The summary table that opens the demo's ``report.md``."""
    table = Table(
        "What the demo showed",
        ["recipe", "claim", "headline", "verdict", "time (s)"],
        [
            [
                v.name,
                v.claim,
                headline(v),
                summarize(v.verdicts) if v.status == "completed" else v.status,
                None if v.seconds is None else round(v.seconds),
            ]
            for v in views
        ],
        note=f"{len(views)} recipe(s), quick mode, seed {seed}, {seconds:.0f} s in total.",
    )
    return table.to_markdown()


def comparison_figure(
    claims: RecipeClaims | None, histories: Mapping[str, Sequence[Mapping[str, Any]]], out: Path
) -> Figure | None:
    """``figures/compare.png``: the claims' ``curve`` (the headline metric over steps) for
    every model on one axes (:func:`~unpaired.viz.compare.plot_compare`); ``None`` when
    not declared or fewer than two models logged it."""
    if claims is None or claims.curve is None:
        return None
    ref = f" (cf. {claims.curve_ref})" if claims.curve_ref else ""
    png = plot_compare(
        histories,
        claims.curve,
        out / "figures" / "compare.png",
        title=f"{claims.curve}{ref}",
        ylabel=claims.curve_label,
    )
    if png is None:
        return None
    return Figure("figures/compare.png", f"{claims.curve} over steps, every model side by side")


def write_report(
    out: Path, name: str, report: Report, data: dict[str, Any], claims: RecipeClaims | None
) -> RunView:
    """Write a run's ``metrics.json`` (``data`` plus the ``claim`` and the ``verdicts`` of
    ``claims``, checked on the file as written: tensors become numbers there),
    ``report.md`` and ``report.html``, the verdict first; return what they show."""
    write_json(out / "metrics.json", data)
    verdicts = evaluate(claims, json.loads((out / "metrics.json").read_text()))
    view = RunView(name, report, claims.claim if claims else "", verdicts, data["status"])
    write_json(
        out / "metrics.json",
        data | {"claim": view.claim, "verdicts": [v.to_dict() for v in verdicts]},
    )
    (out / "report.md").write_text(run_markdown(view) + "\n" + markdown(report))
    (out / "report.html").write_text(run_page(view))
    return view


def write_demo(out: Path, views: Sequence[RunView], *, seed: int, seconds: float) -> None:
    """The demo's ``report.md``, ``report.html`` and ``metrics.json`` (each recipe's
    status, claim, verdicts, seconds and metrics) in ``out``."""
    md = ["# unpaired demo", "", demo_markdown(views, seed=seed, seconds=seconds)]
    metrics = {}
    for v in views:
        md.append(run_markdown(v).replace("**Claim:**", f"## {v.name}\n\n**Claim:**", 1))
        md.append(markdown(v.report, heading="###", prefix=f"{v.name}/"))
        md.append(f"Full run: [{v.name}/report.md]({v.name}/report.md)\n")
        metrics[v.name] = {
            "status": v.status,
            "claim": v.claim,
            "verdicts": [x.to_dict() for x in v.verdicts],
            "seconds": v.seconds,
            "metrics": v.report.metrics,
        }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text("\n".join(md))
    (out / "report.html").write_text(demo_page(views, seed=seed, seconds=seconds))
    write_json(out / "metrics.json", metrics)
