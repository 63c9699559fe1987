"""Read user arrays of samples (N, D) from ``.npy``, ``.npz`` (one array) or ``.csv``.

Used by ``unpaired align``; every problem with a file is one :class:`DataError` line that
names it (missing, unreadable, unknown extension, non-numeric cell with its line number,
ragged rows, non-finite value with its sample index, empty array).

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "b.csv"
    >>> _ = path.write_text("x,y\\n1,2\\n3,4\\n")
    >>> arr, shape = load_samples(path)
    >>> arr.tolist(), shape
    ([[1.0, 2.0], [3.0, 4.0]], (2, 2))
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np

from unpaired.errors import DataError

__all__ = ["load_array", "load_samples"]


def _read_csv(path: Path) -> np.ndarray:
    rows: list[list[float]] = []
    width = None
    with path.open(newline="") as f:
        for lineno, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            try:
                values = [float(c) for c in cells]
            except ValueError:
                if not rows and lineno == 1:
                    continue  # a header line
                bad = next(c for c in cells if not _is_float(c))
                raise DataError(f"{path}:{lineno}: cannot read {bad!r} as a number") from None
            if width is None:
                width = len(values)
            elif len(values) != width:
                raise DataError(
                    f"{path}:{lineno}: {len(values)} values, but the first data row has {width}"
                )
            rows.append(values)
    if not rows:
        raise DataError(f"{path}: no numeric rows found")
    return np.asarray(rows, dtype=np.float64)


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_array(path: str | Path) -> np.ndarray:
    """Read samples (N, D) from ``.npy``, ``.npz`` (exactly one array) or ``.csv``.

    See :func:`load_samples` (this returns its flattened array only).
    """
    return load_samples(path)[0]


def load_samples(path: str | Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """Read samples from ``.npy``, ``.npz`` (exactly one array) or ``.csv``: (N, D) + shape.

    Arrays with more than two dimensions (N, *) are flattened to (N, D); a 1-D array is
    N samples of one feature. Raises :class:`DataError` with one line naming the file
    for a missing/unreadable file, an unknown extension, a non-numeric or non-finite
    value, or an empty array.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz", ".csv"):
        raise DataError(f"{p}: unsupported file type '{p.suffix}'; expected .npy, .npz or .csv")
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    try:
        if suffix == ".csv":
            arr = _read_csv(p)
        elif suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            with np.load(p, allow_pickle=False) as z:
                names = list(z.files)
                if len(names) != 1:
                    raise DataError(
                        f"{p}: expected exactly one array in the .npz, found {len(names)}"
                        + (f" ({', '.join(names)})" if names else "")
                    )
                arr = z[names[0]]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise DataError(f"{p}: not a readable {suffix} array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{p}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[0] == 0 or arr.size == 0:
        raise DataError(f"{p}: empty array (shape {arr.shape}); expected samples (N, D)")
    shape = tuple(int(s) for s in arr.shape)
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim != 1 else arr[:, None]
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise DataError(f"{p}: non-finite value (nan or inf) in sample {row}")
    return arr, shape
