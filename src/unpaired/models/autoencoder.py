"""A small convolutional autoencoder: the embedding space of ``align-digits``.

Thesis talk, LRMF slides ("LRMF T(A) in emb space of VAEGAN"): alignment in a learned
code space, where ``decode(T(encode(a)))`` is the aligned image. This one is a plain
(deterministic) autoencoder for 16x16 single-channel images.

Example:
    >>> import torch
    >>> ae = Autoencoder(latent=8, width=4)
    >>> z = ae.encode(torch.rand(3, 1, 16, 16))
    >>> z.shape, ae.decode(z).shape
    (torch.Size([3, 8]), torch.Size([3, 1, 16, 16]))
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.models.record import recordable

__all__ = ["Autoencoder"]


@recordable
class Autoencoder(nn.Module):
    """Conv encoder (N, 1, 16, 16) -> (N, latent) and decoder back to [0, 1] images.

    Two stride-2 convolutions of ``width`` and ``2 * width`` channels (LeakyReLU 0.2)
    and a linear layer; the decoder mirrors it with transposed convolutions and a
    sigmoid.
    """

    def __init__(self, latent: int, width: int) -> None:
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * w * 16, latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, 2 * w * 16),
            nn.Unflatten(1, (2 * w, 4, 4)),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 16, 16) -> (N, latent)."""
        check_shape("x", x, ("N", 1, 16, 16))
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent) -> (N, 1, 16, 16) in [0, 1]."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction ``decode(encode(x))`` (N, 1, 16, 16)."""
        return self.decode(self.encode(x))
