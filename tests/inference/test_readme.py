"""Every command of README.md's "Use it on your data" block, run as written on files and
tiny runs this test writes under the names the README uses. (The block's ``unpaired run``
line trains a real recipe: the slow test below runs it with tiny ``--set`` overrides and
checks that the model names the other lines use are the recipes' own.)"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from unpaired.cli import app
from unpaired.data.synthetic.scenes import render_sequence
from unpaired.data.tum import write_tum
from unpaired.engine.records import list_models

sys.path.insert(0, str(Path(__file__).parent))
from _runs import guided_tasks, image_task, lifting_task, multiview_run, sfm_task, train

README = Path(__file__).parents[2] / "README.md"
runner = CliRunner()


def commands() -> list[str]:
    text = README.read_text().split("## Use it on your data", 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [ln.split("  #", 1)[0].strip() for ln in block.splitlines() if ln.strip()]


def _inputs() -> None:
    g = np.random.default_rng(0)
    np.save("keypoints.npy", (500 + 60 * g.standard_normal((10, 17, 2))).astype(np.float32))
    coco = [
        {"image_id": t, "category_id": 1, "score": 1.0,
         "keypoints": [v for x, y in g.uniform(300, 700, (17, 2)) for v in (x, y, 2)]}
        for t in range(4)
    ]  # fmt: skip
    Path("detections.json").write_text(json.dumps(coco))
    Path("faces").mkdir()
    for name in ("x.png", "y.png"):
        Image.fromarray(g.integers(0, 256, (4, 4), dtype=np.uint8)).save(Path("faces") / name)
    write_tum(render_sequence(0, n_frames=3, height=16, width=48), "rgbd_dataset_freiburg1_xyz")
    Path("shapes_a").mkdir()
    for name in ("p.png", "q.png"):
        rgb = g.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(Path("shapes_a") / name)
    Image.fromarray(g.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save("example_b.png")
    np.savez("views.npz", keypoints=(500 + 60 * g.standard_normal((5, 4, 17, 2))))
    for name, shift in (("a.npy", 4.0), ("b.npy", 0.0), ("new_a.npy", 4.0)):
        np.save(name, g.normal(shift, 1.0, (64, 2)))


def _runs() -> None:
    for name, seed in (("pose", 0), ("pose-seed1", 1)):
        run = train(
            Path("runs") / name, {"exact-aign": lifting_task(prior="mmd")}, recipe="pose-synthetic"
        )
        score = float(seed)  # two runs whose metrics differ
        (run / "metrics.json").write_text(
            json.dumps({"status": "completed", "metrics": {"score": score}})
        )
    train(Path("runs/sr-faces"), {"aign-unbiased": image_task("sr")}, recipe="sr-faces")
    train(Path("runs/sfm"), {"pretrain-selfsup": sfm_task()}, recipe="sfm-scenes")
    train(Path("runs/rift-shapes"), {"rift-A": guided_tasks()["rift"]}, recipe="rift-shapes")
    multiview_run(
        Path("runs/metapose"), stages=1, views=4, prefix="s2-noisy-4v-stage",
        recipe="metapose-synthetic",
    )  # fmt: skip


@pytest.mark.slow  # seven tiny runs and every command: about 25 s
def test_the_readme_block_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _inputs()
    _runs()
    ran = 0
    for cmd in commands():
        words = shlex.split(cmd)
        assert words[0] == "unpaired", cmd
        if words[1] == "run":
            continue  # training a recipe: the slow test
        res = runner.invoke(app, words[1:], env={"COLUMNS": "200"})
        assert res.exit_code == 0, f"{cmd}\n{res.output}"
        ran += 1
    assert ran == len(commands()) - 1
    assert np.load("lifted/poses.npy").shape == (10, 17, 3)
    assert np.load("lifted-coco/poses.npy").shape == (4, 17, 3)
    assert sorted(p.name for p in Path("sharp").iterdir()) == ["x.png", "y.png"]
    assert len(Path("depth/trajectory.txt").read_text().splitlines()) == 4  # header + 3 frames
    assert np.load("moved/aligned.npy").shape == (64, 2)
    assert sorted(p.name for p in Path("guided").iterdir()) == ["p.png", "q.png"]
    assert np.load("lifted-mv/poses.npy").shape == (5, 17, 3)
    assert Path("lifter.pt").stat().st_size > 0


@pytest.mark.slow
def test_the_readme_recipe_names_its_models_as_the_block_uses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = next(c for c in commands() if c.startswith("unpaired run "))
    tiny = ["--set", "n_train=300", "--set", "n_test_per_style=10", "--set", "extra_priors=",
            "--set", "ladder.hidden=16", "--set", "ladder.supervised.steps=5",
            "--set", "ladder.finetune.steps=5", "--threads", "1", "--no-progress"]  # fmt: skip
    res = runner.invoke(app, [*shlex.split(line)[1:], *tiny])
    assert res.exit_code == 0, res.output
    assert "exact-aign" in list_models("runs/pose")
