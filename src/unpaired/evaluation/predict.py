"""Batched inference: a network applied to a whole set, a chunk at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

import torch
from torch import nn

Output = TypeVar("Output", torch.Tensor, dict[str, torch.Tensor])


def _device(net: Callable[..., object], default: torch.device) -> torch.device:
    if isinstance(net, nn.Module):
        for p in net.parameters():
            return p.device
        for b in net.buffers():
            return b.device
    return default


@torch.no_grad()
def predict(net: Callable[[torch.Tensor], Output], x: torch.Tensor, *, chunk: int = 1024) -> Output:
    """``net(x)`` for every row of ``x`` (N, *), ``chunk`` rows at a time, without grad.

    A module runs in eval mode (its previous mode is restored afterwards); each chunk is
    moved to the device of the module's parameters and its output back to ``x``'s device.
    ``net`` may return a tensor (N, *) or a mapping of named tensors ``{name: (N, *)}``
    (e.g. an AIGN generator); the chunks are concatenated alike.

    >>> predict(nn.Linear(3, 2), torch.zeros(10, 3), chunk=4).shape
    torch.Size([10, 2])
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    if x.shape[0] == 0:
        raise ValueError("predict got an empty input (0 rows)")
    device = _device(net, x.device)
    module = net if isinstance(net, nn.Module) else None
    was = module.training if module is not None else False
    if module is not None:
        module.eval()
    try:
        parts = [net(part.to(device)) for part in x.split(chunk)]
    finally:
        if module is not None:
            module.train(was)
    if isinstance(parts[0], Mapping):
        return {k: torch.cat([p[k].to(x.device) for p in parts]) for k in parts[0]}  # type: ignore[return-value]
    return torch.cat([p.to(x.device) for p in parts])  # type: ignore[return-value]
