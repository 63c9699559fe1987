"""Distribution alignment: learn ``T`` so that ``T(A)`` and ``B`` are indistinguishable.

Thesis talk, slide "How to find a good F?": given unpaired sample sets ``A = {a_i}``
(source) and ``B = {b_j}`` (target), find

    min_{T in F}  d(T(A), B) + R(T)

for a statistical distance ``d`` (any :class:`~unpaired.distances.Distance`) and a
family ``F`` of transformations (:mod:`unpaired.models.transforms`, all initialised to
the identity; the family itself is the regularizer ``R``). This is AIGN's prior term
without a renderer, so alignment is trained by the same engine (:class:`AlignTask`).

* Closed-form distances (mean, CORAL, MMD, energy, Sinkhorn, EMD, sliced, the dual
  adversarial distance, Gaussian LRMF) make it a plain minimization.
* Adversarial distances add a critic trained by ``critic_losses`` (min-max).
* Flow LRMF (Theorem 2.3 of the LRMF slides) needs ``T``'s log-determinant: an
  invertible transform (flow, affine or shift), two "private" densities fit once to A
  and B (:class:`DensityTask`) for the constant ``c(A, B)``, and a "shared" density
  trained as the critic. Its final value is the thesis' explicit failure signal: about
  0 when the alignment succeeded, clearly positive otherwise.

Modules: :mod:`~unpaired.alignment.tasks` (the engine tasks), :mod:`~unpaired.alignment.embedding`
(an autoencoder task for alignment in a code space),
:mod:`~unpaired.alignment.fit` (:func:`align` on two tensors, :class:`Standardizer`).

**Compatibility.** ``unpaired.alignment`` was one module; its names keep working from
here. The transforms (now :mod:`unpaired.models.transforms`) and the file readers (now
:mod:`unpaired.data.arrays`) are re-exported. Names -> objects belong at the edge
(DESIGN.md, convention 5), so ``make_distance``, ``make_transform``, ``check_pairing``,
``DISTANCES``, ``TRANSFORMS``, ``LRMF_DISTANCES``, ``DistanceName``, ``TransformName``
(now in ``unpaired.recipes._names``; ``make_distance`` is ``alignment_distance`` there)
and ``align_files`` (the ``unpaired align`` command's body, now
:mod:`unpaired.recipes.align_files`) still resolve from here, lazily and with a
``DeprecationWarning``. :func:`align` takes a distance and a transform *object* (it
took names before).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from unpaired.alignment.embedding import AutoencoderTask
from unpaired.alignment.fit import AlignResult, Standardizer, align, fit_private_densities
from unpaired.alignment.tasks import (
    AlignTask,
    DensityTask,
    KnownMapReplicas,
    Replicas,
    ScoredAlignTask,
    set_private_loglik,
)
from unpaired.data.arrays import load_array, load_samples
from unpaired.models.transforms import Affine, FlowTransform, MLPTransform, Shift, Transform

__all__ = [
    "Affine",
    "AlignResult",
    "AlignTask",
    "AutoencoderTask",
    "DensityTask",
    "FlowTransform",
    "KnownMapReplicas",
    "MLPTransform",
    "Replicas",
    "ScoredAlignTask",
    "Shift",
    "Standardizer",
    "Transform",
    "align",
    "fit_private_densities",
    "load_array",
    "load_samples",
    "set_private_loglik",
]

#: Deprecated names of the old module -> (their module at the edge, their name there).
_MOVED = {
    "make_distance": ("unpaired.recipes._names", "alignment_distance"),
    "make_transform": ("unpaired.recipes._names", "make_transform"),
    "check_pairing": ("unpaired.recipes._names", "check_pairing"),
    "DISTANCES": ("unpaired.recipes._names", "ALIGNMENT_DISTANCES"),
    "TRANSFORMS": ("unpaired.recipes._names", "TRANSFORMS"),
    "LRMF_DISTANCES": ("unpaired.recipes._names", "LRMF_DISTANCES"),
    "DistanceName": ("unpaired.recipes._names", "AlignmentDistanceName"),
    "TransformName": ("unpaired.recipes._names", "TransformName"),
    "align_files": ("unpaired.recipes.align_files", "align_files"),
}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'unpaired.alignment' has no attribute {name!r}")
    module, attr = _MOVED[name]
    warnings.warn(
        f"unpaired.alignment.{name} moved to {module}.{attr} (names live at the edge)",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), attr)
