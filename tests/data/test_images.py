from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unpaired.data.images import (
    AlignedFolder,
    FolderSampler,
    ImageFolder,
    ImageTransform,
    aligned_folders,
    cyclegan_folders,
    inspect_image_root,
    list_images,
    read_image,
)
from unpaired.engine.data import Unpaired
from unpaired.errors import DataError, DataNotFoundError


def _save(path: Path, array: np.ndarray, mode: str | None = None, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path, **kw)
    return path


def _rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_read_image_modes(tmp_path: Path) -> None:
    red = np.zeros((4, 5, 3), np.uint8)
    red[..., 0] = 255
    x = read_image(_save(tmp_path / "red.png", red))
    assert x.shape == (3, 4, 5) and x.dtype == torch.float32
    assert torch.equal(x[:, 0, 0], torch.tensor([1.0, -1.0, -1.0]))
    # Luma of pure red (ITU-R 601-2: 0.299 * 255 = 76.2 -> 76).
    assert read_image(tmp_path / "red.png", channels=1)[0, 0, 0] == pytest.approx(76 / 127.5 - 1)
    gray = np.full((3, 3), 255, np.uint8)
    gray[0, 0] = 0
    g3 = read_image(_save(tmp_path / "g.png", gray))
    assert g3.shape == (3, 3, 3) and torch.equal(g3[:, 0, 0], -torch.ones(3))
    assert read_image(tmp_path / "g.png", channels=1).shape == (1, 3, 3)
    # Fully transparent pixels composite over white; opaque ones keep their colour.
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (0, 0, 255, 255)
    x = read_image(_save(tmp_path / "a.png", rgba, "RGBA"))
    assert torch.equal(x[:, 0, 0], torch.tensor([-1.0, -1.0, 1.0]))
    assert torch.equal(x[:, 1, 1], torch.ones(3))
    # Palette image.
    p = Image.fromarray(_rgb(6, 6)).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    p.save(tmp_path / "p.png")
    expected = torch.from_numpy(np.array(p.convert("RGB"))).permute(2, 0, 1) / 127.5 - 1
    assert torch.allclose(read_image(tmp_path / "p.png"), expected)
    # 16-bit grayscale is scaled by 1/65535, not clipped to 8 bits.
    deep = np.array([[0, 32768], [65535, 1000]], np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    x = read_image(tmp_path / "deep.png", channels=1)
    assert x[0, 1, 0] == pytest.approx(1.0)
    assert x[0, 0, 1] == pytest.approx(32768 / 65535 * 2 - 1, abs=1e-6)
    # JPEG, BMP, CMYK JPEG.
    img = _rgb(8, 8)
    assert read_image(_save(tmp_path / "x.jpg", img, quality=95)).shape == (3, 8, 8)
    assert torch.allclose(
        read_image(_save(tmp_path / "x.bmp", img)),
        torch.from_numpy(img).permute(2, 0, 1) / 127.5 - 1,
    )
    Image.fromarray(img).convert("CMYK").save(tmp_path / "cmyk.jpg")
    assert read_image(tmp_path / "cmyk.jpg").shape == (3, 8, 8)
    with pytest.raises(ValueError, match="channels"):
        read_image(tmp_path / "x.bmp", channels=2)  # type: ignore[arg-type]


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image")
    with pytest.raises(DataError, match=r"junk\.png: cannot read image"):
        read_image(junk)
    good = _save(tmp_path / "t" / "full.png", _rgb(64, 64))
    data = good.read_bytes()
    cut = tmp_path / "t" / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.png: cannot read image"):
        read_image(cut)
    with pytest.raises(DataError, match=r"\.gif"):
        read_image(tmp_path / "x.gif")

    folder = tmp_path / "f"
    _save(folder / "ok.png", _rgb(4, 4))
    (folder / "junk.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"junk\.png"):
        ImageFolder(folder)  # the header check finds it at once
    lazy = ImageFolder(folder, check="none")  # ... or the first read does
    with pytest.raises(DataError, match=r"junk\.png"):
        lazy.batch([0, 1])
    # A truncated file passes the header check but not the full one.
    trunc = tmp_path / "trunc"
    _save(trunc / "a.png", _rgb(64, 64))
    (trunc / "b.png").write_bytes(data[: len(data) // 2])
    ImageFolder(trunc)
    with pytest.raises(DataError, match=r"b\.png"):
        ImageFolder(trunc, check="full")


def test_folder_listing_errors(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        list_images(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        ImageFolder(tmp_path / "empty")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a folder"):
        list_images(tmp_path / "file.png")
    mixed = tmp_path / "mixed"
    _save(mixed / "a.png", _rgb(4, 4))
    (mixed / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"notes\.txt.*\.png, \.jpg"):
        list_images(mixed)
    (mixed / "notes.txt").unlink()
    # Hidden files and folders are skipped; sub-folders are searched, in sorted order.
    (mixed / ".DS_Store").write_bytes(b"\0")
    _save(mixed / ".thumbs" / "t.png", _rgb(4, 4))
    _save(mixed / "sub" / "b.JPG", _rgb(4, 4))
    _save(mixed / "c.bmp", _rgb(4, 4))
    names = [p.relative_to(mixed).as_posix() for p in list_images(mixed)]
    assert names == ["a.png", "c.bmp", "sub/b.JPG"]


def test_mixed_modes_and_odd_sizes(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    _save(folder / "1.png", _rgb(31, 45))
    _save(folder / "2.png", np.full((17, 23), 128, np.uint8))  # grayscale
    _save(folder / "3.png", np.zeros((40, 40, 4), np.uint8), "RGBA")
    Image.fromarray(_rgb(20, 50)).convert("P").save(folder / "4.png")
    _save(folder / "5.jpg", _rgb(64, 33))
    with pytest.raises(DataError, match="different sizes"):
        ImageFolder(folder)
    with pytest.raises(DataError, match="smaller than crop_size"):
        ImageFolder(folder, transform=ImageTransform(crop_size=20))
    f = ImageFolder(folder, transform=ImageTransform(load_size=24, crop_size=16, flip=True))
    x = f.tensor()
    assert x.shape == (5, 3, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x[1], x[1, :1].expand(3, -1, -1))  # gray stays gray
    assert torch.equal(x[2], torch.ones(3, 16, 16))  # transparent -> white
    gray = ImageFolder(folder, channels=1, transform=ImageTransform(load_size=24, crop_size=16))
    assert gray.tensor().shape == (5, 1, 16, 16)
    short = ImageFolder(
        folder, transform=ImageTransform(load_size=18, crop_size=18, resize="shorter_side")
    )
    assert short.tensor().shape == (5, 3, 18, 18)
    assert ImageTransform(load_size=18, resize="shorter_side").resized_size(20, 50) == (18, 45)
    with pytest.raises(ValueError, match="crop_size"):
        ImageTransform(load_size=8, crop_size=16)
    with pytest.raises(ValueError, match="load_size"):
        ImageTransform(load_size=0)


def test_transform_crop_and_flip(tmp_path: Path) -> None:
    ramp = np.tile(np.arange(10, dtype=np.uint8)[None, :, None] * 20, (6, 1, 3))
    f = ImageFolder(
        _save(tmp_path / "r" / "ramp.png", ramp).parent,
        transform=ImageTransform(crop_size=4, flip=True),
    )
    full = torch.from_numpy(ramp).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.equal(f.get(0), full[:, 1:5, 3:7])  # test view: the centre crop
    # u = (row, column, flip): the first, the last crop position, flipped or not.
    assert torch.equal(f.get(0, u=torch.tensor([0.0, 0.0, 0.9])), full[:, 0:4, 0:4])
    assert torch.equal(f.get(0, u=torch.tensor([0.999, 0.999, 0.9])), full[:, 2:6, 6:10])
    assert torch.equal(f.get(0, u=torch.tensor([0.0, 0.0, 0.1])), full[:, 0:4, 0:4].flip(-1))


def test_sampler_is_seeded_resumable_and_rank_consistent(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    for i in range(7):
        _save(folder / f"{i}.png", _rgb(12, 12, seed=i))
    t = ImageTransform(load_size=10, crop_size=8, flip=True)
    disk = FolderSampler(ImageFolder(folder, transform=t), batch_size=3)
    memory = FolderSampler(ImageFolder(folder, transform=t, in_memory=True), batch_size=3)
    a = disk.sample(torch.Generator().manual_seed(4))
    assert a.shape == (3, 3, 8, 8)
    assert torch.equal(a, disk.sample(torch.Generator().manual_seed(4)))
    assert torch.equal(a, memory.sample(torch.Generator().manual_seed(4)))  # same tensors
    assert not torch.equal(a, disk.sample(torch.Generator().manual_seed(5)))
    # Two ranks read the two halves of the global batch that one rank would read.
    both = FolderSampler(ImageFolder(folder, transform=t), batch_size=6)
    whole = both.sample(torch.Generator().manual_seed(9))
    parts = [disk.sample(torch.Generator().manual_seed(9), rank=r, world_size=2) for r in (0, 1)]
    assert torch.equal(torch.cat(parts), whole)
    # Many draws cover every image and both flips.
    g = torch.Generator().manual_seed(0)
    seen = torch.cat([disk.sample(g) for _ in range(20)])
    assert len({tuple(img.flatten()[:6].tolist()) for img in seen}) > 7


def test_aligned_pairs_share_crop_and_flip(tmp_path: Path) -> None:
    half = _rgb(12, 9, seed=3)
    pair = np.concatenate([half, 255 - half, np.zeros((12, 1, 3), np.uint8)], 1)  # odd width
    root = tmp_path / "facades"
    _save(root / "train" / "1.png", pair)
    _save(root / "test" / "1.jpg", pair, quality=100)
    splits = aligned_folders(root, transform=ImageTransform(crop_size=6, flip=True))
    assert set(splits) == {"train", "test"}
    f = splits["train"]
    assert isinstance(f, AlignedFolder) and f.sizes == ((12, 9),)
    for u in (torch.tensor([0.3, 0.7, 0.2]), torch.tensor([0.9, 0.1, 0.8]), None):
        a, b = f.get(0, u=u)
        assert a.shape == (3, 6, 6) and torch.allclose(a, -b, atol=1e-6)  # b = 255 - a
    (a, b), paths = next(f.batches(4))
    assert a.shape == b.shape == (1, 3, 6, 6) and paths[0].name == "1.png"
    xa, xb = FolderSampler(f, batch_size=2).sample(torch.Generator().manual_seed(0))
    assert xa.shape == (2, 3, 6, 6) and torch.allclose(xa, -xb, atol=1e-6)
    with pytest.raises(DataNotFoundError, match="pix2pix aligned layout"):
        aligned_folders(tmp_path / "nothing")


def test_cyclegan_layout_and_report(tmp_path: Path) -> None:
    root = tmp_path / "horse2zebra"
    for i in range(3):
        _save(root / "trainA" / f"a{i}.jpg", _rgb(20, 20, seed=i))
    for i in range(2):
        _save(root / "trainB" / f"b{i}.png", _rgb(24, 24, seed=10 + i))
    _save(root / "testA" / "t.png", np.full((20, 20), 7, np.uint8))
    with pytest.raises(DataNotFoundError, match=r"trainA/ and DIR/trainB/"):
        cyclegan_folders(tmp_path)
    data = cyclegan_folders(root, transform=ImageTransform(load_size=18, crop_size=16, flip=True))
    assert len(data.train_a) == 3 and len(data.train_b) == 2
    assert data.test_a is not None and data.test_b is None
    assert data.test_a.transform.flip is False and data.test_a.transform.crop_size == 16
    batch = Unpaired(
        {
            "a": FolderSampler(data.train_a, batch_size=2),
            "b": FolderSampler(data.train_b, batch_size=2),
        }
    ).sample(torch.Generator().manual_seed(0))
    assert batch["a"].shape == batch["b"].shape == (2, 3, 16, 16)

    (root / "trainB" / "b1.png").write_bytes(b"broken")
    layout, reports = inspect_image_root(root)
    by = {r.name: r for r in reports}
    assert layout == "cyclegan"
    assert (
        by["trainA"].images == 3 and by["trainA"].sizes == "20x20" and by["trainA"].modes == "RGB 3"
    )
    assert by["trainB"].problem is not None and "b1.png" in by["trainB"].problem
    assert by["testA"].modes == "L 1" and by["testA"].problem is None
    assert by["testB"].images is None and by["testB"].problem is None and not by["testB"].required
