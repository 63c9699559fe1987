"""unpaired.data.arrays: user arrays from .npy / .npz / .csv, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from unpaired.data.arrays import load_array, load_samples
from unpaired.errors import DataError


def test_load_array_formats(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "x.npz", samples=x)
    (tmp_path / "x.csv").write_text("a,b,c\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    for name in ("x.npy", "x.npz", "x.csv"):
        np.testing.assert_array_equal(load_array(tmp_path / name), x)
    np.save(tmp_path / "v.npy", np.arange(5.0))
    assert load_array(tmp_path / "v.npy").shape == (5, 1)
    np.save(tmp_path / "img.npy", np.zeros((3, 4, 4)))
    arr, shape = load_samples(tmp_path / "img.npy")
    assert arr.shape == (3, 16) and shape == (3, 4, 4)


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("bad.csv", "1,2\n3,x\n", "bad.csv:2: cannot read 'x' as a number"),
        ("ragged.csv", "1,2\n3,4,5\n", "ragged.csv:2: 3 values, but the first data row has 2"),
        ("empty.csv", "a,b\n", "no numeric rows"),
        ("nan.csv", "1,2\nnan,4\n", "non-finite value (nan or inf) in sample 1"),
        ("junk.npy", "not numpy", "not a readable .npy array"),
        ("junk.npz", "not a zip", "not a readable .npz array"),
        ("x.txt", "1,2", "unsupported file type '.txt'"),
    ],
)
def test_load_array_errors_are_one_line(
    tmp_path: Path, name: str, content: str, needle: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError) as e:
        load_array(tmp_path / name)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_load_array_npz_needs_one_array_and_numbers(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)), b=np.ones((2, 2)))
    with pytest.raises(DataError, match=r"exactly one array .* found 2 \(a, b\)"):
        load_array(tmp_path / "two.npz")
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="expected a numeric array"):
        load_array(tmp_path / "s.npy")
    with pytest.raises(DataError, match="no such file"):
        load_array(tmp_path / "missing.npy")


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=st.floats(-1e6, 1e6)
    )
)
def test_csv_round_trip(tmp_path_factory: pytest.TempPathFactory, x: np.ndarray) -> None:
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    np.savetxt(path, x, delimiter=",")
    np.testing.assert_array_equal(load_array(path), x)
