"""The guess discriminator of the honesty defense, shared by CycleGAN and RIFT.

Adversarial self-defense (Bashkirova, Usman & Saenko, NeurIPS'19; the RIFT thesis talk,
"Honesty Loss"): a critic sees an image and its cycle reconstruction stacked on the
channel axis, in an order drawn **per sample**, and guesses which one comes first. Label
``y = 1`` when the reconstruction comes first, ``0`` when the original does. The critic
learns ``MSE(D(pair), y)`` (LSGAN, per patch, no 1/2); the generators train on the flipped
labels ``1 - y`` of a fresh draw, which pushes the critic to chance: a reconstruction that
can be told from its original betrays information hidden in the translation.

Example:
    >>> import torch
    >>> orig, rec = torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 2, 2)
    >>> swap = torch.tensor([True, False, False, True])
    >>> pairs, labels = guess_pairs(orig, rec, swap)
    >>> pairs[:, 0, 0, 0].tolist(), labels.tolist()  # reconstruction first where swapped
    ([1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0])
    >>> first_minus_second = lambda p: p[:, :1] - p[:, 1:]  # right on every pair
    >>> float(guess_loss(first_minus_second, orig, rec, swap=swap))
    0.5
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from unpaired._checks import check_shape


def guess_pairs(
    original: torch.Tensor, reconstruction: torch.Tensor, swap: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The guess discriminator's inputs: (N, 2C, H, W) pairs and (N,) labels.

    Sample i is ``cat(reconstruction_i, original_i)`` with label 1 where ``swap[i]``
    (bool (N,)), else ``cat(original_i, reconstruction_i)`` with label 0."""
    check_shape("reconstruction", reconstruction, tuple(original.shape))
    check_shape("swap", swap, (original.shape[0],))
    s = swap.view(-1, 1, 1, 1)
    first = torch.where(s, reconstruction, original)
    second = torch.where(s, original, reconstruction)
    return torch.cat([first, second], 1), swap.to(original.dtype)


def patch_mse(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """LSGAN loss of per-patch logits (N, ...) against per-sample labels (N,)."""
    return (logits.reshape(logits.shape[0], -1) - labels[:, None]).square().mean()


def guess_loss(
    critic: Callable[[torch.Tensor], torch.Tensor],
    original: torch.Tensor,
    reconstruction: torch.Tensor,
    *,
    flip: bool = False,
    swap: torch.Tensor | None = None,
) -> torch.Tensor:
    """The guess game's loss on one domain: the critic's (``flip=False``) or the
    generators' (``flip=True``: labels ``1 - y``). ``swap`` (bool (N,)) fixes the order;
    by default it is drawn per sample from torch's global RNG (probability 1/2)."""
    if swap is None:
        swap = torch.rand(original.shape[0], device=original.device) < 0.5
    pairs, labels = guess_pairs(original, reconstruction, swap)
    return patch_mse(critic(pairs), 1 - labels if flip else labels)
