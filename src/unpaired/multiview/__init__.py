"""Multi-view 3D human pose without 3D supervision (MetaPose, Usman et al., CVPR 2022).

- :mod:`~unpaired.multiview.rigs`: random camera rigs around a subject, perspective 2D,
  person boxes, detector-like noise;
- :mod:`~unpaired.multiview.weak`: the weak-perspective camera model;
- :mod:`~unpaired.multiview.bundle_adjustment`: DLT triangulation and the AniPose-style
  bundle adjustment baseline;
- :mod:`~unpaired.multiview.evaluate`: PMPJPE, NMPJPE, MPJPE of multi-view estimates.
"""
