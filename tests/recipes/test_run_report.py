"""Verdict-first reports (``recipes._run_report``): HTML structure, terminal fit, plots."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from unpaired.cli import demo_console_table, verdict_console_table
from unpaired.recipes._claims import RecipeClaims, at_most, evaluate, holds, ratio
from unpaired.recipes._run_report import RunView, demo_page, run_markdown, run_page
from unpaired.report import Figure, Report, Table, format_column
from unpaired.viz.compare import plot_compare

CLAIMS = RecipeClaims(
    "AIGN Table 1: AIGN < 3D interpreter < Forward2Dto3D",
    (
        ratio(
            "exact 2D: AIGN / Forward2Dto3D (torso-aligned, take mean)",
            ("aign",),
            ("f2d",),
            at_most=0.61,
            paper=0.613,
            source="issue 4 (AIGN Table 1)",
        ),
        holds("ordering AIGN < 3D interpreter < Forward2Dto3D", ("ordering",), paper=True),
        at_most("noisy 2D error [mm]", ("noisy",), 90.0, source="ours"),
    ),
)
METRICS = {"status": "completed", "metrics": {"aign": 60.51, "f2d": 72.83, "ordering": True}}
WIDE = Table(
    "Exact 2D inputs: torso-aligned error per take (mm)",
    ["model", *[f"take 03_0{i}" for i in range(1, 9)], "take mean", "MPJPE (all)", "P-MPJPE"],
    [
        ["Forward2Dto3D (Sup1+2)", *[68.54 + i for i in range(8)], 72.83, 67.95, 45.24],
        ["AIGN (Sup1+2+3+4, logistic prior)", *[53.17 + i for i in range(8)], 60.51, 54.02, 39.2],
    ],
    note="take mean: unweighted mean over takes",
)


class _Parsed(HTMLParser):
    """Tags in order, the ids, the hrefs and srcs, and each table's rows of cell text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def refs(self, attr: str) -> list[str]:
        return [a[attr] for _, a in self.tags if a.get(attr) is not None]


def _run_folder(tmp_path: Path, name: str = "pose-cmu") -> RunView:
    (tmp_path / "figures").mkdir(parents=True)
    for png in ("skeletons.png", "curves_aign.png"):
        Image.new("RGB", (40, 30), "white").save(tmp_path / "figures" / png)
    report = Report(
        "pose-cmu: AIGN 3D pose lifting",
        "Train on subjects 01 and 02, test on 03.",
        tables=[WIDE, Table("Training", ["model", "steps"], [["aign", 400]])],
        figures=[
            Figure("figures/skeletons.png", "predicted vs true skeletons"),
            Figure("figures/curves_aign.png", "training curves: aign"),
        ],
        notes=["P-MPJPE aligns with proper rotations only."],
    )
    return RunView(name, report, CLAIMS.claim, evaluate(CLAIMS, METRICS), seconds=12.3)


def _check_links(page: _Parsed, folder: Path) -> None:
    for href in page.refs("href"):
        assert not href.startswith(("http:", "https:", "//")), href
        if href.startswith("#"):
            assert href[1:] in page.ids, href
        else:
            assert (folder / href).is_file(), href
    for src in page.refs("src"):
        assert not src.startswith(("http:", "https:", "//", "data:")), src
        assert (folder / src).is_file(), src
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe")]


def test_run_report_opens_with_the_verdict_then_contents_tables_figures(tmp_path: Path) -> None:
    view = _run_folder(tmp_path)
    text = run_page(view)
    page = _Parsed(text)
    verdicts = page.tables[0]
    assert verdicts[0] == ["claim", "ours", "goal", "paper", "verdict", "goal from"]
    assert [r[0] for r in verdicts[1:]] == [c.label for c in CLAIMS.goals]
    assert [r[4] for r in verdicts[1:]] == ["not met", "met", "n/a: no metric noisy"]
    assert verdicts[1][1:4] == ["0.831", "<= 0.61", "0.613"] and verdicts[2][1:4] == ["yes"] * 3
    assert text.index("Claim:") < text.index("<nav") < text.index(WIDE.title) < text.index("<img")
    assert "Verdict: 1/2 met (1 n/a)" in text
    # every table is a collapsible section, reached from the contents
    assert len(page.tables) == 3 and sum(t == "details" for t, _ in page.tags) >= 4
    _check_links(page, tmp_path)
    # the per-model curves are folded away, the recipe's figures are shown
    curves = next(a for t, a in page.tags if t == "details" and a.get("id") == "run-curves")
    assert "open" not in curves
    # one precision per column, units kept in the header
    wide = page.tables[1]
    assert wide[0][-3] == "take mean (mm)" and [r[-3] for r in wide[1:]] == ["72.8", "60.5"]
    assert wide[0][1] == "take 03_01 (mm)" and wide[0][-1] == "P-MPJPE (mm)"  # the title's unit
    assert run_markdown(view).startswith("**Claim:** AIGN Table 1")


def test_demo_report_opens_with_one_row_per_recipe_and_links_resolve(tmp_path: Path) -> None:
    views = [_run_folder(tmp_path / n, n) for n in ("pose-cmu", "align-toy")]
    views[1].claim, views[1].verdicts = "", []  # a recipe without declared claims
    for n in ("pose-cmu", "align-toy"):
        (tmp_path / n / "report.html").write_text("x")
    text = demo_page(views, seed=0, seconds=95.0)
    page = _Parsed(text)
    summary = page.tables[0]
    assert summary[0] == ["recipe", "claim", "headline", "verdict", "time (s)"]
    assert [r[0] for r in summary[1:]] == ["pose-cmu", "align-toy"]
    assert summary[1][3] == "1/2 met (1 n/a)" and summary[2][3] == "no claims declared"
    assert summary[1][2].startswith("exact 2D: AIGN / Forward2Dto3D") and summary[1][4] == "12"
    assert "in 95 s" in text and text.index("<table") < text.index("<h2")
    # each recipe's section has its own anchors and images under <recipe>/
    assert {"pose-cmu-verdict", "align-toy-verdict", "pose-cmu-t0", "align-toy-t0"} <= page.ids
    assert "pose-cmu/figures/skeletons.png" in page.refs("src")
    _check_links(page, tmp_path)


def _tokens(table) -> list[str]:
    return [tok for col in table.columns for cell in col._cells for tok in str(cell).split()]


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_verdicts_fit_without_cutting_a_cell(width: int, tmp_path: Path) -> None:
    views = [_run_folder(tmp_path / n, n) for n in ("pose-cmu", "sfm-scenes")]
    for table in (verdict_console_table(views[0]), demo_console_table(views)):
        console = Console(width=width, record=True, color_system=None)
        console.print(table)
        text = console.export_text()
        assert "…" not in text and max(len(line) for line in text.splitlines()) <= width
        missing = [t for t in _tokens(table) if t not in text]
        assert missing == [], missing


def test_format_column_keeps_one_precision_per_column() -> None:
    assert format_column([0.5, 0.25, True, 3]) == ["0.500", "0.250", "True", "3"]
    assert format_column([float("nan"), 2.0]) == ["nan", "2.00"]
    assert format_column(["a", None]) == ["a", ""]


def test_compare_plot_draws_every_model_on_one_axes(tmp_path: Path) -> None:
    hist = {
        "aign": [{"step": s, "eval/err": 10.0 / s} for s in (1, 10, 100, 1000)],
        "ign": [{"step": s, "eval/err": 1.0} for s in (1, 10, 100, 1000)],
        "other": [{"step": 1, "loss": 1.0}],
    }
    png = plot_compare(hist, "eval/err", tmp_path / "c.png", title="err")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"
    assert plot_compare({"aign": hist["aign"]}, "eval/err", tmp_path / "one.png") is None
    assert not (tmp_path / "one.png").exists()


def _browser() -> str | None:
    names = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
    return next((p for n in names if (p := shutil.which(n))), None)


@pytest.mark.slow
@pytest.mark.skipif(_browser() is None, reason="no Chromium installed")
def test_headless_browser_renders_the_demo_report(tmp_path: Path) -> None:
    views = [_run_folder(tmp_path / n, n) for n in ("pose-cmu", "align-toy")]
    (tmp_path / "report.html").write_text(demo_page(views, seed=0, seconds=95.0))
    shot = tmp_path / "shot.png"
    cmd = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    cmd += [f"--screenshot={shot}", "--window-size=1000,700", (tmp_path / "report.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    image = Image.open(shot).convert("L")
    assert image.size == (1000, 700)
    lo, hi = image.getextrema()
    assert lo < 80 and hi > 200  # text on a light page, not a blank or an error screen
    # and it prints: a PDF of the same page
    pdf = tmp_path / "report.pdf"
    cmd = [*cmd[:4], f"--print-to-pdf={pdf}", "--no-pdf-header-footer", cmd[-1]]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
