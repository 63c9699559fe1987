from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from unpaired.renderers.projection import Projection, project, unproject


def test_known_camera_cases() -> None:
    points = torch.tensor([[[0.0, 0.0, 5.0], [1.0, -0.5, 2.0], [2.0, 2.0, 4.0]]])
    out = project(points, 1000.0, torch.tensor([320.0, 240.0]))
    expected = torch.tensor([[[320.0, 240.0], [820.0, -10.0], [820.0, 740.0]]])
    torch.testing.assert_close(out, expected)
    # Eq. 2 as the homogeneous product P x + c, then division by the third row.
    f = 700.0
    p_matrix = torch.tensor([[f, 0, 0, 0], [0, f, 0, 0], [0, 0, 1, 0]])
    homogeneous = torch.cat([points, torch.ones(1, 3, 1)], dim=-1) @ p_matrix.T
    ref = homogeneous[..., :2] / homogeneous[..., 2:] + torch.tensor([10.0, 20.0])
    torch.testing.assert_close(project(points, f, torch.tensor([10.0, 20.0])), ref)


def test_per_sample_focal_and_principal() -> None:
    points = torch.tensor([[[1.0, 1.0, 2.0]], [[1.0, 1.0, 2.0]]])
    out = project(points, torch.tensor([100.0, 200.0]), torch.tensor([[0.0, 0.0], [5.0, 6.0]]))
    torch.testing.assert_close(out, torch.tensor([[[50.0, 50.0]], [[105.0, 106.0]]]))


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="points"):
        project(torch.zeros(2, 17, 2), 1.0)
    with pytest.raises(ValueError, match="focal"):
        project(torch.zeros(2, 17, 3), torch.ones(3))
    with pytest.raises(ValueError, match="principal"):
        project(torch.zeros(2, 17, 3), 1.0, torch.ones(3, 2))


def test_gradcheck_float64() -> None:
    g = torch.Generator().manual_seed(0)
    points = torch.randn(3, 5, 3, generator=g, dtype=torch.float64)
    points[..., 2] = points[..., 2].abs() + 2.0
    points.requires_grad_(True)
    focal = (torch.rand(3, generator=g, dtype=torch.float64) * 500 + 500).requires_grad_(True)
    principal = torch.randn(3, 2, generator=g, dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(project, (points, focal, principal))
    depth = points[..., 2].detach().clone().requires_grad_(True)
    pixels = torch.randn(3, 5, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(unproject, (pixels, depth, focal, principal))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(100.0, 3000.0))
def test_unproject_inverts_project(seed: int, focal: float) -> None:
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(4, 17, 3, generator=g, dtype=torch.float64)
    points[..., 2] = points[..., 2].abs() + 0.5
    principal = torch.randn(4, 2, generator=g, dtype=torch.float64) * 100
    back = unproject(project(points, focal, principal), points[..., 2], focal, principal)
    torch.testing.assert_close(back, points)


def test_module_has_no_parameters_and_matches_function() -> None:
    module = Projection(min_depth=1e-3)
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    points = torch.tensor([[[0.1, 0.2, 0.0]]])
    out = module(points, 10.0, 0.0)
    torch.testing.assert_close(out, project(points, 10.0, min_depth=1e-3))
    assert torch.isfinite(out).all()
