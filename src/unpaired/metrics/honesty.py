"""Honesty of cycle-consistent translators: RH, SN(sigma), segmentation scores, IoU p2p.

From the thesis talk, section "Improving Semantic Consistency with Translation Honesty"
(Bashkirova, Usman, Saenko, *Adversarial Self-Defense for Cycle-Consistent GANs*,
NeurIPS 2019), the slide with the three formulas and Tables 1-3. A CycleGAN that
"cheats" hides the information it needs to reconstruct its input as a low-amplitude,
structured signal inside its translation; these metrics make the signal visible:

* **Reconstruction honesty** (RH, lower is more honest)::

      RH = 1/N sum_i ( ||G_A(q(G_B(X_i))) - X_i||_2 - ||G_A(G_B(X_i)) - X_i||_2 )

  where ``q`` snaps every pixel of the translation to its nearest palette colour
  (:func:`quantize_to_palette`), which strips any hidden signal: an honest translator
  reconstructs about as well from the quantised translation as from the raw one.
* **Sensitivity to noise** (SN, lower is more honest), a curve over sigma::

      SN(sigma) = 1/N sum_i ||G_A(G_B(X_i) + N(0, sigma^2)) - G_A(G_B(X_i))||_2

  A backward generator that decodes a hidden signal must be sensitive to small
  perturbations of its input.
* **acc segm / IoU segm**: the labels of ``q(G_B(photo))`` against the true labels
  (pixel accuracy; mean IoU over the classes present). **IoU p2p**:
  ``IoU(pix(G_A(B_i)), pix(A_i))`` with a frozen supervised photo -> map network ``pix``
  (pix2pix): do the generated photos produce the segmentation their maps came from?
* Without a palette: SN and the cycle error, and a label-preservation accuracy where a
  classifier exists.

Our reading of the formulas (the paper's exact definitions were not published; see
``../shared/notes/translation.md`` section 1.5), stated once for every function here:

* ``forward`` is ``G_B`` (X -> Y, e.g. photo -> map: the direction whose output has a
  palette), ``backward`` is ``G_A`` (Y -> X); both are callables on batches
  (B, C, H, W) -> (B, C', H, W), called under ``torch.no_grad()`` (put modules in eval
  mode first). ``X_i`` are images of X (N, C, H, W).
* Images are in [-1, 1]. ``||.||_2`` is the L2 norm of one image over all its C * H * W
  values, **in [-1, 1] units** (multiply by 127.5 for 0..255 units; divide by
  sqrt(C * H * W) for a per-value RMS, which does not grow with the resolution). The
  slide writes ``Y_i`` as the target of the first norm; with ``Y_i`` = ``X_i`` (what a
  reconstruction is compared with) the two terms are reconstruction errors and RH is
  their difference; positive RH means quantising hurt the reconstruction.
* Per-image values are averaged over N (``reduction="none"`` returns them, e.g. for the
  tables' mean +- std). SN uses one standard normal draw per image for every sigma
  (common random numbers), scaled by sigma, not clamped, from ``generator``.
* Segmentation scores accumulate one confusion matrix over the whole set; IoU of a class
  is TP / (TP + FP + FN), averaged over the classes with TP + FP + FN > 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

from unpaired._checks import check_shape

Translator = Callable[[torch.Tensor], torch.Tensor]
SIGMAS: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1)


# ------------------------------------------------------------------------ palettes


def palette_labels(images: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Index (N, H, W) int64 of the nearest palette colour of every pixel.

    ``images`` (N, C, H, W), ``palette`` (K, C) in the same units (Euclidean distance
    over the C channels; ties go to the lower index)."""
    check_shape("images", images, ("N", "C", "H", "W"))
    check_shape("palette", palette, ("K", images.shape[1]))
    p = palette.to(images.device, images.dtype)
    # |x - p|^2 = |x|^2 - 2 x.p + |p|^2; |x|^2 is the same for every k.
    score = torch.einsum("nchw,kc->nkhw", images, p) - 0.5 * (p * p).sum(1)[None, :, None, None]
    return score.argmax(1)


def quantize_to_palette(images: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """``q(images)`` (N, C, H, W): every pixel snapped to its nearest palette colour.

    This strips any signal hidden below half the distance between palette colours."""
    labels = palette_labels(images, palette)
    return palette.to(images.device, images.dtype)[labels].permute(0, 3, 1, 2).contiguous()


def hidden_signal(images: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """What :func:`quantize_to_palette` removes: ``images - q(images)`` (N, C, H, W)."""
    return images - quantize_to_palette(images, palette)


# ------------------------------------------------------------------------ helpers


def _check_images(name: str, x: torch.Tensor) -> None:
    check_shape(name, x, ("N", "C", "H", "W"))
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image")


def _call(fn: Translator, x: torch.Tensor, what: str) -> torch.Tensor:
    y = fn(x)
    if not isinstance(y, torch.Tensor) or y.dim() != 4 or y.shape[0] != x.shape[0]:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"{what} must map (B, C, H, W) to (B, C', H', W'), got {shape}")
    return y


def _norms(a: torch.Tensor, b: torch.Tensor, what: str) -> torch.Tensor:
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    return (a - b).flatten(1).norm(dim=1)


def _chunks(n: int, batch_size: int) -> Sequence[slice]:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return values.mean(-1)
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


# ------------------------------------------------------------------------ honesty


@torch.no_grad()
def reconstruction_honesty(
    forward: Translator,
    backward: Translator,
    x: torch.Tensor,
    palette: torch.Tensor,
    *,
    batch_size: int = 64,
    reduction: Literal["mean", "none"] = "mean",
) -> torch.Tensor:
    """RH: ``||G_A(q(G_B(x_i))) - x_i||_2 - ||G_A(G_B(x_i)) - x_i||_2``, averaged.

    ``x`` (N, C, H, W) in [-1, 1]; ``forward`` = G_B (its output is quantised to
    ``palette`` (K, C')), ``backward`` = G_A. Returns a scalar (``"mean"``) or (N,) per
    image (``"none"``), in [-1, 1] units (module docstring). About 0 for an honest pair;
    large when the reconstruction depends on a signal that quantisation removes.
    """
    _check_images("x", x)
    out = []
    for s in _chunks(x.shape[0], batch_size):
        xb = x[s]
        y = _call(forward, xb, "forward")
        raw = _norms(_call(backward, y, "backward"), xb, "backward(forward(x)) vs x")
        quant = _norms(
            _call(backward, quantize_to_palette(y, palette), "backward"),
            xb,
            "backward(q(forward(x))) vs x",
        )
        out.append(quant - raw)
    return _reduce(torch.cat(out), reduction)


@torch.no_grad()
def sensitivity_to_noise(
    forward: Translator,
    backward: Translator,
    x: torch.Tensor,
    sigmas: Sequence[float] = SIGMAS,
    *,
    generator: torch.Generator | None = None,
    batch_size: int = 64,
    reduction: Literal["mean", "none"] = "mean",
) -> torch.Tensor:
    """SN(sigma): ``||G_A(G_B(x_i) + N(0, sigma^2)) - G_A(G_B(x_i))||_2``, averaged.

    ``x`` (N, C, H, W) in [-1, 1]; returns (S,) for the S ``sigmas`` (``"mean"``) or
    (S, N) (``"none"``), in [-1, 1] units. The noise is i.i.d. per value, not clamped,
    drawn from ``generator`` (one standard normal draw per image, scaled by each sigma).
    0 for a backward generator that ignores its input.
    """
    _check_images("x", x)
    sig = [float(s) for s in sigmas]
    if not sig or any(s < 0 for s in sig):
        raise ValueError(f"sigmas must be a non-empty list of values >= 0, got {sigmas!r}")
    out = []
    for s in _chunks(x.shape[0], batch_size):
        y = _call(forward, x[s], "forward")
        clean = _call(backward, y, "backward")
        device = generator.device if generator is not None else y.device
        z = torch.randn(y.shape, generator=generator, device=device, dtype=y.dtype).to(y.device)
        out.append(
            torch.stack(
                [_norms(_call(backward, y + sigma * z, "backward"), clean, "SN") for sigma in sig]
            )
        )
    return _reduce(torch.cat(out, 1), reduction)


@torch.no_grad()
def cycle_error(
    forward: Translator,
    backward: Translator,
    x: torch.Tensor,
    *,
    batch_size: int = 64,
    reduction: Literal["mean", "none"] = "mean",
) -> torch.Tensor:
    """Cycle error ``||G_A(G_B(x_i)) - x_i||_2``, averaged; ``x`` (N, C, H, W) in [-1, 1]."""
    _check_images("x", x)
    out = [
        _norms(_call(backward, _call(forward, x[s], "forward"), "backward"), x[s], "cycle")
        for s in _chunks(x.shape[0], batch_size)
    ]
    return _reduce(torch.cat(out), reduction)


# ------------------------------------------------------------------------ segmentation


@dataclass(frozen=True)
class SegmentationScores:
    """Scores of predicted against reference label maps.

    ``confusion`` (K, K) int64, rows = reference class, columns = predicted class;
    ``class_iou`` (K,) and ``class_accuracy`` (K,) are NaN for classes absent from
    both (IoU) or from the reference (accuracy); the means skip them."""

    pixel_accuracy: float
    mean_iou: float
    mean_class_accuracy: float
    class_iou: torch.Tensor
    class_accuracy: torch.Tensor
    confusion: torch.Tensor

    def as_dict(self) -> dict[str, float]:
        return {
            "pixel_accuracy": self.pixel_accuracy,
            "mean_iou": self.mean_iou,
            "mean_class_accuracy": self.mean_class_accuracy,
        }


def segmentation_scores(
    predicted: torch.Tensor, reference: torch.Tensor, *, num_classes: int
) -> SegmentationScores:
    """Pixel accuracy, mean IoU and mean class accuracy of ``predicted`` (N, H, W) against
    ``reference`` (N, H, W), both int64 in [0, num_classes), over the whole set."""
    check_shape("predicted", predicted, ("N", "H", "W"))
    check_shape("reference", reference, tuple(predicted.shape))
    for name, t in (("predicted", predicted), ("reference", reference)):
        if t.dtype != torch.long:
            raise ValueError(f"{name} must hold int64 labels, got {t.dtype}")
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"{name} labels must lie in [0, {num_classes})")
    if predicted.numel() == 0:
        raise ValueError("predicted and reference must not be empty")
    k = num_classes
    confusion = torch.bincount(
        (reference.flatten() * k + predicted.flatten()).cpu(), minlength=k * k
    ).view(k, k)
    tp = confusion.diag().double()
    ref_count, pred_count = confusion.sum(1).double(), confusion.sum(0).double()
    union = ref_count + pred_count - tp
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    iou = torch.where(union > 0, tp / union.clamp(min=1), nan)
    acc = torch.where(ref_count > 0, tp / ref_count.clamp(min=1), nan)
    return SegmentationScores(
        pixel_accuracy=float(tp.sum() / confusion.sum()),
        mean_iou=float(iou[union > 0].mean()),
        mean_class_accuracy=float(acc[ref_count > 0].mean()),
        class_iou=iou,
        class_accuracy=acc,
        confusion=confusion,
    )


@torch.no_grad()
def translated_labels(
    forward: Translator, x: torch.Tensor, palette: torch.Tensor, *, batch_size: int = 64
) -> torch.Tensor:
    """Labels (N, H, W) of ``q(forward(x))``: the palette class of every translated pixel."""
    _check_images("x", x)
    return torch.cat(
        [
            palette_labels(_call(forward, x[s], "forward"), palette)
            for s in _chunks(x.shape[0], batch_size)
        ]
    )


def segm_scores(
    forward: Translator,
    photos: torch.Tensor,
    labels: torch.Tensor,
    palette: torch.Tensor,
    *,
    batch_size: int = 64,
) -> SegmentationScores:
    """acc segm / IoU segm: labels of ``q(G_B(photos))`` against the true ``labels``.

    ``photos`` (N, C, H, W) in [-1, 1], ``labels`` (N, H, W) int64, ``forward`` = G_B
    (photo -> map), ``palette`` (K, C') the map palette, class k = row k."""
    pred = translated_labels(forward, photos, palette, batch_size=batch_size)
    return segmentation_scores(pred, labels.to(pred.device), num_classes=palette.shape[0])


def p2p_scores(
    pix: Translator,
    backward: Translator,
    maps: torch.Tensor,
    reference: torch.Tensor,
    palette: torch.Tensor,
    *,
    batch_size: int = 64,
) -> SegmentationScores:
    """IoU p2p: labels of ``q(pix(G_A(maps)))`` against ``reference`` (N, H, W).

    ``pix`` is a frozen supervised photo -> map network (pix2pix), ``backward`` = G_A
    (map -> photo), ``maps`` (N, C, H, W) in [-1, 1]. The slide's reference is
    ``pix(A_i)``, the segmentation of the real photo the map belongs to:
    ``translated_labels(pix, photos, palette)``; ``palette_labels(maps, palette)`` (the
    map's own labels) is the other reading."""

    def through(m: torch.Tensor) -> torch.Tensor:
        return _call(pix, _call(backward, m, "backward"), "pix")

    pred = translated_labels(through, maps, palette, batch_size=batch_size)
    return segmentation_scores(pred, reference.to(pred.device), num_classes=palette.shape[0])


@torch.no_grad()
def label_preservation(
    classifier: Callable[[torch.Tensor], torch.Tensor],
    forward: Translator,
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int = 64,
) -> float:
    """Share of translations ``forward(x)`` that a target-domain ``classifier`` (logits
    (B, classes)) assigns the class ``labels`` (N,) of their source ``x`` (N, C, H, W)."""
    _check_images("x", x)
    check_shape("labels", labels, (x.shape[0],))
    hits = 0
    for s in _chunks(x.shape[0], batch_size):
        logits = classifier(_call(forward, x[s], "forward"))
        if logits.dim() != 2 or logits.shape[0] != s.stop - s.start:
            raise ValueError(
                f"classifier must return logits (B, classes), got {tuple(logits.shape)}"
            )
        hits += int((logits.argmax(1) == labels[s].to(logits.device)).sum())
    return hits / x.shape[0]
