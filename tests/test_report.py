from __future__ import annotations

import json

import pytest

from unpaired.report import (
    UNIT_WORDS,
    UNITS,
    Report,
    Table,
    fmt,
    header,
    html_body,
    markdown,
    missing_units,
    plot_curves,
    table_section,
    unit_of,
    write_json,
)


def test_table_markdown_and_records() -> None:
    t = Table("T", ["model", "err (m)"], [["a", 0.123456], ["b", 12]], note="lower is better")
    md = t.to_markdown()
    assert "| a | 0.123 |" in md and "| b | 12 |" in md and "lower is better" in md
    assert t.records() == [{"model": "a", "err (m)": 0.123456}, {"model": "b", "err (m)": 12}]
    with pytest.raises(ValueError, match="cells"):
        Table("bad", ["a", "b"], [[1]])


def test_fmt() -> None:
    assert (
        fmt(1e-5) == "1.000e-05"
        and fmt(float("nan")) == "nan"
        and fmt(None) == ""
        and fmt(True) == "True"
    )


def test_report_renders_and_escapes_html() -> None:
    rep = Report("R <1>", "sum", [Table("t", ["x"], [["<b>"]])], notes=["n1"])
    assert "&lt;b&gt;" in html_body(rep) and "R &lt;1&gt;" in html_body(rep)
    assert markdown(rep).startswith("# R <1>") and "- n1" in markdown(rep)


def test_plot_curves_and_json(tmp_path) -> None:
    hist = {"m": [{"step": 1, "loss": 1.0, "eval/acc": 0.5}, {"step": 2, "loss": 0.5}]}
    png = plot_curves(hist, tmp_path / "c.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_curves({"m": [{"step": 1}]}, tmp_path / "none.png") is None
    write_json(tmp_path / "m.json", {"a": float("inf"), "b": [1, 2.5]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": "inf", "b": [1, 2.5]}


def test_markdown_cells_escape_pipes() -> None:
    t = Table("norms", ["max ||grad||", "x"], [["a|b", 1.0]])
    header, _, row = t.to_markdown().splitlines()[2:5]
    assert header == r"| max \|\|grad\|\| | x |" and row == r"| a\|b | 1.00 |"


def _cells(text: str) -> list[str]:
    return [c.rsplit(">", 1)[1] for c in text.split("</td>")[:-1]]


def test_markdown_and_html_print_the_same_headers_and_numbers() -> None:
    t = Table(
        "Camera motion (AIGN Table 3)",
        ["model", "trl err (m)", "take mean", "acc segm", "steps"],
        [["a", 0.2295, 60.51, 0.5, 400], ["b", 0.6601, 123.1, 0.25, 800]],
    )
    heads = ["model", "trl err (m)", "take mean (mm)", "acc segm (fraction)", "steps"]
    assert t.headers() == heads
    # one precision per column: 3 significant digits for its largest value
    assert t.cells() == [
        ["a", "0.230", "61", "0.500", "400"],
        ["b", "0.660", "123", "0.250", "800"],
    ]
    md = t.to_markdown().splitlines()
    assert md[2] == "| " + " | ".join(heads) + " |" and md[4] == "| a | 0.230 | 61 | 0.500 | 400 |"
    for text in (t.to_html(), table_section(t, "x")):
        assert all(f"<th>{h}</th>" in text for h in heads)
        assert _cells(text)[:5] == t.cells()[0]


def test_units_come_from_the_name_the_units_map_or_the_title() -> None:
    assert unit_of("PSNR [dB]") == "dB" and unit_of("trl err (m)") == "m"  # the name's own
    assert unit_of("SN(0.05)") == "L2 norm" and unit_of("final error") == "RMS / spread"
    assert unit_of("walk", "torso-aligned error per style (mm)") == "mm"  # the title's
    assert unit_of("model", "trained on 16 seed(s)") is None  # "seed(s)" names no unit
    assert unit_of("steps") == "" and header("steps") == "steps"  # a count: the name says it
    assert header("MPJPE (all)") == "MPJPE (all; mm)" and header("SN(0.1)") == "SN(0.1) (L2 norm)"
    # a text column takes no unit, neither the title's nor the map's
    t = Table("error per style (mm)", ["model", "walk", "goal"], [["AIGN", 50.0, "<= 0.5"]])
    assert t.headers() == ["model", "walk (mm)", "goal"]
    # every unit of the map reads as a unit once printed: a header is not given two
    assert all(unit in UNIT_WORDS for _, unit in UNITS if unit)
    for name in ("take mean", "cycle error (photo)", "SN(0.05)", "final distance (seed 0)"):
        assert header(header(name)) == header(name) != name


def test_a_numeric_column_without_a_unit_is_caught() -> None:
    bare = Table("T", ["model", "err", "note"], [["a", 0.5, "x"], ["b", "0.25 ± 0.01", "y"]])
    assert missing_units(bare) == ["err"]
    as_text = Table("T", ["model", "err"], [["a", "0.83 ± 0.02"], ["b", "200 ± 100 (2/3)"]])
    assert missing_units(as_text) == ["err"]  # numbers written as text count as numbers
    unitless = Table("T", ["model", "accuracy (fraction)", "ok"], [["a", 0.9, True]])
    assert missing_units(unitless) == []  # explicitly unitless; a yes/no column needs none
    assert missing_units(Table("T", ["model", "3D interpreter"], [["a", "3D lifter"]])) == []
