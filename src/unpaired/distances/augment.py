r"""Critic-side augmentation that does not leak: the same random ``T_p`` on both sets.

Thesis talk, "Let's extend to arbitrary augmentations" / "leaking augmentation" / "How
to avoid leaking augmentation?": a learned distance compares ``T(P)`` and ``T(Q)``
instead of ``P`` and ``Q``. That is still a distance between ``P`` and ``Q`` iff
``T(P) = T(Q) <=> P = Q``, i.e. iff the linear operator ``T`` on distributions is
invertible. Otherwise the generator can match ``T(Q)`` with a ``P != Q`` (rotated
digits): the augmentation *leaks* into the outputs.

For an augmentation that applies, with probability ``p``, a random element ``g`` of a
group ``G`` drawn from ``mu``, ``T_p = (1 - p) I + p sum_g mu(g) g``. On the Fourier
modes (characters ``chi`` of ``G``) ``T_p`` is diagonal with multipliers
``(1 - p) + p mu_hat(chi)``, so ``T_p`` leaks exactly when one multiplier is 0, i.e.
at ``p = 1 / (1 - mu_hat(chi))`` for a real ``mu_hat(chi) <= 0``. :func:`leak_threshold`:

* ``rot90``: a random *non-identity* multiple of 90 degrees: ``mu_hat = -1/3`` on every
  non-trivial character, multiplier ``1 - 4p/3``: leaks at ``p = 0.75``;
* ``rot90-uniform``: ADA-style uniform multiple *including* the identity: ``mu_hat = 0``,
  multiplier ``1 - p``: leaks only at ``p = 1``;
* ``flip``: horizontal flip: ``mu_hat = -1``, multiplier ``1 - 2p``: leaks at ``p = 0.5``;
* ``translate``: circular integer translation uniform in ``[-s, s]^2`` on an H x W
  torus: ``mu_hat`` is a product of Dirichlet kernels (computed on the grid);
* ``brightness``: adding ``b ~ N(0, sigma^2)`` to every pixel: ``mu_hat = exp(-sigma^2
  w^2 / 2) > 0``: Gaussian-type transforms never leak (None).

Near the threshold ``T_p`` is ill-conditioned (a mode is scaled by almost 0, so the
critic barely sees it): :class:`Augment` warns when its smallest ``|multiplier|`` is
below ``WARN_BELOW``. The ops are plain torch ops with an optional ``torch.Generator``
(kornia.augmentation has no 90-degree rotation group and draws from the global RNG
only; inside the engine the global RNG is reseeded per step, so runs resume exactly
either way).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch
from torch import nn

from unpaired.distances._utils import check_option, check_positive

AugmentOp = Literal["rot90", "rot90-uniform", "flip", "translate", "brightness"]
OPS: tuple[str, ...] = ("rot90", "rot90-uniform", "flip", "translate", "brightness")
#: Warn when ``T_p`` scales some mode by less than this (close to leaking).
WARN_BELOW = 0.15


def _mu_hat(op: str, shape: tuple[int, int] | None, shift: int, sigma: float) -> torch.Tensor:
    """``mu_hat(chi)`` of the transform distribution on every character (real, float64)."""
    if op in ("rot90", "rot90-uniform"):
        ks = torch.arange(1 if op == "rot90" else 0, 4, dtype=torch.float64)
        j = torch.arange(4, dtype=torch.float64)[:, None]
        return torch.cos(2 * math.pi * j * ks / 4).mean(1)  # mu symmetric: real
    if op == "flip":
        return torch.tensor([1.0, -1.0], dtype=torch.float64)
    if op == "translate":
        h, w = shape or (28, 28)
        t = torch.arange(-shift, shift + 1, dtype=torch.float64)

        def dirichlet(n: int) -> torch.Tensor:
            omega = 2 * math.pi * torch.arange(n, dtype=torch.float64)[:, None] / n
            return torch.cos(omega * t).mean(1)

        return (dirichlet(h)[:, None] * dirichlet(w)[None, :]).reshape(-1)
    # brightness: frequencies of the intensity axis up to 3 / sigma (all > 0: no zero)
    omega = torch.linspace(0, 3 / sigma, 301, dtype=torch.float64)
    return torch.exp(-(sigma**2) * omega**2 / 2)


def multipliers(
    op: AugmentOp,
    p: float,
    *,
    shape: tuple[int, int] | None = None,
    shift: int = 2,
    sigma: float = 0.1,
) -> torch.Tensor:
    """The Fourier multipliers ``(1 - p) + p mu_hat(chi)`` of ``T_p`` (float64 vector)."""
    check_option("op", op, OPS)
    return (1 - p) + p * _mu_hat(op, shape, shift, sigma)


def leak_threshold(
    op: AugmentOp, *, shape: tuple[int, int] | None = None, shift: int = 2, sigma: float = 0.1
) -> float | None:
    """The smallest ``p`` in (0, 1] at which ``T_p`` is not invertible, or None (never).

    Example:
        >>> leak_threshold("rot90"), leak_threshold("rot90-uniform"), leak_threshold("flip")
        (0.75, 1.0, 0.5)
        >>> leak_threshold("brightness") is None
        True
    """
    check_option("op", op, OPS)
    m = _mu_hat(op, shape, shift, sigma)
    neg = m[m <= 1e-12]
    if neg.numel() == 0:
        return None
    return round(float((1 / (1 - neg)).min()), 12)


def leaks(
    op: AugmentOp,
    p: float,
    *,
    shape: tuple[int, int] | None = None,
    shift: int = 2,
    sigma: float = 0.1,
    tol: float = 1e-9,
) -> bool:
    """True when ``T_p`` is not invertible: some multiplier ``|(1-p) + p mu_hat| <= tol``
    (never for ``brightness``: its ``mu_hat`` is positive at every frequency)."""
    if op == "brightness":
        return False
    m = multipliers(op, p, shape=shape, shift=shift, sigma=sigma)
    return bool(m.abs().min() <= tol)


class Augment(nn.Module):
    """``T_p``: each sample, with probability ``p``, gets a random transform of ``op``.

    Images (N, C, H, W); ``rot90`` needs H == W; ``brightness`` works on any (N, *).
    ``pair(a, b)`` applies the same ``T_p`` (one draw over the concatenated sets) to
    both sets, which is what a learned distance must do (module docstring).

    Example:
        >>> aug = Augment("rot90-uniform", 0.5, generator=torch.Generator().manual_seed(0))
        >>> a, b = aug.pair(torch.rand(4, 1, 8, 8), torch.rand(6, 1, 8, 8))
        >>> a.shape, b.shape
        (torch.Size([4, 1, 8, 8]), torch.Size([6, 1, 8, 8]))
    """

    def __init__(
        self,
        op: AugmentOp,
        p: float,
        *,
        shift: int = 2,
        sigma: float = 0.1,
        generator: torch.Generator | None = None,
        shape: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.op = check_option("op", op, OPS)
        self.p = check_positive("p", p, allow_zero=True)
        if self.p > 1:
            raise ValueError(f"p must be in [0, 1], got {p}")
        if shift < 1:
            raise ValueError(f"shift must be >= 1, got {shift}")
        self.shift, self.sigma = int(shift), check_positive("sigma", sigma)
        self.generator = generator
        m = multipliers(self.op, self.p, shape=shape, shift=self.shift, sigma=self.sigma)
        t = leak_threshold(self.op, shape=shape, shift=self.shift, sigma=self.sigma)
        if t is not None and float(m.abs().min()) < WARN_BELOW:
            warnings.warn(
                f"Augment({op!r}, p={p}): T_p scales a mode by {float(m.abs().min()):.3g} "
                f"(leak threshold p={t}); the critic barely sees it and the augmentation "
                "may leak into the generator's outputs",
                UserWarning,
                stacklevel=2,
            )

    def _draw(self, n: int, high: int, device: torch.device) -> torch.Tensor:
        return torch.randint(high, (n,), generator=self.generator).to(device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Augment each sample of ``x`` independently; differentiable in ``x``."""
        if self.p == 0:
            return x
        n = x.shape[0]
        apply = torch.rand(n, generator=self.generator).to(x.device) < self.p
        if self.op == "brightness":
            b = torch.randn(n, generator=self.generator).to(x.device, x.dtype) * self.sigma
            b = (b * apply).reshape((n,) + (1,) * (x.dim() - 1))
            return x + b
        if x.dim() != 4:
            raise ValueError(
                f"Augment({self.op!r}): expected images (N, C, H, W), got {tuple(x.shape)}"
            )
        if self.op == "flip":
            return torch.where(apply[:, None, None, None], x.flip(-1), x)
        if self.op in ("rot90", "rot90-uniform"):
            if x.shape[-1] != x.shape[-2]:
                raise ValueError(f"Augment('rot90'): needs square images, got {tuple(x.shape)}")
            k = self._draw(n, 3, x.device) + 1 if self.op == "rot90" else self._draw(n, 4, x.device)
            k = torch.where(apply, k, torch.zeros_like(k))
            out = x
            for r in (1, 2, 3):
                out = torch.where((k == r)[:, None, None, None], torch.rot90(x, r, (-2, -1)), out)
            return out
        return self._translate(x, apply)

    def _translate(self, x: torch.Tensor, apply: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        s = self.shift
        dy = (self._draw(n, 2 * s + 1, x.device) - s) * apply
        dx = (self._draw(n, 2 * s + 1, x.device) - s) * apply
        rows = (torch.arange(h, device=x.device)[None, :] - dy[:, None]) % h  # (N, H)
        cols = (torch.arange(w, device=x.device)[None, :] - dx[:, None]) % w  # (N, W)
        idx = torch.arange(n, device=x.device)[:, None, None]
        out = x.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]]
        return out.permute(0, 3, 1, 2)

    def pair(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same ``T_p`` on both sets: (N, *), (M, *) -> augmented (N, *), (M, *)."""
        out = self(torch.cat([a, b.to(a.dtype)], dim=0))
        return out[: a.shape[0]], out[a.shape[0] :]

    def extra_repr(self) -> str:
        return f"op={self.op!r}, p={self.p}, shift={self.shift}, sigma={self.sigma}"
