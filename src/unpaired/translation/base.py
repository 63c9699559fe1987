"""The one interface of every translator: ``translate(x, direction, guide) -> Tensor``.

Every image translator of :mod:`unpaired.translation` (CycleGAN, MUNIT, pix2pix,
PuppetGAN, RIFT) implements :class:`Translator`::

    def translate(
        self,
        x: torch.Tensor,                      # (N, C_in, H, W) images in [-1, 1]
        direction: Direction = "a2b",         # "a2b": domain A -> B; "b2a": B -> A
        guide: torch.Tensor | None = None,    # (N, C_out, H, W) images of the target
    ) -> torch.Tensor:                        # (N, C_out, H, W) in [-1, 1]

* Domains: ``A`` and ``B`` are the two image collections of the task (in the maps recipes
  A = aerial photos, B = maps). ``direction`` is ``"a2b"`` or ``"b2a"``; a one-way
  translator (pix2pix) raises ``ValueError`` for the direction it does not have.
* ``guide``: for multimodal translators (MUNIT, PuppetGAN, RIFT), images of the target
  domain whose style (or attributes) the output takes, one per input (N must match);
  ``None`` means the translator's default (MUNIT: a style drawn from its prior with a
  fixed generator; deterministic translators ignore it, and raise if they cannot use one
  only when that would be silently wrong).
* ``translate`` is inference: it neither trains nor changes state, runs in whatever
  mode the module is in (call ``.eval()`` first) and does not disable gradients by
  itself (wrap it in ``torch.no_grad()`` for evaluation; :func:`translate_batched` does).
* Images are float tensors in [-1, 1], (N, C, H, W); translators check the shape with
  :func:`unpaired._checks.check_shape` and name the argument in their errors.

The honesty metrics (:mod:`unpaired.metrics.honesty`) take plain callables;
:func:`as_callable` turns a translator and a direction into one.

Example:
    >>> import torch
    >>> class Negate:
    ...     def translate(self, x, direction="a2b", guide=None):
    ...         check_direction(direction)
    ...         return -x
    >>> isinstance(Negate(), Translator)
    True
    >>> translate_batched(Negate(), torch.ones(5, 1, 2, 2), "b2a", batch_size=2).sum().item()
    -20.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, runtime_checkable

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import Export

Direction = Literal["a2b", "b2a"]
DIRECTIONS: tuple[str, ...] = ("a2b", "b2a")


def check_direction(direction: str) -> Direction:
    """``direction`` itself if it is ``"a2b"`` or ``"b2a"``, else ``ValueError``."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'a2b' or 'b2a', got {direction!r}")
    return direction  # type: ignore[return-value]


def opposite(direction: Direction) -> Direction:
    """``"b2a"`` for ``"a2b"`` and the reverse."""
    return "b2a" if check_direction(direction) == "a2b" else "a2b"


@runtime_checkable
class Translator(Protocol):
    """Anything with ``translate(x, direction="a2b", guide=None) -> Tensor`` (module docstring)."""

    def translate(
        self, x: torch.Tensor, direction: Direction = "a2b", guide: torch.Tensor | None = None
    ) -> torch.Tensor: ...


def check_guide(guide: torch.Tensor | None, x: torch.Tensor) -> None:
    """A guide, when given, is (N, C, H, W) with the batch size N of ``x``."""
    if guide is not None:
        check_shape("guide", guide, (x.shape[0], "C", "H", "W"))


def as_callable(
    translator: Translator, direction: Direction = "a2b", guide: torch.Tensor | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> translator.translate(x, direction, guide)``: what the metrics take."""
    check_direction(direction)

    def call(x: torch.Tensor) -> torch.Tensor:
        return translator.translate(x, direction, guide)

    return call


@torch.no_grad()
def translate_batched(
    translator: Translator,
    x: torch.Tensor,
    direction: Direction = "a2b",
    *,
    guide: torch.Tensor | None = None,
    batch_size: int = 64,
) -> torch.Tensor:
    """``translate`` over ``x`` (N, C, H, W) in chunks of ``batch_size``, without gradients;
    ``guide`` (N, C', H, W) is split the same way. Returns (N, C', H, W)."""
    check_shape("x", x, ("N", "C", "H", "W"))
    check_direction(direction)
    check_guide(guide, x)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out = []
    for s in range(0, x.shape[0], batch_size):
        g = None if guide is None else guide[s : s + batch_size]
        out.append(translator.translate(x[s : s + batch_size], direction, g))
    return torch.cat(out) if out else x[:0]


def image_export(generator: nn.Module, channels: int | None = None) -> Export:
    """A translator network as an :class:`~unpaired.models.record.Export` of kind
    ``"image"`` (images in [-1, 1], ``channels`` in; default: its ``in_channels``), what a
    task's ``exports()`` returns for ``unpaired predict`` and ``unpaired export``:
    ``return {"a2b": image_export(self.g_ab), "b2a": image_export(self.g_ba)}``."""
    c = channels if channels is not None else getattr(generator, "in_channels", None)
    return Export(generator, "image", {"channels": c, "range": (-1.0, 1.0)})


def guided_export(
    network: nn.Module,
    channels: int,
    guide_channels: int | None = None,
    *,
    size: tuple[int, int] | None = None,
    guide_like_input: bool = False,
) -> Export:
    """A guided translator network ``(x, guide) -> y`` (images in [-1, 1], one guide per
    input) as an :class:`~unpaired.models.record.Export` of kind ``"guided"``:
    ``channels`` of the input, ``guide_channels`` of the guide (default: the same),
    ``size`` (H, W) when the network takes only one size, ``guide_like_input`` when the
    guide must have the input's height and width (a spatial guide embedding)."""
    meta: dict = {
        "channels": int(channels),
        "guide_channels": int(guide_channels if guide_channels is not None else channels),
        "range": (-1.0, 1.0),
        "guide_like_input": bool(guide_like_input),
    }
    if size is not None:
        meta["size"] = (int(size[0]), int(size[1]))
    return Export(network, "guided", meta)
