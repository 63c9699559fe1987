from __future__ import annotations

import json

import pytest

from unpaired.report import Report, Table, fmt, html_body, markdown, plot_curves, write_json


def test_table_markdown_and_records() -> None:
    t = Table("T", ["model", "err"], [["a", 0.123456], ["b", 12]], note="lower is better")
    md = t.to_markdown()
    assert "| a | 0.1235 |" in md and "| b | 12 |" in md and "lower is better" in md
    assert t.records() == [{"model": "a", "err": 0.123456}, {"model": "b", "err": 12}]
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
    assert header == r"| max \|\|grad\|\| | x |" and row == r"| a\|b | 1 |"
