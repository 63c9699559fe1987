"""unpaired.models.transforms: the families of T, all exactly the identity at the start."""

from __future__ import annotations

import pytest
import torch

from unpaired.models.transforms import Affine, FlowTransform, MLPTransform, Shift


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
