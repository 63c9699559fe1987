"""``unpaired predict`` per kind on files the tests write: equal to calling the network."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import unpaired
from unpaired.data.skeleton import H36M17_JOINTS
from unpaired.errors import DataError
from unpaired.inference import predict_files, read_keypoints
from unpaired.inference.keypoints import COCO_JOINTS

sys.path.insert(0, str(Path(__file__).parent))
from _runs import image_run, pose_run


@pytest.fixture(scope="module")
def pose_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pose_run(tmp_path_factory.mktemp("pose") / "run")


@pytest.fixture(scope="module")
def image_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return image_run(tmp_path_factory.mktemp("image") / "run")


def _keypoints(t: int = 12) -> np.ndarray:
    g = np.random.default_rng(0)
    return (500 + 60 * g.standard_normal((t, 17, 2))).astype(np.float32)


def _direct(run: Path, kp: np.ndarray) -> np.ndarray:
    net = unpaired.load(run).network
    with torch.no_grad():
        return net(torch.from_numpy(kp))["pose_rel"].numpy()


def test_pose_lifting_from_npy_npz_and_csv_equals_the_network(
    pose_model: Path, tmp_path: Path
) -> None:
    kp = _keypoints()
    want = _direct(pose_model, kp)
    np.save(tmp_path / "k.npy", kp)
    np.savez(tmp_path / "k.npz", keypoints=np.concatenate([kp, np.ones((12, 17, 1))], -1))
    header = ",".join(f"{j}_{c}" for j in H36M17_JOINTS for c in "xy")
    np.savetxt(tmp_path / "k.csv", kp.reshape(12, 34), delimiter=",", header=header, comments="")
    model = unpaired.load(pose_model)
    for i, name in enumerate(("k.npy", "k.npz", "k.csv")):
        out = tmp_path / f"out{i}"
        summary = predict_files(
            model, tmp_path / name, out, batch_size=5, figures=1 if i == 0 else 0
        )
        assert summary["frames"] == 12 and summary["kind"] == "pose"
        np.testing.assert_allclose(np.load(out / "poses.npy"), want, rtol=1e-5, atol=1e-5)
    pngs = sorted((tmp_path / "out0" / "skeletons").glob("*.png"))
    assert [p.name for p in pngs] == ["frame_000000.png"]


def test_keypoints_read_in_blocks_of_batches_give_every_frame_once(
    pose_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unpaired.inference import predict as predict_module

    monkeypatch.setattr(predict_module, "POSE_BLOCK", 7)  # blocks of 6 frames, batches of 3
    kp = _keypoints(14)
    np.save(tmp_path / "k.npy", kp)
    model = unpaired.load(pose_model)
    predict_files(model, tmp_path / "k.npy", tmp_path / "out", batch_size=3, figures=0)
    np.testing.assert_allclose(
        np.load(tmp_path / "out" / "poses.npy"), _direct(pose_model, kp), rtol=1e-5, atol=1e-5
    )
    kp[9, 4, 1] = np.nan  # in the second block
    np.save(tmp_path / "nan.npy", kp)
    with pytest.raises(DataError, match="keypoints of frame 9 are not finite"):
        predict_files(model, tmp_path / "nan.npy", tmp_path / "out2", batch_size=3)
    assert not (tmp_path / "out2").exists()


def _coco(kp_coco: np.ndarray, vis: np.ndarray) -> list[dict]:
    return [
        {"image_id": t, "category_id": 1, "score": 0.9,
         "keypoints": np.concatenate([kp_coco[t], vis[t, :, None]], -1).ravel().tolist()}
        for t in range(len(kp_coco))
    ]  # fmt: skip


def test_coco_keypoints_map_to_our_joints_and_missing_ones_are_interpolated(tmp_path: Path) -> None:
    g = np.random.default_rng(1)
    coco = g.uniform(0, 1000, (3, 17, 2)).astype(np.float32)
    vis = np.full((3, 17), 2.0)
    vis[1, COCO_JOINTS.index("l_wrist")] = 0  # not labelled in frame 1
    results = _coco(coco, vis)
    results.append({**results[0], "score": 0.1, "keypoints": [0.0] * 51})  # a second, weaker person
    (tmp_path / "coco.json").write_text(json.dumps(results))
    ours = read_keypoints(tmp_path / "coco.json")
    c = {n: coco[:, i] for i, n in enumerate(COCO_JOINTS)}
    j = {n: i for i, n in enumerate(H36M17_JOINTS)}
    np.testing.assert_allclose(ours[:, j["pelvis"]], (c["l_hip"] + c["r_hip"]) / 2, rtol=1e-6)
    np.testing.assert_allclose(ours[:, j["r_knee"]], c["r_knee"])
    np.testing.assert_allclose(ours[:, j["head"]], (c["l_eye"] + c["r_eye"]) / 2, rtol=1e-6)
    np.testing.assert_allclose(ours[:, j["neck"]], c["nose"])
    np.testing.assert_allclose(
        ours[1, j["l_wrist"]], (c["l_wrist"][0] + c["l_wrist"][2]) / 2, rtol=1e-6
    )
    dataset = {"images": [{"id": 7}, {"id": 3}, {"id": 5}], "annotations": [
        {**r, "image_id": i} for r, i in zip(results[:3], (7, 3, 5), strict=True)]}  # fmt: skip
    (tmp_path / "ds.json").write_text(json.dumps(dataset))
    np.testing.assert_allclose(read_keypoints(tmp_path / "ds.json"), ours)  # images order


def test_bad_keypoints_are_one_error_naming_the_file_and_nothing_is_written(
    pose_model: Path, tmp_path: Path
) -> None:
    model = unpaired.load(pose_model)
    np.save(tmp_path / "j16.npy", np.zeros((4, 16, 2), np.float32))
    with pytest.raises(
        DataError, match=r"j16.npy: keypoints of shape \(4, 16, 2\); expected \(T, 17, 2\)"
    ):
        predict_files(model, tmp_path / "j16.npy", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    with pytest.raises(DataError, match=r"bad\.csv: 3 numbers per row; expected 34"):
        predict_files(model, tmp_path / "bad.csv", tmp_path / "out")
    kp = np.zeros((3, 17, 3), np.float32)
    np.save(tmp_path / "unseen.npy", kp)  # every confidence 0
    with pytest.raises(DataError, match=r"joint 0 \(pelvis\) is missing in every frame"):
        predict_files(model, tmp_path / "unseen.npy", tmp_path / "out")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    np.save(tmp_path / "ok.npy", _keypoints(2))
    with pytest.raises(DataError, match="already exists and is not empty"):
        predict_files(model, tmp_path / "ok.npy", tmp_path / "out")


def _write_images(folder: Path, size: int = 16) -> list[Path]:
    g = np.random.default_rng(0)
    paths = [folder / "a.png", folder / "sub" / "b.jpg", folder / "c.png"]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(g.integers(0, 256, (size, size), dtype=np.uint8)).save(p)
    return paths


def test_image_models_write_pngs_of_the_same_names_equal_to_the_network(
    image_model: Path, tmp_path: Path
) -> None:
    paths = _write_images(tmp_path / "in", size=4)
    model = unpaired.load(image_model, "sr")
    predict_files(model, tmp_path / "in", tmp_path / "out", batch_size=2)
    names = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")
    )
    assert names == ["a.png", "c.png", "sub/b.png"]
    x = torch.from_numpy(np.asarray(Image.open(paths[0]), np.float32) / 255)[None, None]
    with torch.no_grad():
        want = model.network(x)[0, 0].mul(255).round().numpy()
    got = np.asarray(Image.open(tmp_path / "out" / "a.png"), np.float32)
    assert got.shape == (16, 16) and np.abs(got - want).max() <= 1
    predict_files(model, paths[1], tmp_path / "one")  # a single file
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["b.png"]


def test_a_fixed_mask_inpainter_refuses_another_image_size(
    image_model: Path, tmp_path: Path
) -> None:
    _write_images(tmp_path / "in", size=12)
    model = unpaired.load(image_model, "inpaint")
    with pytest.raises(DataError, match=r"a.png: image of 12x12 pixels; this model needs 16x16"):
        predict_files(model, tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (tmp_path / "in16").mkdir()
    _write_images(tmp_path / "in16", size=16)
    assert predict_files(model, tmp_path / "in16", tmp_path / "out")["images"] == 3
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes\.txt: not an image"):
        predict_files(model, tmp_path / "notes.txt", tmp_path / "out2")


def test_an_alignment_transform_applies_in_the_original_units(tmp_path: Path) -> None:
    from unpaired.alignment import align
    from unpaired.distances import MMD
    from unpaired.engine.session import Session
    from unpaired.models.transforms import Affine

    g = torch.Generator().manual_seed(0)
    a = torch.randn(64, 2, generator=g) * 3 + 10
    b = torch.randn(64, 2, generator=g)
    with Session.open(tmp_path / "run", progress=False) as s:
        result = align(a, b, distance=MMD(), transform=Affine(2), steps=5, batch_size=32, session=s)
    np.save(tmp_path / "a.npy", a.numpy())
    model = unpaired.load(tmp_path / "run", "align")
    assert model.kind == "transform"
    predict_files(model, tmp_path / "a.npy", tmp_path / "out", batch_size=10)
    np.testing.assert_allclose(
        np.load(tmp_path / "out" / "aligned.npy"), result.aligned.numpy(), rtol=1e-5, atol=1e-5
    )
    np.save(tmp_path / "d3.npy", np.zeros((4, 3), np.float32))
    with pytest.raises(
        DataError, match=r"d3\.npy: 3 features per sample; this transform was learned on 2"
    ):
        predict_files(model, tmp_path / "d3.npy", tmp_path / "out3")


def test_a_translator_maps_files_through_its_own_range(tmp_path: Path) -> None:
    """CycleGAN's generators work in [-1, 1]; files are [0, 1]: predict converts both ways."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "translation"))
    from _tiny_translation import tiny_cyclegan

    from unpaired.engine.records import write_models

    task = tiny_cyclegan()
    write_models(tmp_path / "run", "cyclegan", task, task.exports(), step=1, finished=True)
    model = unpaired.load(tmp_path / "run")
    assert list(model.networks) == ["a2b", "b2a"] and model.meta["b2a"]["range"] == (-1.0, 1.0)
    g = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    rgb = g.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "in" / "m.png")
    predict_files(model, tmp_path / "in", tmp_path / "out", network="b2a")
    x = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        want = ((task.g_ba.eval()(x * 2 - 1) + 1) / 2)[0].permute(1, 2, 0).mul(255).round().numpy()
    got = np.asarray(Image.open(tmp_path / "out" / "m.png"), np.float32)
    assert got.shape == (16, 16, 3) and np.abs(got - want).max() <= 1
    with pytest.raises(DataError, match="has no network 'ab'; it has: a2b, b2a"):
        predict_files(model, tmp_path / "in", tmp_path / "out2", network="ab")


def test_the_fast_png_path_reads_what_the_library_decoder_reads(tmp_path: Path) -> None:
    from unpaired.data.images import read_image
    from unpaired.inference._imagefiles import read_pixels, read_unit, stack_unit

    g = np.random.default_rng(0)
    rgb = g.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, g.integers(0, 256, (5, 7, 1), dtype=np.uint8)], -1)
    images = {
        "grey.png": Image.fromarray(rgb[..., 0]),
        "rgb.png": Image.fromarray(rgb),
        "palette.png": Image.fromarray(rgb).convert("P"),
        "rgba.png": Image.fromarray(rgba),
        "la.png": Image.merge("LA", [Image.fromarray(rgba[..., 0]), Image.fromarray(rgba[..., 3])]),
        "bits.png": Image.fromarray(rgb[..., 0] > 127),
        "deep.png": Image.fromarray(rgb[..., 0].astype(np.uint16) * 257),
        "photo.jpg": Image.fromarray(rgb),
        "raster.bmp": Image.fromarray(rgb),
    }
    trns = Image.fromarray(rgb).convert("P")
    trns.info["transparency"] = 0
    fast = set()
    for name, im in images.items():
        im.save(tmp_path / name)
    trns.save(tmp_path / "trns.png", transparency=0)
    for path in sorted(tmp_path.iterdir()):
        for channels in (1, 3):
            want = (read_image(path, channels=channels) + 1) / 2
            got = stack_unit([read_unit(path, channels)])[0]
            assert got.shape == want.shape, (path.name, channels)
            assert torch.allclose(got, want, atol=1e-6), (path.name, channels)
            if read_pixels(path, channels) is not None:
                fast.add((path.name, channels))
    assert {("grey.png", 1), ("grey.png", 3), ("rgb.png", 3), ("palette.png", 3)} <= fast
    assert not {n for n, _ in fast} & {"photo.jpg", "raster.bmp", "rgba.png", "trns.png"}
