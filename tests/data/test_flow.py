from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from unpaired.data.flow import (
    EGOMOTION_CHANNELS,
    egomotion_inputs,
    farneback_flow,
    flow_angles,
    static_angle_field,
)
from unpaired.data.synthetic.scenes import render_sequence
from unpaired.renderers.rigid_warp import rigid_flow


def test_farneback_recovers_a_known_shift() -> None:
    frame = render_sequence(2, n_frames=1, height=64, width=192).frames[0]
    img = frame.permute(1, 2, 0).numpy()
    dx, dy = 2.5, -1.5  # frame2(x + dx, y + dy) = frame1(x, y)
    shifted = cv2.warpAffine(
        img, np.float32([[1, 0, dx], [0, 1, dy]]), (192, 64), borderMode=cv2.BORDER_REFLECT
    )
    frame2 = torch.from_numpy(shifted).permute(2, 0, 1)
    flow = farneback_flow(torch.stack([frame, frame]), torch.stack([frame2, frame2]))
    assert flow.shape == (2, 2, 64, 192) and flow.dtype == torch.float32
    inner = flow[0, :, 8:-8, 8:-8]
    assert abs(inner[0].median().item() - dx) < 0.2
    assert abs(inner[1].median().item() - dy) < 0.2


def test_farneback_on_a_street_pair_is_close_to_the_true_flow() -> None:
    p = render_sequence(0, n_frames=3, height=64, width=192).pairs()
    flow = farneback_flow(p.frame1, p.frame2)
    true, valid = rigid_flow(p.depth1, p.rotation, p.translation, p.intrinsics)
    epe = (flow - true).norm(dim=1, keepdim=True)[valid]
    assert epe.median() < 1.0  # pixels; true flow reaches 20+ px near the bottom


def test_angles_hand_values() -> None:
    flow = torch.tensor([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0]]).view(1, 2, 1, 4)
    torch.testing.assert_close(
        flow_angles(flow)[0, 0, 0], torch.tensor([0.0, math.pi / 2, math.pi, -math.pi / 2])
    )
    k = torch.tensor([[10.0, 0.0, 1.0], [0.0, 10.0, 1.0], [0.0, 0.0, 1.0]])
    field = static_angle_field(3, 3, k)
    assert field.shape == (1, 1, 3, 3)
    assert field[0, 0, 1, 2] == 0.0  # right of the principal point
    assert math.isclose(field[0, 0, 2, 1].item(), math.pi / 2, rel_tol=1e-6)  # below (y down)
    assert math.isclose(field[0, 0, 1, 0].item(), math.pi, rel_tol=1e-6)  # left
    assert math.isclose(field[0, 0, 0, 0].item(), -3 * math.pi / 4, rel_tol=1e-6)  # up-left


def test_egomotion_inputs_layout() -> None:
    b, h, w = 2, 4, 6
    f1, f2 = torch.rand(b, 3, h, w), torch.rand(b, 3, h, w)
    flow = torch.randn(b, 2, h, w)
    k = torch.tensor([[5.0, 0.0, 2.5], [0.0, 5.0, 1.5], [0.0, 0.0, 1.0]])
    x = egomotion_inputs(f1, f2, flow, k)
    assert x.shape == (b, EGOMOTION_CHANNELS, h, w)
    torch.testing.assert_close(x[:, :3], f1)
    torch.testing.assert_close(x[:, 3:6], f2)
    torch.testing.assert_close(x[:, 6:8], flow / w)
    torch.testing.assert_close(x[:, 8:9], flow_angles(flow) / math.pi)
    torch.testing.assert_close(x[:, 9:10], static_angle_field(h, w, k).expand(b, 1, h, w) / math.pi)
    assert x[:, 8:].abs().max() <= 1.0
