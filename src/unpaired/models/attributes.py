"""Attribute classifiers: one CNN trunk with a head per factor of variation.

The measuring classifiers ``f_k`` of guided translation (RIFT's ``shape_v2``, the
evaluation paper's per-factor CNNs): trained on images with exact factor labels, then
used to read the factors of translated images (:mod:`unpaired.metrics.guided`).

Example:
    >>> net = FactorClassifier((10, 4), size=16)
    >>> net(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 14])
    >>> net.predict(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class FactorClassifier(nn.Module):
    """Images (B, 3, size, size) -> concatenated logits (B, sum(levels)), one head per
    factor (``levels[k]`` classes each).

    Trunk: ``stages`` blocks [conv3x3-BN-ReLU] x 2 + 2x2 max-pool (widths doubling from
    ``width``), then the flattened map (position matters: scale and orientation are read
    from where the edges are) into a 256-unit hidden layer shared by the heads.
    """

    def __init__(
        self, levels: Sequence[int], *, size: int = 32, width: int = 32, stages: int = 3
    ) -> None:
        super().__init__()
        if size % 2**stages or not levels or min(levels) < 2:
            raise ValueError(
                f"need size divisible by 2**stages and levels >= 2, got {size}, {levels}"
            )
        self.levels, self.size = tuple(int(n) for n in levels), size
        layers: list[nn.Module] = []
        c_in = 3
        for i in range(stages):
            c_out = width * 2**i
            for c in (c_in, c_out):
                layers += [
                    nn.Conv2d(c, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU(),
                ]
            layers.append(nn.MaxPool2d(2))
            c_in = c_out
        side = size // 2**stages
        self.features = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(c_in * side * side, 256), nn.ReLU(), nn.Dropout(0.2)
        )
        self.head = nn.Linear(256, sum(self.levels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, size, size) -> (B, sum(levels)) logits."""
        if x.dim() != 4 or x.shape[1:] != (3, self.size, self.size):
            raise ValueError(f"x: expected (B, 3, {self.size}, {self.size}), got {tuple(x.shape)}")
        return self.head(self.features(x))

    def split(self, logits: torch.Tensor) -> list[torch.Tensor]:
        """Per-factor logits [(B, levels[k])] of concatenated ``logits``."""
        return list(torch.split(logits, self.levels, dim=1))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, *, chunk: int = 512) -> torch.Tensor:
        """Predicted levels (B, K) int64, in eval mode, ``chunk`` images at a time."""
        was = self.training
        self.eval()
        try:
            out = [
                torch.stack([z.argmax(1) for z in self.split(self(x[i : i + chunk]))], 1)
                for i in range(0, x.shape[0], chunk)
            ]
        finally:
            self.train(was)
        return torch.cat(out) if out else torch.zeros(0, len(self.levels), dtype=torch.long)
