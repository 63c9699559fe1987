"""Verdict-first run reports: what a run showed, then its tables, then its figures.

One run's ``report.html`` opens with the claim the recipe reproduces and its verdict
table (each claim met / not met / n/a with our number, the goal and the paper's), then a
table of contents, then each table and the figures as collapsible ``<details>``
sections. The demo's combined report opens with one row per recipe. Images are
referenced by relative paths inside the run folder (nothing is fetched), so the folder
can be zipped and mailed. Numbers in HTML tables get one precision per column
(:func:`format_column`, 3 significant digits). The terminal gets the same verdicts as a
``rich`` table that wraps, never truncates (:func:`verdict_console_table`).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.table import Table as RichTable
from rich.text import Text

from unpaired.recipes._claims import Verdict, fmt3, summarize
from unpaired.report import Figure, Report, Table, fmt, html_page

__all__ = [
    "RunView",
    "demo_console_table",
    "demo_markdown",
    "demo_page",
    "format_column",
    "run_markdown",
    "run_page",
    "verdict_console_table",
    "verdict_table",
]

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;"
    "line-height:1.35}table{border-collapse:collapse;margin:.5em 0;font-size:.92em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right;vertical-align:top}"
    "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    "td.text{text-align:left}img{max-width:100%;height:auto}figure{margin:1em 0}"
    "figcaption{font-size:.9em;color:#444}details{margin:.6em 0}"
    "summary{cursor:pointer;font-weight:600}.verdict{border:2px solid #888;padding:.4em 1em;"
    "border-radius:6px;background:#fafafa}.met{background:#d9f2d9}.notmet{background:#f8d7d7}"
    ".na{background:#eee;color:#555}nav ol{margin:.2em 0}"
    "@media print{body{max-width:none}details>summary{list-style:none}}"
)
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


def format_column(values: Sequence[Any]) -> list[str]:
    """The cells of one table column as text, numbers at one precision for the column:
    decimals that give its largest value 3 significant digits, or 3 significant digits
    per cell where the column spans more than 4 decades (or holds huge or tiny numbers).

    Example:
        >>> format_column([0.2295, 0.6601, 1.383, None, "-"])
        ['0.23', '0.66', '1.38', '', '-']
        >>> format_column([123.1, 89.69, 7])
        ['123', '90', '7']
        >>> format_column([1.2e-13, 0.5])
        ['1.2e-13', '0.5']
    """
    floats = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v) and v != 0]
    if not floats:
        return [fmt3(v) if isinstance(v, float) else fmt(v) for v in values]
    hi, lo = max(floats), min(floats)
    if hi >= 1e5 or hi < 1e-3 or hi / lo > 1e4:
        return [f"{v:.3g}" if isinstance(v, float) else fmt(v) for v in values]
    decimals = min(6, max(0, 2 - math.floor(math.log10(hi))))
    return [
        f"{v:.{decimals}f}" if isinstance(v, float) and math.isfinite(v) else fmt(v) for v in values
    ]


def _is_text(values: Sequence[Any]) -> bool:
    return all(isinstance(v, str) or v is None for v in values)


def table_html(table: Table, anchor: str, *, open_: bool = True) -> str:
    """A table as a collapsible section with anchor ``anchor``."""
    columns = list(zip(*table.rows, strict=True)) if table.rows else [[] for _ in table.columns]
    cells = [format_column(c) for c in columns]
    text = [_is_text(c) for c in columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=text' if text[j] else ''}>{html.escape(cells[j][i])}</td>"
            for j in range(len(table.columns))
        )
        + "</tr>"
        for i in range(len(table.rows))
    )
    note = f"<p>{html.escape(table.note)}</p>" if table.note else ""
    return (
        f"<details{' open' if open_ else ''} id='{anchor}'><summary>{html.escape(table.title)}"
        f"</summary><table><tr>{head}</tr>{body}</table>{note}</details>"
    )


def verdict_table(verdicts: Sequence[Verdict]) -> Table:
    """The verdicts as a :class:`~unpaired.report.Table` (markdown, JSON records)."""
    return Table(
        "Verdict",
        ["claim", "ours", "goal", "paper", "verdict", "goal from"],
        [
            [
                v.label,
                "" if v.value is None else fmt3(v.value),
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
                f"<td>{html.escape('' if v.value is None else fmt3(v.value))}</td>"
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
    parts += [table_html(t, f"{a}-t{i}") for i, t in enumerate(rep.tables)]
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
    return html_page(view.report.title, run_section(view), style=_CSS)


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


def _headline(view: RunView) -> str:
    if not view.verdicts:
        return ""
    v = view.verdicts[0]
    value = "n/a" if v.value is None else fmt3(v.value)
    return f"{v.label}: {value} (goal {v.goal})" if v.goal else f"{v.label}: {value}"


def demo_page(views: Sequence[RunView], *, seed: int, seconds: float) -> str:
    """The demo's combined ``report.html``: what the demo did, one summary row per recipe
    (claim, headline, verdict, time, link), then each recipe as a collapsible section."""
    rows = "".join(
        f"<tr><td><a href='#{_slug(v.name)}-verdict'>{html.escape(v.name)}</a></td>"
        f"<td class=text>{html.escape(v.claim)}</td><td class=text>{html.escape(_headline(v))}</td>"
        f"<td class=text>{html.escape(summarize(v.verdicts) if v.status == 'completed' else v.status)}</td>"
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
    return html_page("unpaired demo", body, style=_CSS)


def demo_markdown(views: Sequence[RunView], *, seed: int, seconds: float) -> str:
    """The summary table that opens the demo's ``report.md``."""
    table = Table(
        "What the demo showed",
        ["recipe", "claim", "headline", "verdict", "time (s)"],
        [
            [
                v.name,
                v.claim,
                _headline(v),
                summarize(v.verdicts) if v.status == "completed" else v.status,
                None if v.seconds is None else round(v.seconds),
            ]
            for v in views
        ],
        note=f"{len(views)} recipe(s), quick mode, seed {seed}, {seconds:.0f} s in total.",
    )
    return table.to_markdown()


def _console_table(title: str, columns: Sequence[str]) -> RichTable:
    """A table whose cells are plain text (``[mm]`` is not rich markup)."""
    table = RichTable(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD)
    for i, c in enumerate(columns):
        # fold, never "…": a cell too wide for the terminal wraps onto more lines
        table.add_column(c, overflow="fold", min_width=None if i == 0 else min(len(c), 7))
    return table


def verdict_console_table(view: RunView) -> RichTable:
    """One run's verdicts for the terminal: claim, ours, goal, paper, verdict."""
    table = _console_table(
        f"{view.name}: {summarize(view.verdicts)}", ["claim", "ours", "goal", "paper", "verdict"]
    )
    for v in view.verdicts:
        cells = [v.label, "" if v.value is None else fmt3(v.value), v.goal]
        cells += ["" if v.paper is None else fmt3(v.paper), v.status]
        table.add_row(*(Text(c) for c in cells))
    return table


def demo_console_table(views: Sequence[RunView]) -> RichTable:
    """The demo for the terminal: one row per recipe, its headline and verdict."""
    table = _console_table("unpaired demo", ["recipe", "headline", "verdict"])
    for v in views:
        status = summarize(v.verdicts) if v.status == "completed" else v.status
        table.add_row(*(Text(c) for c in (v.name, _headline(v), status)))
    return table
