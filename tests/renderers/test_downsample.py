from __future__ import annotations

import pytest
import torch

from unpaired.renderers.downsample import Downsample, downsample


def test_block_means_on_a_small_case() -> None:
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    # blocks {0,1,4,5}, {2,3,6,7}, {8,9,12,13}, {10,11,14,15}
    expected = torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
    torch.testing.assert_close(downsample(x, factor=2), expected, rtol=0, atol=0)


def test_any_integer_factor_and_batch_channels() -> None:
    x = torch.rand(2, 3, 6, 9)
    y = downsample(x, factor=3)
    assert y.shape == (2, 3, 2, 3)
    torch.testing.assert_close(y[1, 2, 1, 2], x[1, 2, 3:6, 6:9].mean())
    assert downsample(x, factor=1) is x


def test_default_factor_is_four() -> None:
    assert downsample(torch.rand(1, 1, 64, 32)).shape == (1, 1, 16, 8)


def test_inverts_nearest_upsampling() -> None:
    """P(G(x)) == x for the trivial generator G = nearest upsampling."""
    x = torch.rand(3, 2, 5, 7)
    up = x.repeat_interleave(4, dim=-2).repeat_interleave(4, dim=-1)
    torch.testing.assert_close(downsample(up, factor=4), x)


def test_preserves_the_mean() -> None:
    x = torch.rand(4, 1, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(downsample(x, factor=4).mean(), x.mean())


@pytest.mark.parametrize("shape", [(1, 1, 10, 8), (1, 1, 8, 10), (2, 3, 6, 6)])
def test_indivisible_sizes_raise(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="multiples of factor=4"):
        downsample(torch.rand(shape), factor=4)


@pytest.mark.parametrize("factor", [0, -2, 2.0, True])
def test_bad_factor_raises(factor: object) -> None:
    with pytest.raises(ValueError, match="factor"):
        downsample(torch.rand(1, 1, 4, 4), factor=factor)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="factor"):
        Downsample(factor=factor)  # type: ignore[arg-type]


def test_wrong_rank_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"x: expected shape \(B, C, H, W\)"):
        downsample(torch.rand(4, 8, 8))


def test_gradcheck_float64() -> None:
    x = torch.rand(2, 2, 6, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: downsample(t, factor=2), (x,))


def test_module_is_parameter_free_and_matches_function() -> None:
    module = Downsample(factor=2)
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    assert "factor=2" in repr(module)
    x = torch.rand(2, 1, 8, 8)
    torch.testing.assert_close(module(x), downsample(x, factor=2))
