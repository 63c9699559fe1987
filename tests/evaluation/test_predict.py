"""evaluation.predict: chunked, no-grad, eval-mode inference."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.evaluation import predict


def test_predict_matches_one_pass_for_tensors_and_dicts() -> None:
    net = nn.Linear(4, 3)
    x = torch.randn(23, 4)
    out = predict(net, x, chunk=5)
    torch.testing.assert_close(out, net(x).detach())
    assert not out.requires_grad

    class Named(nn.Module):
        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"double": 2 * x, "sum": x.sum(1)}

    named = predict(Named(), x, chunk=7)
    assert set(named) == {"double", "sum"} and named["sum"].shape == (23,)
    torch.testing.assert_close(named["double"], 2 * x)


def test_predict_runs_in_eval_mode_and_restores_the_mode() -> None:
    net = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.9))
    x = torch.ones(64, 8)
    net.train()
    first, second = predict(net, x, chunk=10), predict(net, x, chunk=64)
    torch.testing.assert_close(first, second)  # no dropout: deterministic
    assert net.training
    net.eval()
    predict(net, x)
    assert not net.training


def test_predict_accepts_plain_functions_and_rejects_bad_chunks() -> None:
    x = torch.arange(6.0)[:, None]
    torch.testing.assert_close(predict(lambda t: t + 1, x, chunk=4), x + 1)
    with pytest.raises(ValueError, match="chunk must be >= 1"):
        predict(lambda t: t, x, chunk=0)
    with pytest.raises(ValueError, match="empty input"):
        predict(lambda t: t, x[:0])
