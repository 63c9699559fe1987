"""The Translator interface and its helpers."""

from __future__ import annotations

import pytest
import torch

from unpaired.translation import (
    Translator,
    as_callable,
    check_direction,
    opposite,
    translate_batched,
)


class _Scale:
    """a2b doubles, b2a halves; a guide is added."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def translate(self, x, direction="a2b", guide=None):  # type: ignore[no-untyped-def]
        check_direction(direction)
        self.calls.append(x.shape[0])
        y = 2 * x if direction == "a2b" else x / 2
        return y if guide is None else y + guide


def test_protocol_and_helpers() -> None:
    t = _Scale()
    assert isinstance(t, Translator) and not isinstance(object(), Translator)
    x = torch.arange(10.0).reshape(5, 2, 1, 1)
    torch.testing.assert_close(as_callable(t, "b2a")(x), x / 2)
    guide = torch.ones(5, 2, 1, 1)
    out = translate_batched(t, x, "a2b", guide=guide, batch_size=2)
    torch.testing.assert_close(out, 2 * x + 1)
    assert t.calls[-3:] == [2, 2, 1]
    assert opposite("a2b") == "b2a" and opposite("b2a") == "a2b"


def test_bad_arguments() -> None:
    t = _Scale()
    with pytest.raises(ValueError, match="direction"):
        as_callable(t, "ab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^guide: "):
        translate_batched(t, torch.ones(3, 1, 2, 2), guide=torch.ones(2, 1, 2, 2))
    with pytest.raises(ValueError, match=r"^x: "):
        translate_batched(t, torch.ones(3, 2, 2))
