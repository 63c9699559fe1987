from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from unpaired.data.celeba import (
    CELEBA_ATTRIBUTES,
    attribute_filter,
    load_celeba,
    read_attributes,
    read_partition,
)
from unpaired.errors import ConfigError, DataError, DataNotFoundError

N = 6
H, W = 24, 20  # aligned CelebA is 218x178 (height x width); same aspect, tiny


def attr_text(names: list[str], values: np.ndarray) -> str:
    # the published file: count, names with a trailing space, rows padded with double spaces
    rows = [
        f"{n} " + " ".join(f"{v:2d}" for v in row) for n, row in zip(names, values, strict=True)
    ]
    return f"{len(names)}\n" + " ".join(CELEBA_ATTRIBUTES) + " \n" + "\n".join(rows) + "\n"


@pytest.fixture
def celeba(tmp_path: Path) -> tuple[Path, list[str], np.ndarray]:
    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(N)]
    for i, name in enumerate(names):
        img = np.zeros((H, W, 3), np.uint8)
        img[:, :] = (0, 0, 40 * i)  # BGR: red grows with the index
        img[:2] = 255  # white rows outside the central 20x20 square
        cv2.imwrite(str(folder / "img_align_celeba" / name), img)
    values = np.where(np.random.default_rng(0).random((N, 40)) < 0.5, -1, 1)
    values[:, CELEBA_ATTRIBUTES.index("Male")] = [1, -1, 1, -1, 1, -1]
    values[:, CELEBA_ATTRIBUTES.index("Young")] = [1, 1, -1, -1, 1, 1]
    (folder / "list_attr_celeba.txt").write_text(attr_text(names, values))
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{n} {p}\n" for n, p in zip(names, [0, 0, 0, 1, 2, 2], strict=True))
    )
    return tmp_path, names, values


def test_read_attributes(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, names, values = celeba
    files, attrs = read_attributes(root / "celeba" / "list_attr_celeba.txt")
    assert files == names
    assert attrs.dtype == torch.int64 and torch.equal(attrs, torch.from_numpy(values).long())


def test_load_all_crop_resize_rgb(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, _, values = celeba
    x, attrs = load_celeba(root, size=8)
    assert x.shape == (N, 3, 8, 8) and x.dtype == torch.float32
    assert torch.equal(attrs, torch.from_numpy(values).long())
    # the white top rows lie outside the central square and are cropped away
    assert x[:, 1:].max() < 0.1
    red = x[:, 0].mean(dim=(1, 2))
    torch.testing.assert_close(red, torch.arange(N) * 40 / 255, atol=0.03, rtol=0)


def test_explicit_crop_grayscale_and_limit(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, _, _ = celeba
    x, attrs = load_celeba(root, size=12, crop=12, grayscale=True, limit=4)
    assert x.shape == (4, 1, 12, 12) and attrs.shape == (4, 40)
    # BT.601 luma of pure red is 0.299 * red
    torch.testing.assert_close(
        x.mean(dim=(1, 2, 3)), 0.299 * torch.arange(4) * 40 / 255, atol=0.03, rtol=0
    )
    with pytest.raises(DataError, match="smaller than the 30x30 crop"):
        load_celeba(root, crop=30)


def test_attribute_filters_and_splits(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, _, _ = celeba
    _, female = load_celeba(root, size=4, attributes={"Male": -1})
    assert female[:, CELEBA_ATTRIBUTES.index("Male")].tolist() == [-1, -1, -1]
    _, old_men = load_celeba(root, size=4, attributes={"Male": 1, "Young": -1})
    assert len(old_men) == 1
    assert load_celeba(root, size=4, split="train")[0].shape[0] == 3
    assert load_celeba(root, size=4, split="valid")[0].shape[0] == 1
    _, test_female = load_celeba(root, size=4, split="test", attributes={"Male": -1})
    assert len(test_female) == 1  # images 5 (male) and 6 (female) are test


def test_attribute_filter_rejects_bad_requests() -> None:
    values = torch.ones(3, 40, dtype=torch.int64)
    with pytest.raises(ConfigError, match="unknown CelebA attribute 'Beard'"):
        attribute_filter(values, {"Beard": 1})
    for bad in (0, 2, True):
        with pytest.raises(ConfigError, match="must be selected as 1 or -1"):
            attribute_filter(values, {"Male": bad})


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda ls: ["six", *ls[1:]], r"list_attr_celeba\.txt:1: expected the number of images"),
        (lambda ls: [ls[0], "Male Young", *ls[2:]], r"list_attr_celeba\.txt:2: expected the 40"),
        (
            lambda ls: [*ls[:4], ls[4].rsplit(" ", 1)[0], *ls[5:]],
            r"list_attr_celeba\.txt:5: expected a file name and 40 values, got 40",
        ),
        (
            lambda ls: [*ls[:6], ls[6].replace("-1", " 0", 1), *ls[7:]],
            r"list_attr_celeba\.txt:7: attribute values must be -1 or 1, got '0'",
        ),
        (lambda ls: ls[:-1], r"line 1 announces 6 images, but 5 follow"),
        (lambda ls: ls[:1], "expected an image count line"),
    ],
)
def test_malformed_attribute_files(
    celeba: tuple[Path, list[str], np.ndarray], edit, match: str
) -> None:
    root, _, _ = celeba
    path = root / "celeba" / "list_attr_celeba.txt"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(DataError, match=match):
        load_celeba(root, size=4)


def test_partition_problems(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, names, _ = celeba
    part = root / "celeba" / "list_eval_partition.txt"
    part.write_text(f"{names[0]} 0\n{names[1]} 3\n")
    with pytest.raises(DataError, match=r"list_eval_partition\.txt:2: expected 'filename 0\|1\|2'"):
        read_partition(part)
    part.write_text(f"{names[0]} 0\n")
    with pytest.raises(DataError, match=r"no partition for 000002\.jpg"):
        load_celeba(root, split="test")
    part.unlink()
    with pytest.raises(DataNotFoundError, match="split='test' needs"):
        load_celeba(root, split="test")
    assert load_celeba(root, size=4)[0].shape[0] == N  # 'all' needs no partition file


def test_missing_or_corrupt_images(celeba: tuple[Path, list[str], np.ndarray]) -> None:
    root, names, _ = celeba
    image = root / "celeba" / "img_align_celeba" / names[2]
    image.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match=re.escape(f"{names[2]}: missing or not a decodable image")):
        load_celeba(root, size=4)
    image.unlink()
    with pytest.raises(DataError, match=re.escape(f"{names[2]}: missing")):
        load_celeba(root, size=4)


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="dataset 'celeba' not found"):
        load_celeba(tmp_path)
