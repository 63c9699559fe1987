"""The embedding space of alignment: an autoencoder trained on both domains, unpaired.

Thesis talk, LRMF slides ("LRMF T(A) in emb space of VAEGAN"): ``T`` aligns codes
``encode(a)`` to codes ``encode(b)``, and ``decode(T(encode(a)))`` is the aligned image.
The autoencoder sees images of both domains but never a pair, and no label.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from unpaired.engine.task import Task
from unpaired.models.autoencoder import Autoencoder

__all__ = ["AutoencoderTask"]


class AutoencoderTask(Task):
    """Binary cross-entropy reconstruction of a batch ``{"usps": (B, 1, H, W), "mnist":
    (B', 1, H, W)}`` of both domains (unpaired); ``eval/mse`` on ``val`` (N, 1, H, W)."""

    def __init__(self, ae: Autoencoder, val: torch.Tensor) -> None:
        super().__init__()
        self.ae = ae
        self.register_buffer("val", val)

    def generator_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x = torch.cat([batch["usps"], batch["mnist"]])
        return {"reconstruction": F.binary_cross_entropy(self.ae.decode(self.ae.encode(x)), x)}

    def evaluate(self) -> dict[str, float]:
        rec = self.ae.decode(self.ae.encode(self.val))
        return {"mse": float((rec - self.val).square().mean())}
