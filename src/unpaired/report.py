"""Run reports: tables and figures -> ``metrics.json``, ``report.md``, ``report.html``.

Recipes build a :class:`Report`; the runner writes it next to the run's config,
log and checkpoints, with a PNG of every model's training curves
(:func:`unpaired.viz.curves.plot_curves`, re-exported here).
"""

from __future__ import annotations

import html
import json
import math
import re
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
    "header",
    "html_body",
    "html_page",
    "markdown",
    "missing_units",
    "plot_curves",
    "table_section",
    "unit_of",
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


#: Words that name a unit inside a column's or a title's ``(...)`` / ``[...]`` (one of
#: its comma- or semicolon-separated parts), the explicit "no unit" words included.
UNIT_WORDS = frozenset(
    (
        *("mm", "m", "px", "rad", "deg", "%", "nats", "s", "dB", "steps", "fraction", "ratio"),
        *("unitless", "per step", "own units", "data units", "per mu^2", "RMS / spread"),
        *("L2 norm", "L2 norm / fraction", "intensity"),
    )
)

_L2 = "L2 norm"  # per-image L2 norms of images in [-1, 1] (SN, RH, cycle error)
#: The unit of a table column by its name: (regular expression matched against the whole
#: name, unit), the first match wins; unit ``""``: the name is a count of what it names
#: (``steps``, ``views``). :func:`unit_of` says where else a unit may come from.
UNITS: tuple[tuple[str, str], ...] = (
    # counts and steps
    (r"steps|views|classes|memory images|train images", ""),
    (r"steps to .*|step of min", "steps"),
    (r"train seconds.*|train time|s/sample \d+v", "s"),
    # ratios, shares, unitless numbers
    (
        r".*accuracy.*|acc segm|IoU .*|Acc|bias rate|keep rate|(val|test) (bias|keep) rate",
        "fraction",
    ),
    (r"class kept .*|leak rate|\d+ deg|delta\d|share >= .*", "fraction"),
    (r"AIGN / .*|S2/S1|goal|BA time / S2 time|final / min|last / max|abs_rel.*", "ratio"),
    (r"ate_scale", "ratio"),
    (r"beta|SSIM|test SSIM|r_attr|r_rest|eigenvalues of J|final distance", "unitless"),
    (r"(final |min )?(depth )?log_l1.*|log_rmse|(final )?log scale|log_scale", "unitless"),
    (r"analytic rate|measured rate", "per step"),
    # lengths, angles, images
    (r"take mean|(torso-aligned|MPJPE|P-MPJPE|N-MPJPE) \(all\)", "mm"),
    (r"[PN]MPJPE \d+v|S1|S2|S2 \(BA samples\)|BA random", "mm"),
    (r"sq_rel|rmse|(final |min )trl err", "m"),
    (r"trl_err|trl_mag|ate|ate_unscaled|ate5", "m"),  # sfm-sequence's metric names
    (r"rot_err|trl_ang", "rad"),
    (r"RH|SN\(.*\)|SN\(.*\) from .*|sn_[ab]_.*|cycle error.*|cycle_[ab]", _L2),
    (r"hidden RMS|mean intensity shift|V_rest|final photometric", "intensity"),
    (r"step \d+", "L2 norm / fraction"),  # cyclegan-maps' validation curve: RH / acc segm
    # the toy problems: error = RMS / spread, distances in each distance's own units
    (r"final error|min error|oscillation .*", "RMS / spread"),
    (r"final distance .*|max \|\|grad\|\||\|\|grad\|\| at mu = .*|.* grad", "own units"),
    (r"mu|at mu", "data units"),
    (r"k in \|\|grad\|\| ~ .*", "per mu^2"),
    # align-digits: referee MMD, Spearman table, where the warp went
    (r"referee MMD.*", "own units"),
    (r"rows", ""),
    (r"Spearman rho|scale|anisotropy|min_slope|max_slope", "unitless"),
    (r"shift_px", "px"),
    # 3D Shapes: accuracies and discrepancies in %
    (r"ACC .*|AVG|RD|paper (3DS ACC|RD|AVG .*)|.* S / C", "%"),
)


def _unit_group(text: str) -> str | None:
    """The unit ``text`` states in a ``(...)`` or ``[...]`` group, the first one found."""
    for group in re.findall(r"(?:^|\s)[(\[]([^()\[\]]*)[)\]]", text):
        parts = [p.strip() for p in re.split(r"[,;]", group)]
        if group.strip() in UNIT_WORDS:
            return group.strip()
        if unit := next((p for p in parts if p in UNIT_WORDS), None):
            return unit
    return None


def unit_of(column: str, title: str = "") -> str | None:
    """The unit of column ``column`` of a table titled ``title``: the one its own name
    ends with (``trl err (m)``, ``PSNR [dB]``), else the one :data:`UNITS` gives its name,
    else the first its table's title states (``torso-aligned error per style (mm)``);
    ``None`` when none says. ``""``: the name is a count (``steps``).

    Example:
        >>> unit_of("trl err (m)"), unit_of("take mean"), unit_of("walk", "error (mm)")
        ('m', 'mm', 'mm')
        >>> unit_of("steps"), unit_of("walk") is None
        ('', True)
    """
    last = re.search(r"[(\[][^()\[\]]*[)\]]\s*$", column)
    if last and (own := _unit_group(last.group(0))):
        return own
    for pattern, unit in UNITS:
        if re.fullmatch(pattern, column):
            return unit
    return _unit_group(title)


def header(column: str, title: str = "") -> str:
    """Column ``column`` as a table header: with its unit (:func:`unit_of`) unless its
    name already ends with it or is a count.

    Example:
        >>> header("take mean"), header("MPJPE (all)"), header("PSNR [dB]"), header("steps")
        ('take mean (mm)', 'MPJPE (all; mm)', 'PSNR [dB]', 'steps')
    """
    unit = unit_of(column, title)
    last = re.search(r"[(\[][^()\[\]]*[)\]]\s*$", column)
    if not unit or (last and _unit_group(last.group(0))):
        return column
    if re.search(r" \([^()]*\)$", column):  # a remark in brackets: the unit joins it
        return f"{column[:-1]}; {unit})"
    return f"{column} ({unit})"


_NUMBER = r"[-+−]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|nan|inf|—|-"
_NUMERIC_TEXT = re.compile(rf"\s*({_NUMBER})(\s*(±|/)\s*({_NUMBER}))*\s*%?\s*(\(.*\))?\s*")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    return (
        isinstance(value, str)
        and bool(re.search(r"\d", value))
        and bool(_NUMERIC_TEXT.fullmatch(value))
    )


def missing_units(table: Table) -> list[str]:
    """The columns of ``table`` that hold numbers (or numbers as text, ``0.83 ± 0.02``)
    but whose unit nothing states (:func:`unit_of`): each needs an entry in
    :data:`UNITS`, a unit in its name, or one in its table's title.

    Example:
        >>> missing_units(Table("t", ["model", "err", "take mean"], [["a", 0.1, 50.0]]))
        ['err']
    """
    columns = list(zip(*table.rows, strict=True)) if table.rows else []
    return [
        c
        for c, values in zip(table.columns, columns, strict=True)
        if any(_is_number(v) for v in values) and unit_of(c, table.title) is None
    ]


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

    def headers(self) -> list[str]:
        """The column names as the reports print them: each column of numbers with its unit
        (:func:`header`); a column of text (``model``, a verdict's ``goal``: ``<= 0.5``)
        as it is named."""
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * len(self.columns)
        return [
            header(c, self.title) if any(_is_number(v) for v in values) else c
            for c, values in zip(self.columns, columns, strict=True)
        ]

    def cells(self) -> list[list[str]]:
        """The rows as the reports print them: numbers at one precision per column
        (:func:`format_column`), the same in ``report.md`` and ``report.html``."""
        columns = list(zip(*self.rows, strict=True)) if self.rows else []
        formatted = [format_column(c) for c in columns]
        return [[col[i] for col in formatted] for i in range(len(self.rows))]

    def to_markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(_md_cell(c) for c in self.headers()) + " |",
            "|" + "|".join("---" for _ in self.columns) + "|",
        ]
        lines += ["| " + " | ".join(_md_cell(v) for v in r) + " |" for r in self.cells()]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.headers())
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>"
            for r in self.cells()
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
    text = [_is_text(c) for c in columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.headers())
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=text' if text[j] else ''}>{html.escape(cell)}</td>"
            for j, cell in enumerate(row)
        )
        + "</tr>"
        for row in table.cells()
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
