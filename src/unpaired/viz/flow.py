"""Optical flow as colour (hue = direction, brightness = magnitude)."""

from __future__ import annotations

import math

import torch
from matplotlib.colors import hsv_to_rgb

from unpaired._checks import check_shape


def flow_to_rgb(flow: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Flow (2, H, W) (U, V in pixels) -> colour (H, W, 3) in [0, 1]: hue = direction,
    value = magnitude / ``max_norm`` (clipped at 1), full saturation."""
    check_shape("flow", flow, (2, "H", "W"))
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    u, v = flow[0], flow[1]
    hue = (torch.atan2(v, u) / (2 * math.pi)) % 1.0
    value = (torch.sqrt(u**2 + v**2) / max_norm).clamp(0, 1)
    hsv = torch.stack([hue, torch.ones_like(hue), value], -1)
    return torch.from_numpy(hsv_to_rgb(hsv.numpy()))
