"""cyclegan (your own folders): a small CycleGAN-layout folder end to end, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from unpaired.cli import app
from unpaired.data.images import read_image
from unpaired.recipes.runner import run_recipe

runner = CliRunner()


def _folder(root: Path, *, test: bool = True, n: int = 3, size: tuple[int, int] = (40, 36)) -> Path:
    rng = np.random.default_rng(0)
    for split in ("trainA", "trainB", *(("testA", "testB") if test else ())):
        (root / split).mkdir(parents=True)
        for i in range(n):
            arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / split / f"img{i}.png")
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(root / "trainB" / "gray.jpg")  # mixed modes
    return root


def _tiny(root: Path) -> dict[str, object]:
    return {
        "data.root": str(root), "data.load_size": 20, "data.crop_size": 16, "data.max_test": 2,
        "train.steps": 2, "nets.blocks": 1, "nets.width": 4, "nets.critic_width": 4,
        "nets.critic_layers": 1, "nets.munit_width": 4, "nets.munit_blocks": 1,
        "nets.munit_mlp": 8, "rows": ("cyclegan", "guess-noise", "munit-cycle"),
    }  # fmt: skip


@pytest.mark.slow
def test_a_small_folder_runs_quick_end_to_end_and_writes_both_directions(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data")
    out = run_recipe(
        "cyclegan", quick=True, out=tmp_path / "run", overrides=_tiny(root), threads=1,
        progress=False,
    )  # fmt: skip
    assert out.status == "completed"
    table = out.report.tables[0]
    assert [r[0] for r in table.rows] == ["CycleGAN", "CycleGAN + guess + noise", "MUNIT + cycle"]
    assert all(isinstance(v, float) and v >= 0 for r in table.rows for v in r[1:])
    for row in ("cyclegan", "guess-noise", "munit-cycle"):
        for d in ("a2b", "b2a"):
            files = sorted((tmp_path / "run" / "translated" / row / d).iterdir())
            assert [f.name for f in files] == ["img0.png", "img1.png", "img2.png"]
            assert read_image(files[0]).shape == (3, 16, 16)
    assert (tmp_path / "run" / "report.md").is_file()


@pytest.mark.slow
def test_without_test_folders_it_scores_training_images_and_says_so(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data", test=False)
    overrides = _tiny(root) | {"rows": ("cyclegan",)}
    out = run_recipe(
        "cyclegan", out=tmp_path / "run", overrides=overrides, threads=1, progress=False
    )
    assert "train (no test folder)" in out.report.tables[0].note
    assert not (tmp_path / "run" / "translated").exists()


def _error(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.stderr
    return lines[0]


def test_bad_folders_exit_2_with_one_line_naming_the_problem(tmp_path: Path) -> None:
    out = tmp_path / "never-written"
    base = ["run", "cyclegan", "--quick", "--out", str(out), "--set"]
    assert "set data.root=DIR" in _error(base[:-1])
    assert "not a folder" in _error([*base, f"data.root={tmp_path / 'nowhere'}"])
    missing = tmp_path / "missing"
    (missing / "trainA").mkdir(parents=True)
    assert "trainB" in _error([*base, f"data.root={missing}"])
    empty = tmp_path / "empty"
    (empty / "trainA").mkdir(parents=True)
    (empty / "trainB").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(empty / "trainB" / "x.png")
    assert "trainA" in _error([*base, f"data.root={empty}"])
    corrupt = _folder(tmp_path / "corrupt")
    (corrupt / "trainA" / "broken.png").write_bytes(b"not a png at all")
    line = _error([*base, f"data.root={corrupt}"])
    assert "broken.png" in line
    assert not out.exists()
