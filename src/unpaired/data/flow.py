"""Classical optical flow and the extra inputs of the AIGN egomotion network (Sec. 2.2).

The paper feeds the egomotion network the two frames, their 2D optical flow (from its
FlowNet implementation), the angles of that flow, and a static angle field. Here the
flow is OpenCV's Farneback (dense, classical, no learned weights), which the library can
compute anywhere without a download.

* Flow convention (same as :mod:`unpaired.renderers.rigid_warp`): ``flow[:, 0]`` is
  U (columns), ``flow[:, 1]`` V (rows), in pixels, with ``I1(x, y) ~ I2(x + U, y + V)``.
* Flow angles: ``atan2(V, U)`` in (-pi, pi].
* Static angle field: each pixel's polar angle around the principal point,
  ``atan2(y - cy, x - cx)`` in (-pi, pi]. We read the paper's "angle from the camera's
  principal point" as this direction, to be compared with the flow angle (under forward
  motion, flow points away from the focus of expansion near the principal point).

:class:`PairSet` (:func:`make_pair_set`) holds frame pairs with these inputs computed once,
ready for the SfM networks of :mod:`unpaired.aign.sfm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from unpaired._checks import check_shape
from unpaired.data.rgbd import FramePairs
from unpaired.geometry import matrix_to_euler


def _gray_uint8(image: torch.Tensor) -> np.ndarray:
    rgb = image.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def farneback_flow(
    frame1: torch.Tensor,
    frame2: torch.Tensor,
    *,
    levels: int = 4,
    window: int | None = None,
    iterations: int = 5,
    poly_n: int = 5,
    poly_sigma: float = 1.1,
) -> torch.Tensor:
    """Dense Farneback flow from frame1 to frame2, for a batch of pairs.

    frame1, frame2 (B, 3, H, W) RGB in [0, 1] -> flow (B, 2, H, W) float32 in pixels.
    ``window`` defaults to about W / 12 (odd, at least 9): 17 at 192 columns, 33 at 384.
    Pyramid scale 0.5 with ``levels`` levels.
    """
    check_shape("frame1", frame1, ("B", 3, "H", "W"))
    check_shape("frame2", frame2, tuple(frame1.shape))
    width = frame1.shape[-1]
    win = window if window is not None else max(9, (width // 12) | 1)
    flows = []
    for a, b in zip(frame1, frame2, strict=True):
        f = cv2.calcOpticalFlowFarneback(
            _gray_uint8(a),
            _gray_uint8(b),
            None,
            0.5,
            levels,
            win,
            iterations,
            poly_n,
            poly_sigma,
            0,
        )
        flows.append(torch.from_numpy(f).permute(2, 0, 1))
    return torch.stack(flows).to(frame1.device)


def flow_angles(flow: torch.Tensor) -> torch.Tensor:
    """Angle of each flow vector: flow (B, 2, H, W) -> (B, 1, H, W) ``atan2(V, U)``."""
    check_shape("flow", flow, ("B", 2, "H", "W"))
    return torch.atan2(flow[:, 1:2], flow[:, 0:1])


def static_angle_field(height: int, width: int, intrinsics: torch.Tensor) -> torch.Tensor:
    """Polar angle of every pixel around the principal point: (B, 1, H, W) radians.

    intrinsics (3, 3) or (B, 3, 3) (B = 1 for a single matrix).
    """
    k = intrinsics if intrinsics.dim() == 3 else intrinsics[None]
    check_shape("intrinsics", k, ("B", 3, 3))
    ys = torch.arange(height, dtype=k.dtype, device=k.device).view(1, height, 1)
    xs = torch.arange(width, dtype=k.dtype, device=k.device).view(1, 1, width)
    angle = torch.atan2(ys - k[:, 1, 2].view(-1, 1, 1), xs - k[:, 0, 2].view(-1, 1, 1))
    return angle[:, None]


EGOMOTION_CHANNELS = 10  # 3 + 3 (frames) + 2 (flow) + 1 (flow angles) + 1 (angle field)


def egomotion_inputs(
    frame1: torch.Tensor, frame2: torch.Tensor, flow: torch.Tensor, intrinsics: torch.Tensor
) -> torch.Tensor:
    """The egomotion network's input (AIGN Sec. 2.2): (B, 10, H, W).

    Channels: frame1 (3), frame2 (3), flow (2) divided by the image width (so the same
    network sees comparable values at every resolution), flow angles / pi (1), static
    angle field / pi (1). intrinsics (3, 3) or (B, 3, 3).
    """
    check_shape("frame1", frame1, ("B", 3, "H", "W"))
    b, _, h, w = frame1.shape
    check_shape("frame2", frame2, (b, 3, h, w))
    check_shape("flow", flow, (b, 2, h, w))
    field = static_angle_field(h, w, intrinsics.to(frame1.dtype)).expand(b, 1, h, w)
    return torch.cat(
        [frame1, frame2, flow / w, flow_angles(flow) / torch.pi, field / torch.pi], dim=1
    )


def motion_vectors(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3), (B, 3) -> (B, 6): Euler angles (alpha, beta, gamma) of
    :func:`~unpaired.geometry.matrix_to_euler` and the translation, the egomotion network's
    output format (``X2 = R X1 + T``)."""
    check_shape("rotation", rotation, ("B", 3, 3))
    check_shape("translation", translation, (rotation.shape[0], 3))
    return torch.cat([matrix_to_euler(rotation), translation], 1)


@dataclass(frozen=True)
class PairSet:
    """Frame pairs ready for the SfM networks (AIGN Sec. 2.2).

    ``inputs`` (N, 10, H, W): the egomotion input (:func:`egomotion_inputs`), whose first
    three channels are I1 (the depth network's input) and next three I2; ``flow``
    (N, 2, H, W) Farneback flow; ``depth`` (N, 1, H, W) true z-depth of I1 (metres);
    ``motion`` (N, 6) true Euler angles and translation (:func:`motion_vectors`);
    ``rotation`` (N, 3, 3) and ``translation`` (N, 3) the same motion; ``intrinsics``
    (3, 3), shared by every pair.
    """

    inputs: torch.Tensor
    flow: torch.Tensor
    depth: torch.Tensor
    motion: torch.Tensor
    rotation: torch.Tensor
    translation: torch.Tensor
    intrinsics: torch.Tensor

    def __len__(self) -> int:
        return self.inputs.shape[0]

    @property
    def frame1(self) -> torch.Tensor:
        """(N, 3, H, W) the first frames."""
        return self.inputs[:, :3]

    @property
    def frame2(self) -> torch.Tensor:
        """(N, 3, H, W) the second frames."""
        return self.inputs[:, 3:6]


def make_pair_set(pairs: FramePairs) -> PairSet:
    """Farneback flow and the egomotion inputs of frame pairs with known depth; the
    intrinsics of the first pair are taken for all (one camera)."""
    if pairs.depth1 is None:
        raise ValueError("make_pair_set needs pairs with the true depth of frame 1 (depth1)")
    flow = farneback_flow(pairs.frame1, pairs.frame2)
    k = pairs.intrinsics[0]
    return PairSet(
        egomotion_inputs(pairs.frame1, pairs.frame2, flow, k),
        flow,
        pairs.depth1,
        motion_vectors(pairs.rotation, pairs.translation),
        pairs.rotation,
        pairs.translation,
        k,
    )
