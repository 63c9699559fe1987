"""Image metrics for super-resolution and inpainting (Sec. 2.3, 2.4, 3.3 of the AIGN paper).

* Fidelity of the rendered prediction to the input, ``P(G(x))`` vs ``x``:
  :func:`psnr` and :func:`ssim`, per image (B,) or their mean.
* How strongly a biased model moves its outputs towards the memories' category
  (Fig. 5/6: female -> male, young -> old, one identity): classify the outputs with a
  separately trained classifier and report :func:`bias_rate` (share of outputs in the
  target class) and :func:`keep_rate` (share that keep the input's class).
* Whether the bias is reachable at all: :func:`nearest_psnr`, the best consistency any
  real memory image reaches with an input (``max_j PSNR(P(m_j), x)``).
"""

from __future__ import annotations

from typing import Literal

import kornia
import torch

from unpaired._checks import check_shape

Reduction = Literal["mean", "none"]


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_shape("pred", pred, ("B", "C", "H", "W"))
    check_shape("target", target, ("B", "C", "H", "W"))
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


def _check_mask(mask: torch.Tensor | None, pred: torch.Tensor) -> torch.Tensor | None:
    """A (B or 1, 1 or C, H, W) mask of visible pixels, expanded to ``pred``'s shape."""
    if mask is None:
        return None
    check_shape("mask", mask, ("B", "C", "H", "W"))
    b, c, h, w = pred.shape
    if mask.shape[0] not in (1, b) or mask.shape[1] not in (1, c) or mask.shape[-2:] != (h, w):
        raise ValueError(
            f"mask: expected shape (B or 1, 1 or C, H, W) = ({b} or 1, 1 or {c}, {h}, {w}), "
            f"got {tuple(mask.shape)}"
        )
    mask = mask.to(pred.dtype).expand_as(pred)
    if bool((mask.flatten(1).sum(dim=1) == 0).any()):
        raise ValueError("mask hides every pixel of some image")
    return mask


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-image mean (B, C, H, W) -> (B,), over the pixels where ``mask`` is 1."""
    if mask is None:
        return values.flatten(1).mean(dim=1)
    return (values * mask).flatten(1).sum(dim=1) / mask.flatten(1).sum(dim=1)


def _reduce(per_image: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "mean":
        return per_image.mean()
    if reduction == "none":
        return per_image
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def psnr(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    data_range: float = 1.0,
    mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range² / MSE)`` per image.

    ``pred``, ``target``: (B, C, H, W); ``data_range`` is the span of valid pixel
    values (1 for [0, 1] images, 255 for bytes). The MSE is taken over each image's
    C*H*W values, so ``reduction="none"`` gives (B,) and ``"mean"`` averages those
    per-image PSNRs (unlike ``kornia.metrics.psnr``, which pools the MSE over the
    batch). Identical images give ``inf``. With ``mask`` (B or 1, 1 or C, H, W; 1 =
    visible) the MSE runs over the visible pixels only: the consistency of an
    inpainting ``P(G(x)) = m ⊙ G(x)`` with its masked input (Sec. 2.4).
    """
    _check_pair(pred, target)
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    mse = _masked_mean((pred - target).square(), _check_mask(mask, pred))
    return _reduce(10.0 * torch.log10(data_range**2 / mse), reduction)


def ssim(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    data_range: float = 1.0,
    window_size: int = 11,
    mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image, via ``kornia.metrics.ssim``.

    Gaussian window of ``window_size`` taps (sigma 1.5), constants
    ``c1 = (0.01 data_range)²`` and ``c2 = (0.03 data_range)²``, reflect padding;
    the SSIM map is averaged over C, H, W -> (B,), or its mean with
    ``reduction="mean"``. ``kornia``'s ``eps`` is set to 0, so ``ssim(x, x) == 1``
    exactly for every image, flat ones included. H and W must exceed
    ``window_size // 2``. With ``mask`` (as in :func:`psnr`) the SSIM map is averaged
    over the visible pixels only.
    """
    _check_pair(pred, target)
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be a positive odd integer, got {window_size}")
    if min(pred.shape[-2:]) <= window_size // 2:
        raise ValueError(
            f"images of {pred.shape[-2]}x{pred.shape[-1]} are too small for window_size={window_size}"
        )
    valid = _check_mask(mask, pred)
    ssim_map = kornia.metrics.ssim(pred, target, window_size, max_val=float(data_range), eps=0.0)
    return _reduce(_masked_mean(ssim_map, valid), reduction)


def _check_labels(name: str, labels: torch.Tensor) -> None:
    check_shape(name, labels, ("N",))
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"{name} must hold integer class labels, got {labels.dtype}")
    if labels.numel() == 0:
        raise ValueError(f"{name} is empty")


def bias_rate(pred_labels: torch.Tensor, target_class: int) -> torch.Tensor:
    """Share of outputs classified as ``target_class``: ``pred_labels`` (N,) int -> scalar.

    With memories biased towards one class (Sec. 3.3: male, old, one identity), this
    is how often the generator's outputs land in it.
    """
    _check_labels("pred_labels", pred_labels)
    return (pred_labels == target_class).float().mean()


def keep_rate(pred_labels: torch.Tensor, input_labels: torch.Tensor) -> torch.Tensor:
    """Share of outputs whose class equals their input's class: (N,), (N,) int -> scalar."""
    _check_labels("pred_labels", pred_labels)
    _check_labels("input_labels", input_labels)
    if pred_labels.shape != input_labels.shape:
        raise ValueError(
            f"pred_labels and input_labels must have the same length, got "
            f"{pred_labels.shape[0]} and {input_labels.shape[0]}"
        )
    return (pred_labels == input_labels).float().mean()


def nearest_psnr(
    x: torch.Tensor,
    rendered: torch.Tensor,
    *,
    data_range: float = 1.0,
    mask: torch.Tensor | None = None,
    chunk: int = 512,
) -> torch.Tensor:
    """For each input, the highest PSNR any of a set of images reaches against it.

    ``x`` (N, C, H, W) inputs, ``rendered`` (M, C, H, W) other images seen through the
    renderer, typically ``P(m_j)`` of the memories: the result (N,) is ``max_j
    PSNR(rendered_j, x_i)`` in dB, the consistency of the best *real* memory image as an
    explanation of ``x_i``. Where it stays below a consistency floor, no real memory
    image is consistent with the input, so a consistent output can only borrow traits of
    the memories, not become one of them. ``mask`` (1, 1 or C, H, W; 1 = visible), as
    in :func:`psnr`, restricts the comparison to the visible pixels.
    """
    check_shape("x", x, ("N", "C", "H", "W"))
    check_shape("rendered", rendered, ("M", x.shape[1], x.shape[2], x.shape[3]))
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    if mask is not None and mask.shape[0] != 1:
        raise ValueError(f"mask: expected one mask (1, 1 or C, H, W), got {tuple(mask.shape)}")
    m = _check_mask(mask, x[:1])
    weight = torch.ones_like(x[:1]) if m is None else m
    b = (rendered * weight).flatten(1)
    best = []
    for part in (x * weight).flatten(1).split(chunk):
        mse = torch.cdist(part, b).square().min(dim=1).values / weight.sum()
        best.append(10.0 * torch.log10(data_range**2 / mse))
    return torch.cat(best)
