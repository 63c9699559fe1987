"""inpaint-faces: the face box hides the intended region, and an end-to-end run on
the real Olivetti faces with tiny networks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unpaired.recipes import _images
from unpaired.recipes.inpaint_faces import Config
from unpaired.recipes.runner import run_recipe

TINY = {
    "nets.generator_width": 4,
    "nets.generator_blocks": 2,
    "nets.critic_width": 4,
    "nets.decoder_width": 4,
    "nets.classifier_width": 4,
    "train.steps": 3,
    "supervised.steps": 2,
    "classifier.steps": 2,
    "betas": (0.05,),
    "grid_examples": 3,
}


def test_default_face_box_hides_part_of_the_lower_face() -> None:
    m = _images.inpainting(Config().box, 64).visible[0, 0]
    hidden = (m == 0).nonzero()
    assert 0.03 < len(hidden) / m.numel() < 0.5
    assert hidden[:, 0].min() >= 24  # below the eyes


@pytest.mark.slow
def test_inpaint_faces_recipe_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    outcome = run_recipe(
        "inpaint-faces",
        out=tmp_path,
        overrides=TINY,
        threads=1,
        progress=False,
        data_dir_option=str(shared_data),
    )
    report = outcome.report
    assert outcome.status == "completed" and report is not None
    main = report.tables[0]
    assert main.rows[2][1] == f"person {Config().memory_class} only"
    for row in main.rows:
        assert all(math.isfinite(v) for v in row[3:8])
        assert 0 <= row[4] <= 1  # SSIM over visible pixels
    assert main.rows[3][8] is not None  # the decoder's own reconstruction PSNR
    assert (tmp_path / "figures" / "grid.png").stat().st_size > 1000
