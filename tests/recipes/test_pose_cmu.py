"""pose-cmu: test files (BVH written here, CMU AMC), the validation split end to end, clear
errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from unpaired.errors import ConfigError, DataError, DataNotFoundError
from unpaired.recipes._pose import LABELS
from unpaired.recipes.pose_cmu import Config, load_split, load_test_files
from unpaired.recipes.runner import run_recipe

#: A CMU-named BVH skeleton (cm, y up): name, parent, offset; End Sites are "<parent>_end".
_JOINTS = (
    ("Hips", -1, (0.0, 95.0, 0.0)),
    ("LeftUpLeg", 0, (9.0, -5.0, 0.0)),
    ("LeftLeg", 1, (0.0, -42.0, 0.0)),
    ("LeftFoot", 2, (0.0, -42.0, 0.0)),
    ("RightUpLeg", 0, (-9.0, -5.0, 0.0)),
    ("RightLeg", 4, (0.0, -42.0, 0.0)),
    ("RightFoot", 5, (0.0, -42.0, 0.0)),
    ("Spine", 0, (0.0, 10.0, 0.0)),
    ("Spine1", 7, (0.0, 18.0, 0.0)),
    ("Neck", 8, (0.0, 20.0, 0.0)),
    ("Head", 9, (0.0, 10.0, 2.0)),
    ("LeftArm", 9, (16.0, -3.0, 0.0)),
    ("LeftForeArm", 11, (0.0, -28.0, 0.0)),
    ("LeftHand", 12, (0.0, -24.0, 0.0)),
    ("RightArm", 9, (-16.0, -3.0, 0.0)),
    ("RightForeArm", 14, (0.0, -28.0, 0.0)),
    ("RightHand", 15, (0.0, -24.0, 0.0)),
)
_LEAVES = {3, 6, 10, 13, 16}


def write_bvh(path: Path, frames: int = 12) -> Path:
    """A valid BVH (30 fps) whose arms and knees swing from frame to frame."""
    children: dict[int, list[int]] = {}
    for j, (_, parent, _) in enumerate(_JOINTS):
        children.setdefault(parent, []).append(j)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        name, parent, offset = _JOINTS[j]
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parent < 0 else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {offset[0]} {offset[1]} {offset[2]}")
        channels = "Xposition Yposition Zposition " if parent < 0 else ""
        lines.append(
            f"{pad}  CHANNELS {6 if parent < 0 else 3} {channels}Zrotation Xrotation Yrotation"
        )
        for c in children.get(j, []):
            emit(c, depth + 1)
        if j in _LEAVES:
            lines.extend(
                [f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 -5 0", f"{pad}  }}"]
            )
        lines.append(pad + "}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    for t in range(frames):
        values = [0.0, 95.0, 0.0, 0.0, 0.0, 10.0 * t]
        for j in range(1, len(_JOINTS)):
            swing = 30.0 * math.sin(0.5 * t + j)
            values += [0.0, swing if j in (2, 5, 12, 15) else 0.0, 0.0]
        lines.append(" ".join(f"{v:.4f}" for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


TINY = {
    "settings": ("exact",),
    "martinez": False,
    "extra_priors": (),
    "loso": False,
    "ladder.hidden": 32,
    "ladder.batch_size": 64,
    "ladder.supervised.steps": 30,
    "ladder.finetune.steps": 20,
}


def test_load_test_files_reads_bvh_and_reports_bad_files(tmp_path: Path) -> None:
    takes = load_test_files([str(write_bvh(tmp_path / "walk.bvh"))], fps=30.0, bvh_units="cm")
    assert list(takes) == ["walk"] and takes["walk"].shape == (12, 17, 3)
    assert 1.3 < float(takes["walk"][0, 10, 1] - takes["walk"][0, 3, 1]) < 2.0  # head above feet
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"notes\.txt"):
        load_test_files([str(tmp_path / "notes.txt")], fps=30.0, bvh_units="cm")
    with pytest.raises(DataNotFoundError, match=r"gone\.bvh"):
        load_test_files([str(tmp_path / "gone.bvh")], fps=30.0, bvh_units="cm")
    (tmp_path / "x_01.amc").write_text(":FULLY-SPECIFIED\n:DEGREES\n")
    with pytest.raises(DataError, match="ASF"):
        load_test_files([str(tmp_path / "x_01.amc")], fps=30.0, bvh_units="cm")


def test_load_test_files_reads_cmu_amc_with_its_asf(shared_data: Path) -> None:
    amc = shared_data / "cmu_mocap" / "subjects" / "03" / "03_01.amc"
    takes = load_test_files([str(amc)], fps=30.0, bvh_units="cm")
    assert list(takes) == ["03_01"] and takes["03_01"].shape == (108, 17, 3)  # 431 frames / 4


@pytest.mark.slow
def test_pose_cmu_runs_the_ladder_on_the_validation_split(
    tmp_path: Path, shared_data: Path
) -> None:
    outcome = run_recipe(
        "pose-cmu",
        out=tmp_path / "run",
        data_dir_option=str(shared_data),
        overrides={
            **TINY,
            "split": "validation",
            "train_subjects": ("02",),
            "val_takes": ("02_01",),
            "extra_priors": ("dual",),
        },
        threads=1,
        progress=False,
    )
    assert outcome.status == "completed" and outcome.report is not None
    table = outcome.report.tables[0]
    assert table.columns[1:3] == ["02_01", "take mean"]
    assert [r[0] for r in table.rows] == [
        LABELS[m] for m in ("forward2dto3d", "interpreter", "aign", "aign-dual")
    ]
    metrics = outcome.report.metrics
    assert metrics["test"].startswith("validation: takes 02_01")
    assert metrics["frames"] == {"train": 3208 - 86, "test": 86}
    assert "loso" not in metrics
    assert all(math.isfinite(v["torso"]) for v in metrics["exact"]["models"].values())
    # Sup3 at work: finetuning on the (unlabelled) validation 2D fits it better.
    scores = metrics["exact"]["models"]
    assert scores["interpreter"]["reproj_px"] < scores["forward2dto3d"]["reproj_px"]


def test_unknown_validation_take_is_one_clear_error(shared_data: Path) -> None:
    with pytest.raises(ConfigError, match="02_99"):
        load_split(Config(split="validation", val_takes=("02_99",)), shared_data, torch.Generator())
