"""unpaired.models.transforms: the families of T, all exactly the identity at the start."""

from __future__ import annotations

import pytest
import torch

from unpaired.models.transforms import (
    Affine,
    ConvResidual,
    FlowTransform,
    ImageWarp,
    MLPTransform,
    Shift,
    ToneCurve,
)


@pytest.mark.parametrize("cls", [Shift, Affine, MLPTransform, FlowTransform])
def test_transforms_start_at_the_identity(cls: type) -> None:
    t = cls(3)
    x = torch.randn(7, 3)
    torch.testing.assert_close(t(x), x)
    if t.invertible:
        y, logdet = t.forward_and_log_det(x)
        torch.testing.assert_close(y, x)
        torch.testing.assert_close(logdet, torch.zeros(7))
    else:
        with pytest.raises(ValueError, match="not invertible"):
            t.forward_and_log_det(x)


@pytest.mark.parametrize("cls", [Affine, FlowTransform])
def test_log_det_matches_the_jacobian(cls: type) -> None:
    torch.manual_seed(1)
    t = cls(3).double()
    with torch.no_grad():  # move away from the identity
        for p in t.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(4, 3, dtype=torch.float64)
    _, logdet = t.forward_and_log_det(x)
    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda v: t(v[None])[0], x[i])
        torch.testing.assert_close(logdet[i], torch.linalg.slogdet(jac).logabsdet)


def test_mlp_transform_moves_once_trained() -> None:
    t = MLPTransform(2, hidden=8)
    x = torch.randn(16, 2)
    loss = (t(x) - 1).square().mean()
    loss.backward()
    assert t.net[-1].weight.grad is not None and t.net[-1].weight.grad.abs().sum() > 0


# ----- image transforms: a spatial warp with a tone curve, a residual convolution -----


def _warp(**kw: object) -> ImageWarp:
    return ImageWarp(6, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        lambda: _warp(),
        lambda: _warp(control=3),
        lambda: _warp(knots=0, center=torch.rand(36), scale=0.3),
        lambda: ConvResidual(6, width=4, center=torch.rand(36), scale=0.3),
        lambda: ConvResidual(4, channels=3, width=4),
    ],
)
def test_image_transforms_start_at_the_identity(make: object) -> None:
    t = make()  # type: ignore[operator]
    x = torch.randn(5, t.center.numel())
    torch.testing.assert_close(t(x), x, atol=1e-5, rtol=0)
    if t.invertible:
        y, logdet = t.forward_and_log_det(x)
        torch.testing.assert_close(y, x, atol=1e-5, rtol=0)
        torch.testing.assert_close(logdet, torch.zeros(5), atol=1e-4, rtol=0)
    else:
        with pytest.raises(ValueError, match="not invertible"):
            t.forward_and_log_det(x)


def _perturbed(t: torch.nn.Module, seed: int, std: float = 0.1) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in t.parameters():
            p.add_(std * torch.randn(p.shape, generator=g))
    return t


@pytest.mark.parametrize("control", [0, 3])
def test_warp_log_det_matches_the_jacobian(control: int) -> None:
    """Away from the identity (a small rotation-scale-shift, a tone curve, TPS offsets)
    the log-determinant is that of the exact Jacobian of T (no singular value floored)."""
    t = _perturbed(_warp(control=control, knots=3, center=torch.rand(36), scale=0.5), 0, 0.03)
    hw = 36
    r = t.resample(torch.eye(hw).reshape(hw, 1, 6, 6)).reshape(hw, hw)
    assert float(torch.linalg.svdvals(r.detach()).min()) > 10 * t.logdet_floor  # floor not hit
    x = 0.5 + 0.2 * torch.randn(3, 36)
    _, logdet = t.forward_and_log_det(x)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(lambda v: t(v[None])[0], x[i])
        exact = torch.linalg.slogdet(jac).logabsdet
        torch.testing.assert_close(logdet[i], exact, atol=2e-3, rtol=1e-3)


def test_warp_moves_the_image_as_its_matrix_says() -> None:
    """theta = shift by one pixel to the right (normalized 2 / (size - 1)): the image moves
    one column, the column brought in is background, the curve is the identity."""
    t = ImageWarp(5, knots=0)
    with torch.no_grad():
        t.theta[0, 2] = 2 / 4
    img = torch.rand(2, 1, 5, 5)
    out = t.image_forward(img)
    torch.testing.assert_close(out[..., 1:], img[..., :-1], atol=1e-5, rtol=0)
    assert out[..., 0].abs().max() < 1e-6


def test_tone_curve_is_monotone_and_invertible_for_any_parameters() -> None:
    f = _perturbed(ToneCurve(knots=5), 3, std=1.0)
    x = torch.linspace(-0.5, 1.5, 401)
    y = f(x)
    assert bool((y[1:] > y[:-1]).all())
    slope = torch.autograd.functional.jacobian(lambda v: f(v).sum(), x)
    torch.testing.assert_close(f.log_slope(x).exp(), slope)


@pytest.mark.parametrize(
    "make", [lambda: _warp(control=3), lambda: ConvResidual(6, width=4, layers=2)]
)
def test_gradients_reach_every_parameter_at_the_identity(make: object) -> None:
    t = make()  # type: ignore[operator]
    x = torch.rand(4, 36)
    loss = (t(x) - torch.rand(4, 36)).square().mean()
    if t.invertible:
        loss = loss - t.forward_and_log_det(x)[1].mean()
    loss.backward()
    grads = {n: p.grad for n, p in t.named_parameters()}
    # at the identity the zero-initialised last conv blocks the gradient of the earlier
    # ones (as in any zero-init residual branch); the last layer and everything in the
    # warp get one
    reached = [n for n, g in grads.items() if g is not None and g.abs().sum() > 0]
    expected = [n for n in grads if t.invertible or n.startswith("net.2") or n.startswith("net.1")]
    assert set(expected) <= set(reached), (expected, reached)


def test_warp_log_det_floor_keeps_a_shrinking_warp_finite() -> None:
    t = _warp(knots=0)
    with torch.no_grad():
        t.theta[:, :2] -= 0.5 * torch.eye(2)  # shrink to half: R is singular
    _, logdet = t.forward_and_log_det(torch.rand(2, 36))
    assert torch.isfinite(logdet).all() and float(logdet[0]) < -10


def test_image_transforms_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match="center has 10 values"):
        ImageWarp(4, center=torch.zeros(10))
    with pytest.raises(ValueError, match=r"expects \(N, 16\) features"):
        ConvResidual(4)(torch.zeros(2, 15))


def test_image_transforms_rebuild_from_their_record() -> None:
    from unpaired.models.record import rebuild, record

    for t in (
        _perturbed(_warp(control=3, center=torch.rand(36), scale=0.4), 1),
        _perturbed(ConvResidual(6, width=4), 2),
    ):
        copy = rebuild(record(t))
        x = torch.rand(3, 36)
        torch.testing.assert_close(copy(x), t(x))
