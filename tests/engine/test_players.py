from __future__ import annotations

import math

import pytest
import torch

from unpaired.engine.players import grad_check_value


@pytest.mark.parametrize("cpu", [True, False])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_grad_check_value_is_non_finite_when_any_entry_is(cpu: bool, bad: float) -> None:
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(7, 5, generator=g), torch.randn(3, generator=g), torch.randn(2, 2, 2)]
    assert math.isfinite(grad_check_value(grads, cpu=cpu).item())
    for i in range(len(grads)):
        broken = [t.clone() for t in grads]
        broken[i].view(-1)[-1] = bad
        assert not math.isfinite(grad_check_value(broken, cpu=cpu).item()), i


@pytest.mark.parametrize("cpu", [True, False])
def test_grad_check_value_stays_finite_for_large_finite_gradients(cpu: bool) -> None:
    # An L2 norm would overflow float32 here (1e30 ** 2); sums and the L1 norm do not.
    grads = [torch.full((4,), 1e30), torch.full((3,), -1e30), torch.zeros(2, dtype=torch.float64)]
    assert math.isfinite(grad_check_value(grads, cpu=cpu).item())
