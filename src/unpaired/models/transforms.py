"""Transformation families ``T``: (N, D) -> (N, D) for alignment, all the identity at
initialisation.

Vector families: :class:`Shift`, :class:`Affine`, :class:`MLPTransform`,
:class:`FlowTransform` (exactly the identity at the start). Image families, for D =
C*H*W flattened images with the inductive bias images have: :class:`ImageWarp` (an
affine or thin-plate spatial warp through kornia, then a monotone :class:`ToneCurve`;
identity to float rounding, invertible with an exact log-determinant while the warp
loses no information) and :class:`ConvResidual` (a small residual convolutional network,
exactly the identity, not invertible).

Thesis talk, slide "How to find a good F?": alignment searches ``min_{T in F} d(T(A), B)
+ R(T)``; the family ``F`` is itself the regularizer ``R``. Invertible families (shift,
affine, flow) also give ``log|det dT/dx|``, which flow LRMF needs (Theorem 2.3 of the
LRMF slides).

Example:
    >>> import torch
    >>> t = Affine(3)
    >>> x = torch.randn(5, 3)
    >>> y, logdet = t.forward_and_log_det(x)
    >>> bool(torch.equal(y, x)), logdet.shape
    (True, torch.Size([5]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import kornia.geometry.transform as kgt
import torch
import zuko
from torch import nn

from unpaired.distances import push_forward
from unpaired.models.record import recordable

__all__ = [
    "Affine",
    "ConvResidual",
    "FlowTransform",
    "ImageWarp",
    "MLPTransform",
    "Shift",
    "ToneCurve",
    "Transform",
]


class Transform(nn.Module):
    """A map ``T``: (N, D) -> (N, D). Invertible ones also give ``log|det dT/dx|``."""

    invertible: ClassVar[bool] = True

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``T(x)`` (N, D) and ``log|det dT/dx|`` at every row (N,)."""
        raise ValueError(
            f"{type(self).__name__} is not invertible: it has no log-determinant"
        )  # pragma: no cover - overridden by every invertible transform


@recordable
class Shift(Transform):
    """``T(x) = x + b`` (translation only), ``b`` (D,) starts at 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self(x), x.new_zeros(x.shape[0])


@recordable
class Affine(Transform):
    """``T(x) = W x + b`` with ``W`` (D, D) = I and ``b`` (D,) = 0 at the start."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.eye(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T + self.bias

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.linalg.slogdet(self.weight).logabsdet
        return self(x), logdet.expand(x.shape[0])


@recordable
class MLPTransform(Transform):
    """Residual MLP ``T(x) = x + f(x)``; ``f``'s last layer starts at 0 (so T = identity).

    Not invertible in general: no log-determinant (cannot be used with flow LRMF).
    """

    invertible: ClassVar[bool] = False

    def __init__(self, dim: int, *, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        width = dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        last = nn.Linear(width, dim)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*mods, last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise ValueError("MLPTransform is not invertible: it has no log-determinant")


@recordable
class FlowTransform(Transform):
    """A normalizing flow ``T`` (zuko masked autoregressive flow, MAF), identity at start.

    The last layer of every autoregressive conditioner is zero-initialised, so each
    affine step starts with shift 0 and scale 1. ``T`` is the flow's data-to-noise
    direction (one parallel pass); its log-determinant is exact.
    """

    def __init__(self, dim: int, *, transforms: int = 3, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.flow = zuko.flows.MAF(
            dim, transforms=transforms, hidden_features=tuple(hidden)
        ).transform
        for step in self.flow.transforms:
            last = [m for m in step.hyper.modules() if isinstance(m, nn.Linear)][-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.flow()(x)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return push_forward(self.flow, x)


# --------------------------------------------------------------------------------------
# Image transforms: T acts on flattened images (N, C*H*W) with the inductive bias images
# have (a global spatial warp, a tone curve, local convolutions) instead of a free
# (D, D) matrix that can permute pixels.
# --------------------------------------------------------------------------------------


class _ImageTransform(Transform):
    """Base of the image transforms: (N, C*H*W) features <-> (N, C, H, W) images.

    The features may be standardized (``z = (x - center) / scale``, ``center`` (C*H*W,)
    and a scalar ``scale``, as :class:`~unpaired.alignment.Standardizer` gives): the image
    operation is applied in image units, ``T(z) = (g(z * scale + center) - center) /
    scale``, which leaves ``log|det|`` unchanged.
    """

    def __init__(
        self,
        size: int,
        *,
        channels: int = 1,
        center: torch.Tensor | None = None,
        scale: float = 1.0,
    ) -> None:
        super().__init__()
        if size < 2 or channels < 1 or not scale > 0:
            raise ValueError(
                f"need size >= 2, channels >= 1, scale > 0; got {size}, {channels}, {scale}"
            )
        self.size, self.channels, self.scale = size, channels, float(scale)
        dim = channels * size * size
        center = torch.zeros(dim) if center is None else torch.as_tensor(center).flatten()
        if center.numel() != dim:
            raise ValueError(f"center has {center.numel()} values, images have {dim}")
        self.register_buffer("center", center.float().clone())

    def _images(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.center.numel():
            raise ValueError(
                f"{type(self).__name__} expects (N, {self.center.numel()}) features, "
                f"got {tuple(z.shape)}"
            )
        x = z * self.scale + self.center
        return x.reshape(-1, self.channels, self.size, self.size)

    def _features(self, img: torch.Tensor) -> torch.Tensor:
        return (img.flatten(1) - self.center) / self.scale

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self._features(self.image_forward(self._images(z)))

    def image_forward(self, img: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


@recordable
class ToneCurve(nn.Module):
    """A monotone piecewise-linear intensity curve ``f``, applied pixel by pixel.

    ``knots`` segments of equal width on ``[lo, hi]`` with slopes ``exp(u_k)`` (linear
    continuation outside), plus an offset ``b``: ``u = 0, b = 0`` is ``f(x) = x``. Strictly
    increasing for any parameters, so invertible, with ``log f'(x) = u_k(x)``.

    Example:
        >>> f = ToneCurve(knots=4)
        >>> x = torch.tensor([-0.5, 0.0, 0.3, 1.2])
        >>> bool(torch.allclose(f(x), x)), f.log_slope(x).tolist()
        (True, [0.0, 0.0, 0.0, 0.0])
    """

    def __init__(self, *, knots: int = 8, lo: float = 0.0, hi: float = 1.0) -> None:
        super().__init__()
        if knots < 1 or not hi > lo:
            raise ValueError(f"need knots >= 1 and hi > lo, got {knots}, [{lo}, {hi}]")
        self.lo, self.width = float(lo), (float(hi) - float(lo)) / knots
        self.log_slopes = nn.Parameter(torch.zeros(knots))
        self.offset = nn.Parameter(torch.zeros(()))

    def _segment(self, x: torch.Tensor) -> torch.Tensor:
        k = torch.floor((x.detach() - self.lo) / self.width)
        return k.clamp(0, len(self.log_slopes) - 1).long()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)``, any shape."""
        slopes = self.log_slopes.exp()
        start = torch.cat([slopes.new_zeros(1), torch.cumsum(self.width * slopes, 0)])
        k = self._segment(x)
        return self.lo + self.offset + start[k] + (x - self.lo - k * self.width) * slopes[k]

    def log_slope(self, x: torch.Tensor) -> torch.Tensor:
        """``log f'(x)``, the shape of ``x``."""
        return self.log_slopes[self._segment(x)]


@recordable
class ImageWarp(_ImageTransform):
    """``T(x) = f(warp(x))``: a spatial warp of the image, then a monotone tone curve.

    The warp is affine (``theta`` (2, 3) in normalized coordinates [-1, 1], about the
    image centre; ``kornia.geometry.transform.warp_affine``), optionally followed by a
    thin-plate spline through a ``control`` x ``control`` grid of points whose offsets
    (control^2, 2) are learned (``kornia.geometry.transform.warp_image_tps``; 0: off);
    the tone curve is :class:`ToneCurve` (``knots`` segments on [0, 1]; 0: no curve).
    All start at the identity (bilinear resampling at the pixel centres: identity to
    float rounding). Pixels the warp brings in from outside the image are ``padding``
    (``"zeros"``: background).

    Invertible in the sense flow LRMF needs: for fixed parameters the warp is a linear
    map ``R`` of the pixels, so ``log|det dT/dx| = C * log|det R| + sum_i log f'``. A
    shrinking warp makes ``R`` (nearly) singular (information is lost at this
    resolution), so ``log|det R|`` is computed as ``sum log max(sigma_j, logdet_floor)``
    over ``R``'s singular values: exact while every ``sigma_j >= logdet_floor``.

    Shapes: features (N, C*size*size) -> (N, C*size*size); log-determinant (N,).

    Example:
        >>> t = ImageWarp(8, knots=4)
        >>> x = torch.rand(3, 64)
        >>> y, logdet = t.forward_and_log_det(x)
        >>> bool(torch.allclose(y, x, atol=1e-5)), logdet.shape
        (True, torch.Size([3]))
    """

    def __init__(
        self,
        size: int,
        *,
        channels: int = 1,
        center: torch.Tensor | None = None,
        scale: float = 1.0,
        knots: int = 8,
        control: int = 0,
        padding: str = "zeros",
        logdet_floor: float = 1e-3,
    ) -> None:
        super().__init__(size, channels=channels, center=center, scale=scale)
        if control == 1 or control < 0 or not logdet_floor > 0:
            raise ValueError(f"control must be 0 or >= 2, logdet_floor > 0; got {control}")
        self.padding, self.logdet_floor = padding, float(logdet_floor)
        self.theta = nn.Parameter(torch.zeros(2, 3))  # A - I and the shift, normalized
        self.curve = ToneCurve(knots=knots) if knots else None
        self.offsets = nn.Parameter(torch.zeros(control * control, 2)) if control else None
        s = (size - 1) / 2  # normalized [-1, 1] -> pixel coordinates (align_corners)
        self.register_buffer("_pix", torch.tensor([[s, 0.0, s], [0.0, s, s], [0.0, 0.0, 1.0]]))
        if control:
            g = torch.linspace(-1, 1, control)
            grid = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2)
            self.register_buffer("_control", grid)

    def matrix(self) -> torch.Tensor:
        """The affine warp in pixel coordinates (2, 3), as ``warp_affine`` takes it."""
        norm = torch.cat([torch.eye(2, 3, device=self.theta.device) + self.theta, self._pix[2:]])
        return (self._pix @ norm @ torch.linalg.inv(self._pix))[:2]

    def resample(self, img: torch.Tensor) -> torch.Tensor:
        """The spatial part alone (linear in the pixels): (N, C, H, W) -> (N, C, H, W)."""
        m = self.matrix().expand(len(img), 2, 3)
        out = kgt.warp_affine(img, m, (self.size, self.size), padding_mode=self.padding)
        if self.offsets is not None:
            src = self._control[None]
            kernel, affine = kgt.get_tps_transform(src + self.offsets[None], src)
            n = len(img)
            out = kgt.warp_image_tps(
                out,
                src.expand(n, -1, -1),
                kernel.expand(n, -1, -1),
                affine.expand(n, -1, -1),
                align_corners=True,
                padding_mode=self.padding,
            )
        return out

    def image_forward(self, img: torch.Tensor) -> torch.Tensor:
        out = self.resample(img)
        return out if self.curve is None else self.curve(out)

    def warp_log_det(self) -> torch.Tensor:
        """``C * log|det R|`` of the spatial part (singular values floored), a scalar."""
        hw = self.size * self.size
        basis = torch.eye(hw, device=self.theta.device).reshape(hw, 1, self.size, self.size)
        r = self.resample(basis).reshape(hw, hw)  # rows: R e_j, i.e. R transposed
        sigma = torch.linalg.svdvals(r.double()).clamp_min(self.logdet_floor)
        return self.channels * sigma.log().sum().to(r.dtype)

    def forward_and_log_det(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        warped = self.resample(self._images(z))
        logdet = self.warp_log_det().expand(len(z))
        if self.curve is None:
            return self._features(warped), logdet
        slope = self.curve.log_slope(warped).flatten(1).sum(1)
        return self._features(self.curve(warped)), logdet + slope


@recordable
class ConvResidual(_ImageTransform):
    """``T(x) = x + g(x)``: a small residual convolutional network on the image.

    ``g`` is ``layers`` 3x3 convolutions (``width`` channels, SiLU between) whose last
    layer starts at 0, so T is exactly the identity at the start; local and translation
    equivariant (it cannot move content across the image the way a free matrix can).
    Not invertible in general: no log-determinant (not for flow LRMF).

    Shapes: features (N, C*size*size) -> (N, C*size*size).

    Example:
        >>> t = ConvResidual(8, width=4)
        >>> x = torch.rand(3, 64)
        >>> bool(torch.equal(t(x), x))
        True
    """

    invertible: ClassVar[bool] = False

    def __init__(
        self,
        size: int,
        *,
        channels: int = 1,
        center: torch.Tensor | None = None,
        scale: float = 1.0,
        width: int = 16,
        layers: int = 3,
    ) -> None:
        super().__init__(size, channels=channels, center=center, scale=scale)
        if layers < 1 or width < 1:
            raise ValueError(f"need layers >= 1 and width >= 1, got {layers}, {width}")
        mods: list[nn.Module] = []
        c = channels
        for _ in range(layers - 1):
            mods += [nn.Conv2d(c, width, 3, padding=1), nn.SiLU()]
            c = width
        last = nn.Conv2d(c, channels, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*mods, last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        img = self._images(z)
        return z + self.net(img).flatten(1) / self.scale  # exact identity while g = 0

    def image_forward(self, img: torch.Tensor) -> torch.Tensor:
        return img + self.net(img)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise ValueError("ConvResidual is not invertible: it has no log-determinant")
