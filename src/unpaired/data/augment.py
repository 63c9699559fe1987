"""Random integer translations of image batches, the augmentations of the image recipes.

Both draw from torch's global RNG unless given a ``generator``: inside a training step the
engine reseeds that RNG from ``(seed, step)``, so a run and its resumed copy shift alike.

* :func:`random_shift`: each image by its own offset, edges repeated (critic inputs of
  the biased image recipes, real and fake alike; their classifiers' training images);
* :func:`random_roll`: the whole batch by one offset, wrapping around (the digit
  classifier of ``align-digits``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from unpaired._checks import check_shape


def random_shift(
    x: torch.Tensor, shift: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shift each image (B, C, H, W) by its own random offset in ``[-shift, shift]^2`` px,
    edge pixels repeated; differentiable in ``x``. ``shift <= 0`` returns ``x``.

    >>> x = torch.zeros(2, 1, 5, 5)
    >>> random_shift(x, 1).shape
    torch.Size([2, 1, 5, 5])
    """
    check_shape("x", x, ("B", "C", "H", "W"))
    if shift <= 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift), mode="replicate")
    dy = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=x.device)
    dx = torch.randint(0, 2 * shift + 1, (b,), generator=generator, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    return padded[
        torch.arange(b, device=x.device)[:, None, None, None],
        torch.arange(c, device=x.device)[None, :, None, None],
        rows,
        cols,
    ]


def random_roll(
    x: torch.Tensor, shift: int, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Roll the whole batch (B, C, H, W) by one random offset in ``[-shift, shift]^2`` px
    (rows, then columns; pixels wrap around). ``shift <= 0`` returns ``x``."""
    check_shape("x", x, ("B", "C", "H", "W"))
    if shift <= 0:
        return x
    dy, dx = (int(v) for v in torch.randint(-shift, shift + 1, (2,), generator=generator))
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
