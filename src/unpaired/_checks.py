"""Argument checks shared by every layer (kornia's KORNIA_CHECK_SHAPE habit).

Shape glossary used in docstrings across the library:
B batch, N/M set sizes, D features, J joints, C/H/W image channels/height/width, T time.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def check_shape(name: str, x: torch.Tensor, shape: Sequence[int | str]) -> None:
    """Raise ``ValueError`` unless ``x`` matches ``shape``.

    ``shape`` holds ints (exact sizes), letters (any size; one letter reused must
    bind to the same size), or ``"*"`` as the first entry (any number of leading dims).

    >>> check_shape("points", torch.zeros(4, 17, 3), ("B", "J", 3))
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    spec = list(shape)
    dims = list(x.shape)
    expected = "(" + ", ".join(str(s) for s in spec) + ")"
    if spec and spec[0] == "*":
        spec = spec[1:]
        if len(dims) < len(spec):
            raise ValueError(f"{name}: expected shape {expected}, got {tuple(dims)}")
        dims = dims[len(dims) - len(spec) :]
    elif len(dims) != len(spec):
        raise ValueError(f"{name}: expected shape {expected}, got {tuple(x.shape)}")
    bound: dict[str, int] = {}
    for s, d in zip(spec, dims, strict=True):
        if isinstance(s, int):
            if s != d:
                raise ValueError(f"{name}: expected shape {expected}, got {tuple(x.shape)}")
        else:
            if bound.setdefault(s, d) != d:
                raise ValueError(
                    f"{name}: expected shape {expected} (all '{s}' equal), got {tuple(x.shape)}"
                )


def check_same_features(
    a: torch.Tensor, b: torch.Tensor, *, names: tuple[str, str] = ("a", "b")
) -> None:
    """Raise unless ``a`` (N, *) and ``b`` (M, *) are sets of samples of the same shape."""
    if a.dim() < 1 or b.dim() < 1:
        raise ValueError(f"{names[0]} and {names[1]} must have a leading sample dimension")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"{names[0]} and {names[1]} must hold samples of the same shape: "
            f"{tuple(a.shape)} vs {tuple(b.shape)}"
        )
