from __future__ import annotations

import pytest
import torch
from kornia.geometry.depth import depth_to_3d_v2

from unpaired.data.synthetic.scenes import render_sequence
from unpaired.geometry import euler_to_matrix
from unpaired.renderers.rigid_warp import (
    backproject,
    photometric_loss,
    render,
    rigid_flow,
    transform,
    warp,
)


def _k(f: float = 10.0, cx: float = 3.5, cy: float = 2.0, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]], dtype=dtype)


def _grid(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    return xs, ys


def test_backproject_matches_kornia() -> None:
    depth = torch.rand(2, 1, 5, 8) * 10 + 1
    k = torch.tensor(
        [[[12.0, 0, 3.7], [0, 9.0, 2.2], [0, 0, 1]], [[7.0, 0, 4.0], [0, 7.0, 2.0], [0, 0, 1]]]
    )
    ours = backproject(depth, k)
    ref = depth_to_3d_v2(depth[:, 0], k).permute(0, 3, 1, 2)
    torch.testing.assert_close(ours, ref)


def test_pure_sideways_translation_gives_constant_flow() -> None:
    h, w, f, d, tx = 5, 8, 10.0, 4.0, 0.3
    depth = torch.full((1, 1, h, w), d, dtype=torch.float64)
    flow, _ = rigid_flow(
        depth,
        torch.eye(3, dtype=torch.float64)[None],
        torch.tensor([[tx, 0.0, 0.0]], dtype=torch.float64),
        _k(f, dtype=torch.float64),
    )
    torch.testing.assert_close(flow[0, 0], torch.full((h, w), f * tx / d, dtype=torch.float64))
    torch.testing.assert_close(flow[0, 1], torch.zeros(h, w, dtype=torch.float64))


def test_forward_translation_gives_radial_flow() -> None:
    h, w, f, d, tz = 5, 8, 10.0, 4.0, -1.0  # camera moves 1 m forward: points come closer
    k = _k(f, dtype=torch.float64)
    depth = torch.full((1, 1, h, w), d, dtype=torch.float64)
    flow, _ = rigid_flow(
        depth,
        torch.eye(3, dtype=torch.float64)[None],
        torch.tensor([[0.0, 0.0, tz]], dtype=torch.float64),
        k,
    )
    xs, ys = _grid(h, w)
    factor = d / (d + tz) - 1.0
    torch.testing.assert_close(flow[0, 0], (xs - k[0, 2]) * factor)
    torch.testing.assert_close(flow[0, 1], (ys - k[1, 2]) * factor)


def test_pure_rotation_flow_is_the_homography_and_ignores_depth() -> None:
    h, w = 6, 9
    k = _k(8.0, 4.0, 2.5, dtype=torch.float64)
    rot = euler_to_matrix(torch.tensor([[0.02, -0.05, 0.01]], dtype=torch.float64))
    xs, ys = _grid(h, w)
    pix = torch.stack([xs, ys, torch.ones_like(xs)]).reshape(3, -1)
    mapped = k @ rot[0] @ torch.linalg.inv(k) @ pix
    expected = (mapped[:2] / mapped[2:]).reshape(2, h, w) - torch.stack([xs, ys])
    for d in (2.0, 50.0):
        depth = torch.full((1, 1, h, w), d, dtype=torch.float64)
        flow, valid = rigid_flow(depth, rot, torch.zeros(1, 3, dtype=torch.float64), k)
        torch.testing.assert_close(flow[0], expected)
    assert valid.any()


def test_points_behind_camera_or_outside_image_are_invalid() -> None:
    depth = torch.full((1, 1, 4, 6), 2.0)
    k = _k(5.0, 2.5, 1.5)
    _, valid = rigid_flow(depth, torch.eye(3)[None], torch.tensor([[0.0, 0.0, -3.0]]), k)
    assert not valid.any()  # every point ends 1 m behind camera 2
    _, valid = rigid_flow(depth, torch.eye(3)[None], torch.tensor([[0.5, 0.0, 0.0]]), k)
    # 0.5 m sideways at 2 m, f = 5: flow = 1.25 px to the right; the last two columns leave.
    assert valid[0, 0, :, :4].all() and not valid[0, 0, :, 5].any()


def test_warp_zero_flow_is_identity_and_integer_flow_shifts() -> None:
    image = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(warp(image, torch.zeros(2, 2, 5, 7)), image)
    flow = torch.zeros(2, 2, 5, 7)
    flow[:, 0] = 2.0  # read two columns to the right
    flow[:, 1] = -1.0  # and one row up
    out = warp(image, flow)
    torch.testing.assert_close(out[:, :, 1:, :-2], image[:, :, :-1, 2:])


def test_photometric_loss_hand_values() -> None:
    a = torch.zeros(1, 3, 1, 2)
    b = torch.zeros(1, 3, 1, 2)
    b[0, :, 0, 0] = torch.tensor([0.1, 0.2, 0.3])  # L1 over channels = 0.6
    b[0, :, 0, 1] = 1.0  # L1 = 3
    assert photometric_loss(a, b).item() == pytest.approx((0.6 + 3.0) / 2)
    mask = torch.tensor([[[[True, False]]]])
    assert photometric_loss(a, b, mask=mask).item() == pytest.approx(0.6)
    assert photometric_loss(a, b, mask=torch.zeros_like(mask)).item() == 0.0


def test_gradcheck_float64() -> None:
    torch.manual_seed(1)
    h, w = 4, 5
    k = _k(6.0, 2.0, 1.5, dtype=torch.float64)
    depth = (torch.rand(1, 1, h, w, dtype=torch.float64) * 2 + 4).requires_grad_()
    angles = torch.tensor([[0.013, -0.021, 0.017]], dtype=torch.float64, requires_grad=True)
    trans = torch.tensor([[0.07, -0.04, -0.23]], dtype=torch.float64, requires_grad=True)
    image = torch.rand(1, 2, h, w, dtype=torch.float64, requires_grad=True)

    def fn(
        d: torch.Tensor, a: torch.Tensor, t: torch.Tensor, img: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = render(d, euler_to_matrix(a), t, k, img)
        return out.flow, out.warped

    assert torch.autograd.gradcheck(fn, (depth, angles, trans, image), eps=1e-6, atol=1e-5)


@pytest.fixture(scope="module")
def street():
    return render_sequence(5, n_frames=6, height=64, width=192)


def test_true_depth_and_motion_reproduce_frame1(street) -> None:
    p = street.pairs()
    out = render(p.depth1, p.rotation, p.translation, p.intrinsics, p.frame2)
    true = photometric_loss(p.frame1, out.warped, mask=out.valid).item()
    no_motion = photometric_loss(p.frame1, p.frame2).item()
    half = render(p.depth1, p.rotation, 0.5 * p.translation, p.intrinsics, p.frame2)
    wrong_t = photometric_loss(p.frame1, half.warped, mask=half.valid).item()
    yaw = euler_to_matrix(torch.tensor([0.0, 0.01, 0.0]).expand(len(p), 3)) @ p.rotation
    turned = render(p.depth1, yaw, p.translation, p.intrinsics, p.frame2)
    wrong_r = photometric_loss(p.frame1, turned.warped, mask=turned.valid).item()
    assert out.valid.float().mean() > 0.6
    assert true < 0.05  # per-pixel L1 over 3 channels, image in [0, 1]
    assert true < 0.4 * wrong_t and true < 0.4 * wrong_r and true < 0.3 * no_motion
    # Most of the residual is at edges (bilinear resampling of sharp texture).
    err = (p.frame1 - out.warped).abs().sum(1, keepdim=True)[out.valid]
    assert err.median() < 0.015


def test_flow_lands_on_the_same_scene_point(street) -> None:
    """z of X2 = R X1 + T equals frame 2's rendered depth where the flow lands
    (checks the scene's depth, its poses and the flow convention together)."""
    p = street.pairs()
    points2 = transform(backproject(p.depth1, p.intrinsics), p.rotation, p.translation)
    flow, valid = rigid_flow(p.depth1, p.rotation, p.translation, p.intrinsics)
    depth2_there = warp(street.depth[1:], flow)
    near = valid & (p.depth1 < 60)
    rel = ((points2[:, 2:] - depth2_there).abs() / depth2_there)[near]
    assert near.float().mean() > 0.5
    assert rel.median() < 0.002  # the inverse motion gives about 0.009
    assert (rel < 0.02).float().mean() > 0.9  # the rest: occlusion and depth edges
