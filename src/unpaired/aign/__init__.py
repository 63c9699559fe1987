"""Adversarial Inverse Graphics Networks (AIGN paper, Eq. 1) and their applications.

* :mod:`unpaired.aign.core`: :class:`AIGN` (generator + parameter-free renderer + priors),
  :class:`Prior`, :class:`Rendered`, :func:`reconstruction_loss` and the batch sources
  :class:`Paired`, :class:`Fixed`;
* :mod:`unpaired.aign.pose`: 3D human pose lifting (Sec. 2.1, 3.1);
* :mod:`unpaired.aign.sfm`: depth and egomotion from frame pairs (Sec. 2.2, 3.2);
* :mod:`unpaired.aign.images`: super-resolution and inpainting, and the
  parametric-decoder ablation (Sec. 2.3, 2.4, 3.3).

``from unpaired.aign import AIGN, Prior, Rendered, reconstruction_loss`` keeps working:
this package re-exports :mod:`unpaired.aign.core` (the module ``unpaired/aign.py`` was
before the methods layer).
"""

from unpaired.aign.core import (
    AIGN,
    Fixed,
    Paired,
    Prior,
    Reconstruction,
    Rendered,
    Renderer,
    reconstruction_loss,
)

__all__ = [
    "AIGN",
    "Fixed",
    "Paired",
    "Prior",
    "Reconstruction",
    "Rendered",
    "Renderer",
    "reconstruction_loss",
]
