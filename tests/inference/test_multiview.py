"""``unpaired predict`` / ``export`` of MetaPose's multi-view lifter (kind ``"multiview"``):
keypoints (T, C, 17, 2) of C views in pixels -> ``poses.npy`` (T, 17, 3), on files the
tests write; outputs equal the loaded network called directly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import unpaired
from unpaired.cli import app
from unpaired.data.skeleton import ROOT
from unpaired.errors import DataError
from unpaired.inference import predict_files
from unpaired.inference.export import export_model
from unpaired.inference.multiview import read_views

sys.path.insert(0, str(Path(__file__).parent))
from _runs import multiview_run

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return multiview_run(tmp_path_factory.mktemp("multiview") / "run")


def _views(t: int = 10, c: int = 3) -> np.ndarray:
    g = np.random.default_rng(0)
    return (500 + 60 * g.standard_normal((t, c, 17, 2))).astype(np.float32)


def _direct(run: Path, name: str, views: np.ndarray) -> np.ndarray:
    net = unpaired.load(run, name).network
    with torch.no_grad():
        return net(torch.from_numpy(views)).numpy()


def test_every_stage_fit_exports_the_lifter_and_its_stages(run: Path) -> None:
    for stage in (0, 1):
        model = unpaired.load(run, f"s2-stage{stage}")
        assert model.kinds == {"metapose": "multiview"}
        assert model.meta["metapose"]["stages"] == stage + 1
        assert model.meta["metapose"]["views"] == 3
        assert len(model.network.s2.stages) == stage + 1
    assert unpaired.load(run, "lifter").kind == "pose"


def test_npy_npz_and_confidences_give_the_network_poses(run: Path, tmp_path: Path) -> None:
    views = _views()
    want = _direct(run, "s2-stage1", views)
    np.save(tmp_path / "v.npy", views)
    with_conf = np.concatenate([views, np.ones((*views.shape[:3], 1), np.float32)], -1)
    np.save(tmp_path / "v3.npy", with_conf)
    np.savez(tmp_path / "v.npz", keypoints=views, confidences=np.ones(views.shape[:3]))
    model = unpaired.load(run, "s2-stage1")
    for i, name in enumerate(("v.npy", "v3.npy", "v.npz")):
        out = tmp_path / f"o{i}"
        summary = predict_files(model, tmp_path / name, out, batch_size=4)
        assert summary["kind"] == "multiview" and summary["frames"] == 10
        assert summary["views"] == 3
        poses = np.load(out / "poses.npy")
        assert poses.shape == (10, 17, 3) and np.isfinite(poses).all()
        np.testing.assert_allclose(poses, want, atol=1e-4)
        np.testing.assert_allclose(poses[:, ROOT], 0.0, atol=1e-5)  # root-relative


def test_a_missing_joint_is_interpolated_in_its_view(run: Path, tmp_path: Path) -> None:
    views = _views()
    conf = np.ones(views.shape[:3], np.float32)
    holed = views.copy()
    conf[4, 1, 7] = 0.0
    holed[4, 1, 7] = 0.0  # unseen: its value must not matter
    holed[5, 2, 3] = np.nan
    np.savez(tmp_path / "h.npz", keypoints=holed, confidences=conf)
    filled = views.copy()
    filled[4, 1, 7] = (views[3, 1, 7] + views[5, 1, 7]) / 2
    filled[5, 2, 3] = (views[4, 2, 3] + views[6, 2, 3]) / 2
    np.testing.assert_allclose(read_views(tmp_path / "h.npz"), filled, rtol=1e-6)
    predict_files(unpaired.load(run, "s2-stage0"), tmp_path / "h.npz", tmp_path / "o")
    want = _direct(run, "s2-stage0", filled)
    np.testing.assert_allclose(np.load(tmp_path / "o" / "poses.npy"), want, atol=1e-4)


def test_bad_multiview_input_is_one_error_naming_the_file(run: Path, tmp_path: Path) -> None:
    views = _views()
    np.save(tmp_path / "joints.npy", views[:, :, :15])
    np.save(tmp_path / "one.npy", views[:, :1])
    never = np.concatenate([views, np.ones((*views.shape[:3], 1), np.float32)], -1)
    never[:, 2, 9, 2] = 0.0
    np.save(tmp_path / "never.npy", never)
    np.savez(tmp_path / "conf.npz", keypoints=views, confidences=np.ones((10, 3)))
    model = unpaired.load(run, "s2-stage1")
    for name, message in [
        ("joints.npy", r"joints.npy: keypoints of shape \(10, 3, 15, 2\)"),
        ("one.npy", "one.npy: 10 frames of 1 views; need at least 1 frame of 2 views"),
        ("never.npy", "never.npy: joint 9 .* is missing in every frame"),
        ("conf.npz", r"conf.npz: confidences of shape \(10, 3\)"),
    ]:
        with pytest.raises(DataError, match=message):
            predict_files(model, tmp_path / name, tmp_path / f"o-{name}")
        assert not (tmp_path / f"o-{name}").exists()


def test_the_predict_command_and_a_torchscript_export(run: Path, tmp_path: Path) -> None:
    views = _views(6, 4)  # another number of views than trained: the stages take any
    np.save(tmp_path / "v.npy", views)
    res = runner.invoke(
        app, ["predict", str(run), str(tmp_path / "v.npy"), "--model", "s2-stage1",
              "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "s2-stage1 (multiview): 6 frames, 4 views" in res.stdout
    model = unpaired.load(run, "s2-stage1")
    path = export_model(model, tmp_path / "m.pt")
    x = torch.from_numpy(views[:5, :3])  # another batch size than the traced one
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(path))(x), model.network(x), atol=1e-4)
    res = runner.invoke(
        app, ["export", str(run), str(tmp_path / "m.onnx"), "--model", "s2-stage1",
              "--format", "onnx"],
    )  # fmt: skip
    assert res.exit_code == 2 and "ONNX has no operator for" in res.stderr
    assert not (tmp_path / "m.onnx").exists()
