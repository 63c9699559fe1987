"""Run reports: tables and figures -> ``metrics.json``, ``report.md``, ``report.html``.

Recipes build a :class:`Report`; the runner writes it next to the run's config,
log and checkpoints, with a PNG of every model's training curves
(:func:`unpaired.viz.curves.plot_curves`, re-exported here).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unpaired.viz.curves import plot_curves

__all__ = [
    "REPORT_STYLE",
    "Figure",
    "Report",
    "Table",
    "fmt",
    "fmt3",
    "format_column",
    "html_body",
    "html_page",
    "markdown",
    "plot_curves",
    "table_section",
    "write_json",
]


def _md_cell(text: str) -> str:
    """A markdown table cell: a literal ``|`` (as in ``||grad||``) must not split it."""
    return text.replace("|", "\\|")


def fmt(value: Any) -> str:
    """Numbers to 4 significant digits; everything else as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def fmt3(value: Any) -> str:
    """A number to 3 significant digits, a boolean as yes / no, text as it is."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.3g}"


@dataclass
class Table:
    """A results table: one row per model/setting."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def __post_init__(self) -> None:
        for r in self.rows:
            if len(r) != len(self.columns):
                raise ValueError(
                    f"table '{self.title}': row {r} has {len(r)} cells, expected {len(self.columns)}"
                )

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def to_markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(_md_cell(c) for c in self.columns) + " |",
            "|" + "|".join("---" for _ in self.columns) + "|",
        ]
        lines += ["| " + " | ".join(_md_cell(fmt(v)) for v in r) + " |" for r in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in r) + "</tr>"
            for r in self.rows
        )
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return f"<h3>{html.escape(self.title)}</h3><table><tr>{head}</tr>{body}</table>{note}"


@dataclass
class Figure:
    path: str  # relative to the run directory
    caption: str = ""


@dataclass
class Report:
    """What a recipe returns: the human-readable result plus machine-readable metrics."""

    title: str
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _jsonable(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, Mapping):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    return o


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(_jsonable(data), indent=2, default=_json_default) + "\n")


def markdown(report: Report, *, heading: str = "#", prefix: str = "") -> str:
    """The report as Markdown; ``prefix`` is prepended to figure paths."""
    parts = [f"{heading} {report.title}", ""]
    if report.summary:
        parts += [report.summary, ""]
    parts += [t.to_markdown() for t in report.tables]
    for f in report.figures:
        parts += [
            f"![{f.caption}]({prefix}{f.path})",
            "",
            f"*{f.caption}*" if f.caption else "",
            "",
        ]
    if report.notes:
        parts += ["**Notes**", ""] + [f"- {n}" for n in report.notes] + [""]
    return "\n".join(parts)


def html_body(report: Report, *, prefix: str = "") -> str:
    parts = [f"<h2>{html.escape(report.title)}</h2>"]
    if report.summary:
        parts.append(f"<p>{html.escape(report.summary)}</p>")
    parts += [t.to_html() for t in report.tables]
    for f in report.figures:
        parts.append(
            f'<figure><img src="{html.escape(prefix + f.path)}" style="max-width:100%">'
            f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
        )
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    return "\n".join(parts)


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:right}th{background:#f3f3f3}figure{margin:1em 0}"
)


REPORT_STYLE = (  # the run and demo reports (recipes/_run_report.py)
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;"
    "line-height:1.35}table{border-collapse:collapse;margin:.5em 0;font-size:.92em}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right;vertical-align:top}"
    "th{background:#f3f3f3;text-align:left}td:first-child{text-align:left}"
    "td.text{text-align:left}img{max-width:100%;height:auto}figure{margin:1em 0}"
    "figcaption{font-size:.9em;color:#444}details{margin:.6em 0}"
    "summary{cursor:pointer;font-weight:600}.verdict{border:2px solid #888;padding:.4em 1em;"
    "border-radius:6px;background:#fafafa}.met{background:#d9f2d9}.notmet{background:#f8d7d7}"
    ".na{background:#eee;color:#555}nav ol{margin:.2em 0}"
    "@media print{body{max-width:none}details>summary{list-style:none}"
    "table,figure,.verdict{break-inside:avoid}}"
)


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


def table_section(table: Table, anchor: str, *, open_: bool = True) -> str:
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


def html_page(title: str, body: str, *, style: str = _STYLE) -> str:
    """A whole HTML document: ``body`` under ``title``, styled by the inline ``style``
    (no external stylesheet, script or font)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body>{body}</body></html>\n"
    )
