"""Classical baselines of MetaPose: DLT triangulation with known cameras, and AniPose's
bundle adjustment (aniposelib v0.4.3 ``CameraGroup.bundle_adjust_iter``) mirrored in scipy,
run per sample (one frame, J points, C cameras).

**Triangulation** (:func:`triangulate`): for every joint, the homogeneous DLT system
``u P_3 - P_1 = 0, v P_3 - P_2 = 0`` over the views where it is observed, solved by the
SVD (``triangulate_simple``).

**Bundle adjustment** (:func:`bundle_adjust`). Unknowns: per camera a rotation vector,
a translation, one focal length ``f`` and one radial term ``k1`` (8 numbers), plus every
3D point. A camera maps ``X`` to ``x = (R X + t)[:2] / (R X + t)[2]`` and the pixel
``f (1 + k1 |x|^2) x`` (principal point subtracted from the observations first, as
``launch_anipose.py``). Residuals are pixel differences of the observed points; the solver
is ``least_squares(method="trf", tr_solver="lsmr", x_scale="jac", loss="linear",
ftol=1e-4, max_nfev=200)``. aniposelib passes the sparse Jacobian pattern (a residual
touches its camera's 8 parameters and its point's 3) and hence the ``lsmr`` trust-region
solver; one frame has only ``8 C + 3 J`` (83 at 4 views) unknowns, where lsmr took
seconds per solve, so we solve the same trust-region subproblems exactly
(``tr_solver="exact"``) with a forward-difference Jacobian computed in one vectorised
evaluation. Robustness comes from re-selecting
observations, not from a robust loss: ``rounds`` rounds (aniposelib: 10) with a threshold
``mu`` log-spaced from 15 to 1 px; in each, re-triangulate every point with the current
cameras, clip ``mu`` to [the largest per-camera 15th percentile, the largest per-camera
75th percentile] of the reprojection errors (aniposelib takes them per camera *pair*
over many frames; one frame has too few points per pair), keep the observations below
``mu`` (a point needs two cameras), and run the solver on them. Stop early when the median
error is below 0.3 px; then a final solve on the inliers. The pose is the DLT
triangulation with the final cameras (undistorted by ``k1``), in the frame of the
adjusted cameras (defined only up to a similarity: the metrics do not care).

Cameras start from the truth (:func:`cameras_from_rig`, the paper's "AniPose w/ GT") or
at random (:func:`random_cameras`: rotation vector and translation ``~ N(0, 1)``, focal the
rig distribution's mean, ``launch_anipose.py --gt_init=false``).

Example:
    >>> import torch
    >>> from unpaired.data.synthetic.skeletons import sample_poses
    >>> from unpaired.multiview.rigs import RigDistribution, observe, place, sample_rigs
    >>> g = torch.Generator().manual_seed(0)
    >>> poses = place(sample_poses(1, generator=g, dtype=torch.float64))
    >>> rig = sample_rigs(1, RigDistribution(views=3), generator=g)
    >>> pixels, _ = observe(poses, rig)
    >>> points = triangulate(pixels, projection_matrices(rig))
    >>> float((points - poses).abs().max()) < 1e-8
    True
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from unpaired._checks import check_shape
from unpaired.multiview.rigs import Rig


def projection_matrices(rig: Rig) -> torch.Tensor:
    """``K [R | t]`` (B, C, 3, 4) of a rig."""
    b, c = rig.focal.shape
    k = torch.zeros(b, c, 3, 3, dtype=rig.rotation.dtype)
    k[..., 0, 0] = k[..., 1, 1] = rig.focal
    k[..., :2, 2] = rig.principal
    k[..., 2, 2] = 1.0
    return k @ torch.cat([rig.rotation, rig.translation[..., None]], dim=-1)


def triangulate(
    pixels: torch.Tensor, projection: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """DLT points (B, J, 3) from pixels (B, C, J, 2) and projection matrices (B, C, 3, 4);
    ``mask`` (B, C, J) marks the observations used (default: all)."""
    check_shape("pixels", pixels, ("B", "C", "J", 2))
    check_shape("projection", projection, (pixels.shape[0], pixels.shape[1], 3, 4))
    p = projection[:, :, None]  # (B, C, 1, 3, 4)
    u, v = pixels[..., 0:1], pixels[..., 1:2]
    rows = torch.stack([u * p[..., 2, :] - p[..., 0, :], v * p[..., 2, :] - p[..., 1, :]], -2)
    if mask is not None:
        rows = rows * mask[..., None, None].to(rows.dtype)
    rows = rows / rows.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    a = rows.permute(0, 2, 1, 3, 4).reshape(pixels.shape[0], pixels.shape[2], -1, 4)
    _, _, vh = torch.linalg.svd(a)
    h = vh[..., -1, :]
    return h[..., :3] / h[..., 3:]


@dataclass(frozen=True)
class BundleCameras:
    """Per-sample cameras of the adjustment (numpy): ``rvec`` (C, 3), ``tvec`` (C, 3),
    ``focal`` (C,), ``k1`` (C,); pixels relative to the principal point."""

    rvec: np.ndarray
    tvec: np.ndarray
    focal: np.ndarray
    k1: np.ndarray

    def pack(self) -> np.ndarray:
        return np.concatenate([self.rvec, self.tvec, self.focal[:, None], self.k1[:, None]], 1)

    @staticmethod
    def unpack(x: np.ndarray) -> BundleCameras:
        return BundleCameras(x[:, :3], x[:, 3:6], x[:, 6], x[:, 7])

    def rotation(self) -> np.ndarray:
        return Rotation.from_rotvec(self.rvec).as_matrix()

    def projection(self) -> np.ndarray:
        """``K [R | t]`` (C, 3, 4) with the principal point at the origin."""
        rt = np.concatenate([self.rotation(), self.tvec[:, :, None]], axis=2)
        return self.focal[:, None, None] * np.concatenate(
            [rt[:, :2], rt[:, 2:] / self.focal[:, None, None]], 1
        )


def cameras_from_rig(rig: Rig, sample: int) -> BundleCameras:
    """The true cameras of one sample of ``rig`` (``k1 = 0``)."""
    r = rig.rotation[sample].double().numpy()
    c = r.shape[0]
    return BundleCameras(
        Rotation.from_matrix(r).as_rotvec(),
        rig.translation[sample].double().numpy().copy(),
        rig.focal[sample].double().numpy().copy(),
        np.zeros(c),
    )


def random_cameras(views: int, focal: float, rng: np.random.Generator) -> BundleCameras:
    """Cameras with rotation vector and translation ``~ N(0, 1)``, the given focal."""
    return BundleCameras(
        rng.standard_normal((views, 3)),
        rng.standard_normal((views, 3)),
        np.full(views, float(focal)),
        np.zeros(views),
    )


def _rotations(rvec: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vectors (..., 3) -> matrices (..., 3, 3)."""
    theta = np.linalg.norm(rvec, axis=-1, keepdims=True)
    k = rvec / np.maximum(theta, 1e-12)
    zero = np.zeros_like(k[..., 0])
    skew = np.stack(
        [zero, -k[..., 2], k[..., 1], k[..., 2], zero, -k[..., 0], -k[..., 1], k[..., 0], zero],
        axis=-1,
    ).reshape(*k.shape[:-1], 3, 3)
    s, c = np.sin(theta)[..., None], np.cos(theta)[..., None]
    return np.eye(3) + s * skew + (1.0 - c) * skew @ skew


def _project_many(params: np.ndarray, c: int, ci: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Pixels (K, N, 2) of the observations (camera ``ci``, point ``pj``) under K parameter
    vectors (K, 8 C + 3 J) at once (the finite-difference Jacobian evaluates them together)."""
    k = params.shape[0]
    cams = params[:, : 8 * c].reshape(k, c, 8)
    points = params[:, 8 * c :].reshape(k, -1, 3)
    rot = _rotations(cams[..., :3])
    xc = np.einsum("knij,knj->kni", rot[:, ci], points[:, pj]) + cams[:, ci, 3:6]
    z = xc[..., 2:3]
    z = np.where(np.abs(z) < 1e-9, 1e-9, z)
    x = xc[..., :2] / z
    r2 = (x * x).sum(-1, keepdims=True)
    return cams[:, ci, 6:7] * (1.0 + cams[:, ci, 7:8] * r2) * x


def _project(cams: BundleCameras, points: np.ndarray, ci: np.ndarray, pj: np.ndarray) -> np.ndarray:
    params = np.concatenate([cams.pack().ravel(), points.ravel()])[None]
    return _project_many(params, cams.rvec.shape[0], ci, pj)[0]


def _undistort(obs: np.ndarray, cams: BundleCameras) -> np.ndarray:
    """(C, J, 2) pixels with the radial term removed (fixed-point, 5 iterations)."""
    f, k1 = cams.focal[:, None, None], cams.k1[:, None, None]
    xd = obs / f
    x = xd.copy()
    for _ in range(5):
        x = xd / (1.0 + k1 * (x * x).sum(-1, keepdims=True))
    return x * f


def _triangulate_np(obs: np.ndarray, cams: BundleCameras, mask: np.ndarray) -> np.ndarray:
    p = torch.from_numpy(cams.projection())[None]
    x = torch.from_numpy(_undistort(obs, cams))[None]
    return triangulate(x, p, torch.from_numpy(mask)[None])[0].numpy()


def _errors(obs: np.ndarray, cams: BundleCameras, points: np.ndarray) -> np.ndarray:
    c, j = obs.shape[:2]
    ci, pj = np.repeat(np.arange(c), j), np.tile(np.arange(j), c)
    return np.linalg.norm(_project(cams, points, ci, pj) - obs.reshape(-1, 2), axis=1).reshape(c, j)


def _solve(obs: np.ndarray, mask: np.ndarray, cams: BundleCameras, points: np.ndarray):
    c, j = mask.shape
    ci, pj = np.nonzero(mask)
    target = obs[ci, pj]

    def residuals(x: np.ndarray) -> np.ndarray:
        return (_project_many(x[None], c, ci, pj)[0] - target).ravel()

    def jacobian(x: np.ndarray) -> np.ndarray:
        # forward differences, every column in one vectorised evaluation
        step = 1e-6 * np.maximum(1.0, np.abs(x))
        many = x[None] + np.diag(step)
        base = _project_many(x[None], c, ci, pj).reshape(1, -1)
        moved = _project_many(many, c, ci, pj).reshape(len(x), -1)
        return ((moved - base) / step[:, None]).T

    x0 = np.concatenate([cams.pack().ravel(), points.ravel()])
    fit = least_squares(
        residuals,
        x0,
        jac=jacobian,
        method="trf",
        tr_solver="exact",
        x_scale="jac",
        loss="linear",
        ftol=1e-4,
        max_nfev=200,
    )
    return BundleCameras.unpack(fit.x[: 8 * c].reshape(c, 8)), fit.x[8 * c :].reshape(j, 3)


@cache
def single_threaded_blas() -> int:
    """Set the OpenBLAS libraries loaded by numpy and scipy to one thread (what
    threadpoolctl does, without the dependency); returns how many were set. The problems
    here are tiny: on a loaded machine, BLAS threads made one solve ~30x slower. Global and
    done once per process."""
    names = (
        "scipy_openblas_set_num_threads64_",
        "scipy_openblas_set_num_threads",
        "openblas_set_num_threads64_",
        "openblas_set_num_threads",
    )
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return 0
    done = 0
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            if hasattr(lib, name):
                getattr(lib, name)(1)
                done += 1
                break
    return done


def _keep(errors: np.ndarray, mu: float) -> np.ndarray:
    low = max(float(np.percentile(e, 15)) for e in errors)
    high = max(float(np.percentile(e, 75)) for e in errors)
    mu = min(max(mu, low), high) if high >= low else mu
    keep = errors <= mu
    keep &= keep.sum(0, keepdims=True) >= 2  # a point needs two cameras
    return keep


def bundle_adjust(
    pixels: np.ndarray, cams: BundleCameras, *, rounds: int = 10
) -> tuple[BundleCameras, np.ndarray]:
    """AniPose-style iterative bundle adjustment of one sample: pixels (C, J, 2) relative
    to the principal point, starting cameras -> adjusted cameras and the DLT points
    (J, 3) (see the module docstring)."""
    if pixels.ndim != 3 or pixels.shape[2] != 2:
        raise ValueError(f"pixels must be (C, J, 2), got {pixels.shape}")
    single_threaded_blas()
    full = np.ones(pixels.shape[:2], dtype=bool)
    keep = full
    for mu in np.exp(np.linspace(np.log(15.0), np.log(1.0), max(rounds, 1))):
        points = _triangulate_np(pixels, cams, full)
        errors = _errors(pixels, cams, points)
        if np.median(errors) < 0.3:
            break
        keep = _keep(errors, float(mu))
        if keep.sum() < 2:
            break
        cams, _ = _solve(pixels, keep, cams, _triangulate_np(pixels, cams, keep))
    if keep.sum() >= 2:
        cams, _ = _solve(pixels, keep, cams, _triangulate_np(pixels, cams, keep))
    return cams, _triangulate_np(pixels, cams, full)


def adjust_samples(
    pixels: torch.Tensor,
    rig: Rig,
    *,
    init: str,
    focal_guess: float,
    seed: int = 0,
    rounds: int = 10,
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """:func:`bundle_adjust` of every sample of pixels (B, C, J, 2) seen by ``rig``
    (its principal points are subtracted; its cameras start the solver when ``init`` is
    ``"gt"``, else :func:`random_cameras` with ``focal_guess`` from a
    ``numpy.random.default_rng(seed)``). Returns the points (B, J, 3) in the adjusted
    world frame, the adjusted rotation of camera 0 (B, 3, 3) and the mean wall-clock
    seconds per sample."""
    if init not in ("gt", "random"):
        raise ValueError(f"init must be 'gt' or 'random', got {init!r}")
    check_shape("pixels", pixels, (len(rig), rig.views, "J", 2))
    rng = np.random.default_rng(seed)
    single_threaded_blas()
    points, rotations, seconds = [], [], 0.0
    for i in range(len(rig)):
        obs = (pixels[i] - rig.principal[i, :, None]).double().numpy()
        start = (
            cameras_from_rig(rig, i)
            if init == "gt"
            else random_cameras(rig.views, focal_guess, rng)
        )
        t0 = time.perf_counter()
        cams, pts = bundle_adjust(obs, start, rounds=rounds)
        seconds += time.perf_counter() - t0
        points.append(torch.from_numpy(pts))
        rotations.append(torch.from_numpy(cams.rotation()[0]))
    return torch.stack(points), torch.stack(rotations), seconds / max(len(rig), 1)
