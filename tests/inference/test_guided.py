"""``unpaired predict`` / ``export`` of guided translators (kind ``"guided"``): StarGAN v2,
RIFT and MUNIT with a guide, PuppetGAN and Cycle-VAE (the reference is the guide), on
image folders the tests write; outputs equal the loaded network called directly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import unpaired
from unpaired.cli import app
from unpaired.errors import DataError
from unpaired.inference import predict_files
from unpaired.inference.export import example_input, export_model, exportable

sys.path.insert(0, str(Path(__file__).parent))
from _runs import guided_run

runner = CliRunner()

#: (model, network, channels) of every guided network the test run holds.
CASES = [
    ("stargan", "a2b", 3),
    ("stargan", "b2a", 3),
    ("rift", "a2b-guided", 3),
    ("munit", "b2a-guided", 3),
    ("puppet", "manipulate", 1),
    ("puppet", "a2b", 1),
    ("cyclevae", "manipulate", 1),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return guided_run(tmp_path_factory.mktemp("guided") / "run")


def _write(folder: Path, names: list[str], channels: int, seed: int) -> list[np.ndarray]:
    g = np.random.default_rng(seed)
    arrays = []
    for name in names:
        shape = (16, 16, 3) if channels == 3 else (16, 16)
        arr = g.integers(0, 256, shape, dtype=np.uint8)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(folder / name)
        arrays.append(arr)
    return arrays


def _tensor(arrays: list[np.ndarray]) -> torch.Tensor:
    x = torch.from_numpy(np.stack([a if a.ndim == 3 else a[..., None] for a in arrays]))
    return x.float().permute(0, 3, 1, 2) / 255.0 * 2 - 1


def _direct(run: Path, model: str, key: str, x: list, g: list) -> np.ndarray:
    net = unpaired.load(run, model)[key]
    with torch.no_grad():
        y = ((net(_tensor(x), _tensor(g)) + 1) / 2).clamp(0, 1)
    return (y * 255).round().byte().permute(0, 2, 3, 1).numpy()


def _read(path: Path, channels: int) -> np.ndarray:
    arr = np.asarray(Image.open(path))
    return arr[..., None] if channels == 1 else arr


@pytest.mark.parametrize(("model", "key", "channels"), CASES)
def test_a_folder_guided_by_one_image_by_name_and_by_order_equals_the_network(
    run: Path, tmp_path: Path, model: str, key: str, channels: int
) -> None:
    names = ["b.png", "a.png", "sub/c.png"]
    x = _write(tmp_path / "in", names, channels, seed=1)
    _write(tmp_path / "guides", ["a.jpg", "b.png", "sub/c.png"], channels, seed=2)
    # the guide of each input by name (a JPEG is read back: it is lossy)
    by_name = [_read(tmp_path / "guides" / n, channels) for n in ("b.png", "a.jpg", "sub/c.png")]
    ordered = _write(tmp_path / "order", ["1.png", "2.png", "3.png"], channels, seed=3)
    loaded = unpaired.load(run, model)
    sorted_names = sorted(names)  # the order list_images gives: a.png, b.png, sub/c.png
    for i, (guide, guides, pairing) in enumerate(
        [
            (tmp_path / "order" / "2.png", [ordered[1]] * 3, "one guide"),
            (tmp_path / "guides", by_name, "by name"),
            (tmp_path / "order", ordered, "by sorted order"),
        ]
    ):
        out = tmp_path / f"out{i}"
        summary = predict_files(
            loaded, tmp_path / "in", out, network=key, batch_size=2, guide=guide
        )
        assert summary["kind"] == "guided" and summary["images"] == 3
        assert summary["pairing"] == pairing
        if pairing == "by sorted order":  # guides follow the inputs' sorted order
            guides = [ordered[sorted_names.index(n)] for n in names]
        want = _direct(run, model, key, x, guides)
        for name, w in zip(names, want, strict=True):
            got = _read(out / name, channels)
            assert got.shape == w.shape
            assert np.abs(got.astype(int) - w.astype(int)).max() <= 1, (model, key, name)


def test_bad_guides_are_one_error_naming_the_file_and_leave_nothing(
    run: Path, tmp_path: Path
) -> None:
    _write(tmp_path / "in", ["a.png", "b.png"], 3, seed=1)
    _write(tmp_path / "three", ["x.png", "y.png", "z.png"], 3, seed=2)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "small.png")
    rift, puppet = unpaired.load(run, "rift"), unpaired.load(run, "puppet")
    cases = [
        (rift, "a2b-guided", None, "give --guide"),
        (rift, "a2b-guided", tmp_path / "three", "3 guide images for 2 inputs"),
        (rift, "a2b-guided", tmp_path / "nope", "no such image or folder"),
        (rift, "a2b-guided", tmp_path / "small.png", "small.png: guide of 8x8 pixels"),
        (puppet, "manipulate", tmp_path / "small.png", "small.png: guide of 8x8 pixels"),
    ]
    for i, (model, key, guide, message) in enumerate(cases):
        with pytest.raises(DataError, match=message):
            predict_files(model, tmp_path / "in", tmp_path / f"o{i}", network=key, guide=guide)
        assert not (tmp_path / f"o{i}").exists()


def test_predict_command_takes_a_guide_and_refuses_one_for_other_kinds(
    run: Path, tmp_path: Path
) -> None:
    _write(tmp_path / "in", ["a.png", "b.png"], 3, seed=1)
    _write(tmp_path, ["g.png"], 3, seed=2)
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "in"), "--model", "stargan", "--guide",
              str(tmp_path / "g.png"), "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "stargan (guided): 2 images, 1 guides" in res.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.png", "b.png"]
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "in"), "--model", "rift", "--network", "a2b",
              "--guide", str(tmp_path / "g.png"), "--out", str(tmp_path / "o2")],
    )  # fmt: skip
    assert res.exit_code == 2 and "--guide is for guided translators" in res.stderr
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "in"), "--model", "stargan",
              "--out", str(tmp_path / "o3")],
    )  # fmt: skip
    assert res.exit_code == 2 and "give --guide" in res.stderr
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


@pytest.mark.parametrize(("model", "key", "channels"), CASES)
def test_torchscript_export_takes_images_and_guides(
    run: Path, tmp_path: Path, model: str, key: str, channels: int
) -> None:
    loaded = unpaired.load(run, model)
    path = export_model(loaded, tmp_path / "m.pt", network=key)
    x, g = example_input(loaded, key, batch=3)  # another batch size than the traced one
    assert x.shape[1] == channels
    with torch.no_grad():
        want = exportable(loaded, key)(x, g)
        got = torch.jit.load(str(path))(x, g)
    assert got.shape == x.shape and torch.allclose(got, want, atol=1e-5)


@pytest.mark.slow  # the ONNX exporter takes seconds
def test_onnx_export_of_a_guided_translator_has_two_inputs(run: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    loaded = unpaired.load(run, "stargan")
    path = export_model(loaded, tmp_path / "m.onnx", format="onnx")
    x, g = example_input(loaded, "a2b", batch=5)
    session = ort.InferenceSession(str(path))
    (got,) = session.run(None, {"input": x.numpy(), "guide": g.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, exportable(loaded, "a2b")(x, g).numpy(), atol=1e-5)
