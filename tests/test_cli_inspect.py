"""``unpaired data inspect FILE``: what was read from a motion file, and a skeleton PNG."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data"))
from _rigs import RIGS, make_take, write_bvh

from unpaired.cli import app

runner = CliRunner()


def test_inspect_reports_rig_unit_axes_mapping_and_draws(tmp_path: Path) -> None:
    bvh = tmp_path / "walk.bvh"
    bvh.write_text(write_bvh(RIGS["capture_no_neck"], make_take(3)))
    png = tmp_path / "walk.png"
    result = runner.invoke(app, ["data", "inspect", str(bvh), "--png", str(png)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "frames: 3 at 120 fps" in out
    assert "unit: m = 1 m (detected" in out and "up axis: z (detected" in out
    assert "l_shoulder  upper_arm.L" in out and "neck        head" in out
    assert "synthesised: thorax (thorax = midpoint of the clavicles' starts" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_of_an_unmappable_or_bad_file_exits_2(tmp_path: Path) -> None:
    rig = RIGS["mixamo_bare"]
    codes = {n: f"J{k:02d}" for k, n in enumerate(j[0] for j in rig.joints if j[0])}
    bvh = tmp_path / "codes.bvh"
    bvh.write_text(write_bvh(rig, make_take(2), rename=codes.__getitem__))
    result = runner.invoke(app, ["data", "inspect", str(bvh), "--png", str(tmp_path / "c.png")])
    assert result.exit_code == 2
    assert "cannot map this skeleton" in result.output and (tmp_path / "c.png").is_file()
    result = runner.invoke(app, ["data", "inspect", str(bvh), "--units", "furlong"])
    assert result.exit_code == 2 and "--units must be" in result.output
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT x\n")
    result = runner.invoke(app, ["data", "inspect", str(bad)])
    assert result.exit_code == 2 and "bad.bvh, line 2" in result.output
