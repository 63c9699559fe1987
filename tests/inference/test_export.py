"""``unpaired export``: TorchScript files that run without ``unpaired`` and equal the
library's networks; ONNX files that onnxruntime runs to the same numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import unpaired
from unpaired.cli import app
from unpaired.inference.export import example_input, export_model, exportable

sys.path.insert(0, str(Path(__file__).parent))
from _runs import image_run, pose_run, sfm_run

runner = CliRunner()

#: Run in a fresh interpreter: load each TorchScript file and its input, save the output.
SCRIPT = """
import sys, torch
for stem in sys.argv[1:]:
    net = torch.jit.load(stem + ".pt")
    out = net(torch.load(stem + ".in", weights_only=True))
    torch.save(out, stem + ".out")
assert not any(m == "unpaired" or m.startswith("unpaired.") for m in sys.modules), "imported unpaired"
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export")
    return {
        "pose": pose_run(base / "pose"),
        "image": image_run(base / "image"),
        "sfm": sfm_run(base / "sfm"),
    }


CASES = [("pose", None), ("image", "sr"), ("image", "inpaint"), ("sfm", None)]


def _library(model, key, x):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return exportable(model, key)(x)


@pytest.mark.slow  # a fresh interpreter (torch alone) takes a few seconds
def test_torchscript_runs_without_unpaired_and_equals_the_library(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    stems, expected = [], {}
    for i, (run, name) in enumerate(CASES):
        stem = str(tmp_path / f"m{i}")
        res = runner.invoke(
            app, ["export", str(runs[run]), stem + ".pt", *(["--model", name] if name else [])]
        )
        assert res.exit_code == 0, res.output
        model = unpaired.load(runs[run], name)
        key = model.select(None)
        x = example_input(model, key, batch=3)  # another batch size than the traced one
        torch.save(x, stem + ".in")
        stems.append(stem)
        expected[stem] = _library(model, key, x)
    subprocess.run([sys.executable, "-c", SCRIPT, *stems], check=True, timeout=120)
    for stem in stems:
        got, want = torch.load(stem + ".out", weights_only=True), expected[stem]
        for g, w in zip(
            got if isinstance(got, tuple) else [got],
            want if isinstance(want, tuple) else [want],
            strict=True,
        ):
            assert g.shape == w.shape and torch.allclose(g, w, atol=1e-5), stem
    extra = {"meta.json": ""}
    torch.jit.load(stems[0] + ".pt", _extra_files=extra)
    assert b'"kind": "pose"' in extra["meta.json"]  # type: ignore[operator]


def test_an_alignment_transform_exports_in_the_original_units(tmp_path: Path) -> None:
    from unpaired.alignment import align
    from unpaired.distances import MMD
    from unpaired.engine.session import Session
    from unpaired.models.transforms import Affine

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, 3, generator=g) * 4 + 7, torch.randn(32, 3, generator=g)
    with Session.open(tmp_path / "run", progress=False) as s:
        result = align(a, b, distance=MMD(), transform=Affine(3), steps=3, batch_size=16, session=s)
    path = export_model(unpaired.load(tmp_path / "run", "align"), tmp_path / "t.pt")
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(path))(a), result.aligned, atol=1e-5)


@pytest.mark.slow  # the ONNX exporter takes seconds
def test_onnx_export_runs_in_onnxruntime_with_any_batch_size(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    for run, name in (("pose", None), ("image", "sr")):
        model = unpaired.load(runs[run], name)
        key = model.select(None)
        path = export_model(model, tmp_path / f"{run}.onnx", format="onnx")
        session = ort.InferenceSession(str(path))
        x = example_input(model, key, batch=5)
        (got,) = session.run(None, {"input": x.numpy()})
        np.testing.assert_allclose(got, _library(model, key, x).numpy(), atol=1e-5)


def test_a_bad_format_is_one_error_line(runs: dict[str, Path], tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["export", str(runs["pose"]), str(tmp_path / "x.bin"), "--format", "tflite"]
    )
    assert res.exit_code == 2 and "--format must be torchscript or onnx" in res.stderr
    assert not (tmp_path / "x.bin").exists()
