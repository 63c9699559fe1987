"""Metrics of attribute manipulation (PuppetGAN, Usman et al., ICCV 2019, Sec. 4, Table 2).

A manipulation model takes a real digit ``a`` and a synthetic reference ``b`` and outputs
``y``: ``a`` with ``b``'s attribute of interest (AoI: rotation or size). The attributes of
any digit image are *measured* with image moments, so real, synthetic and generated
images are measured the same way:

* :func:`measure_rotation`: orientation of the ink's principal axis (second central
  moments), in degrees from the vertical, counter-clockwise on screen, in [-90, 90);
* :func:`measure_size`: ``2 * sqrt(lambda_max) / H``, the spread of the ink along its
  principal axis as a fraction of the frame height (rotation invariant; for an upright
  bar of height ``L`` it is ``L / (sqrt(3) H)``).

From these (``ref`` = reference, ``out`` = output; all per-image measurements):

* ``r_attr`` (higher is better): Pearson r of the AoI measured on ``ref`` and on ``out``;
* ``r_rest`` (lower is better): ``|Pearson r|`` of the *other* attribute (size for the
  rotation task, rotation for the size task) measured on ``ref`` and on ``out``: the
  output should keep the real input's rest, so it should not follow the reference's;
* ``V_rest`` (lower is better, :func:`v_rest`): for each real input, the per-pixel
  **standard deviation** (not variance; images in [0, 1]) of the outputs over references
  that share the AoI but differ in everything else, averaged over pixels and inputs;
* ``Acc`` (higher is better): share of outputs a classifier trained on real digits reads
  as the real input's class (computed by the caller with its classifier; :func:`acc`);
* ``J`` (:func:`kde_js`): Jensen-Shannon divergence, in nats (so at most ln 2 = 0.693),
  between Gaussian kernel density estimates (Scott's bandwidth) of one attribute's
  measurements on two image sets (real vs synthetic: the domain discrepancy).

Example:
    >>> x = torch.zeros(1, 1, 32, 32); x[..., 8:24, 15:17] = 1  # an upright bar
    >>> round(float(measure_rotation(x)[0]), 3)
    0.0
    >>> pearson(torch.tensor([1.0, 2, 3]), torch.tensor([2.0, 4, 7])) > 0.98
    tensor(True)
"""

from __future__ import annotations

import math

import torch

from unpaired._checks import check_shape


def central_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Second central moments ``(mu20, mu02, mu11)`` (each (N,)) of the ink of images
    (N, 1, H, W) (pixel values as weights, clamped at 0), normalised by the total ink;
    ``x`` is the column, ``y`` the row (downwards), in pixels."""
    check_shape("x", x, ("N", 1, "H", "W"))
    w = x[:, 0].clamp_min(0).double()
    h, wd = w.shape[-2:]
    mass = w.sum((-2, -1)).clamp_min(1e-9)
    ys = torch.arange(h, dtype=w.dtype)[:, None]
    xs = torch.arange(wd, dtype=w.dtype)[None, :]
    cy = (w * ys).sum((-2, -1)) / mass
    cx = (w * xs).sum((-2, -1)) / mass
    dy = ys - cy[:, None, None]
    dx = xs - cx[:, None, None]
    mu20 = (w * dx * dx).sum((-2, -1)) / mass
    mu02 = (w * dy * dy).sum((-2, -1)) / mass
    mu11 = (w * dx * dy).sum((-2, -1)) / mass
    return mu20, mu02, mu11


def measure_rotation(x: torch.Tensor) -> torch.Tensor:
    """Orientation (N,) of the principal axis of each image (N, 1, H, W), in degrees from
    the vertical, counter-clockwise on screen positive, in [-90, 90). An upright digit
    reads about 0 (its own slant: MNIST digits lean, typewritten ones less)."""
    mu20, mu02, mu11 = central_moments(x)
    # angle of the major axis from the x axis with y pointing up (hence -mu11)
    phi = 0.5 * torch.atan2(-2 * mu11, mu20 - mu02)
    deg = torch.rad2deg(phi) - 90.0
    return (torch.remainder(deg + 90.0, 180.0) - 90.0).float()


def measure_size(x: torch.Tensor) -> torch.Tensor:
    """Size (N,) of each image (N, 1, H, W): ``2 sqrt(lambda_max) / H`` with
    ``lambda_max`` the larger eigenvalue of the ink's second-moment matrix."""
    mu20, mu02, mu11 = central_moments(x)
    lam = (mu20 + mu02) / 2 + torch.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
    return (2 * lam.sqrt() / x.shape[-2]).float()


MEASURES = {"rotation": measure_rotation, "size": measure_size}


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of two (N,) samples (0 when either is constant)."""
    check_shape("b", b, (a.shape[0],))
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    den = (a.pow(2).sum() * b.pow(2).sum()).sqrt()
    return (a * b).sum() / den if den > 0 else torch.zeros((), dtype=torch.float64)


def v_rest(outputs: torch.Tensor) -> float:
    """``V_rest`` of outputs (R, K, C, H, W): output k of real input r under reference k,
    the K references sharing the AoI. Mean over r and pixels of the std over k
    (population std, i.e. ``unbiased=False``)."""
    check_shape("outputs", outputs, ("R", "K", "C", "H", "W"))
    if outputs.shape[1] < 2:
        raise ValueError(f"v_rest needs K >= 2 references per input, got {outputs.shape[1]}")
    return float(outputs.double().std(dim=1, unbiased=False).mean())


def acc(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``predicted`` classes (N,) equal to ``labels`` (N,)."""
    check_shape("labels", labels, (predicted.shape[0],))
    return float((predicted == labels).double().mean())


def _kde(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    h = x.std().clamp_min(1e-6) * n ** (-1 / 5)  # Scott's rule in one dimension
    z = (grid[:, None] - x[None, :]) / h
    return torch.exp(-0.5 * z * z).sum(1) / (n * h * math.sqrt(2 * math.pi))


def kde_js(a: torch.Tensor, b: torch.Tensor, *, points: int = 1024) -> float:
    """Jensen-Shannon divergence (nats, in [0, ln 2]) between Gaussian KDEs (Scott's
    bandwidth) of two 1-D samples (N,), (M,), integrated on ``points`` grid points over
    both samples' range plus four bandwidths."""
    if a.dim() != 1 or b.dim() != 1 or min(a.numel(), b.numel()) < 2:
        raise ValueError(f"kde_js needs two 1-D samples of >= 2 values, got {a.shape}, {b.shape}")
    a, b = a.double(), b.double()
    pad = 4 * max(float(a.std()), float(b.std()), 1e-6)
    lo = min(float(a.min()), float(b.min())) - pad
    hi = max(float(a.max()), float(b.max())) + pad
    grid = torch.linspace(lo, hi, points, dtype=torch.float64)
    p, q = _kde(a, grid), _kde(b, grid)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(u: torch.Tensor) -> torch.Tensor:
        keep = u > 0
        return (u[keep] * (u[keep] / m[keep]).log()).sum()

    return float(0.5 * kl(p) + 0.5 * kl(q))


def manipulation_scores(
    aoi: str,
    ref: torch.Tensor,
    out: torch.Tensor,
) -> dict[str, float]:
    """``r_attr`` and ``r_rest`` of references (N, 1, H, W) and their outputs (N, 1, H,
    W); ``aoi`` is ``"rotation"`` or ``"size"`` (the other one is the rest)."""
    if aoi not in MEASURES:
        raise ValueError(f"aoi must be 'rotation' or 'size', got {aoi!r}")
    check_shape("out", out, ref.shape)
    rest = next(k for k in MEASURES if k != aoi)
    return {
        "r_attr": float(pearson(MEASURES[aoi](ref), MEASURES[aoi](out))),
        "r_rest": abs(float(pearson(MEASURES[rest](ref), MEASURES[rest](out)))),
    }
