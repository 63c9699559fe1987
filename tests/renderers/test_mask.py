from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from unpaired.renderers.mask import BOXES, Masking, apply_mask, box_mask, free_form_mask


def test_apply_mask_exact_values() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    m = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    torch.testing.assert_close(apply_mask(x, m), torch.tensor([[[[1.0, 0.0], [0.0, 4.0]]]]))


@pytest.mark.parametrize("mask_shape", [(1, 1, 5, 6), (3, 1, 5, 6), (3, 2, 5, 6), (1, 2, 5, 6)])
def test_apply_mask_broadcasts_over_batch_and_channels(mask_shape: tuple[int, ...]) -> None:
    x = torch.rand(3, 2, 5, 6)
    m = (torch.rand(mask_shape) > 0.5).float()
    out = apply_mask(x, m)
    assert out.shape == x.shape
    torch.testing.assert_close(out, x * m.expand_as(x))


@pytest.mark.parametrize("mask_shape", [(2, 1, 5, 6), (3, 3, 5, 6), (3, 1, 5, 5), (5, 6)])
def test_apply_mask_rejects_incompatible_masks(mask_shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="m: expected shape"):
        apply_mask(torch.rand(3, 2, 5, 6), torch.ones(mask_shape))


def test_apply_mask_is_idempotent_for_binary_masks() -> None:
    x, m = torch.rand(2, 1, 8, 8), free_form_mask(2, 8, 8)
    once = apply_mask(x, m)
    torch.testing.assert_close(apply_mask(once, m), once)


def test_gradcheck_float64_in_image_and_mask() -> None:
    x = torch.rand(2, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    m = torch.rand(2, 1, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(apply_mask, (x, m))


def test_masking_module_has_no_parameters() -> None:
    module = Masking()
    assert list(module.parameters()) == [] and list(module.buffers()) == []
    x, m = torch.rand(2, 1, 4, 4), box_mask(4, 4, (0.0, 0.0, 0.5, 0.5))
    torch.testing.assert_close(module(x, m), apply_mask(x, m))


def test_box_mask_exact_pixels() -> None:
    m = box_mask(4, 8, (0.25, 0.5, 0.75, 1.0))
    expected = torch.ones(1, 1, 4, 8)
    expected[..., 1:3, 4:8] = 0  # rows 1-2, columns 4-7 hidden; 1 = visible
    torch.testing.assert_close(m, expected, rtol=0, atol=0)


def test_digit_band_hides_the_middle_rows() -> None:
    m = box_mask(16, 16, BOXES["digit_band"])[0, 0]
    hidden_rows = torch.nonzero((m == 0).all(dim=1)).flatten().tolist()
    assert hidden_rows == [6, 7, 8, 9]
    assert (m[:6] == 1).all() and (m[10:] == 1).all()


@pytest.mark.parametrize("name", sorted(BOXES))
@pytest.mark.parametrize("size", [16, 32, 64])
def test_named_boxes_hide_part_of_the_image(name: str, size: int) -> None:
    m = box_mask(size, size, BOXES[name])
    hidden = (m == 0).float().mean().item()
    assert 0.0 < hidden < 0.5


def test_face_boxes_sit_in_the_lower_half_and_mouth_below_nose() -> None:
    for ds in ("olivetti", "celeba"):
        mouth, nose = BOXES[f"{ds}_mouth"], BOXES[f"{ds}_nose"]
        assert mouth[0] > 0.5 and nose[2] > 0.5
        assert (mouth[0] + mouth[2]) / 2 > (nose[0] + nose[2]) / 2


@pytest.mark.parametrize(
    "box", [(0.5, 0.0, 0.5, 1.0), (0.0, 0.6, 1.0, 0.4), (-0.1, 0.0, 0.5, 0.5), (0.0, 0.0, 1.2, 1.0)]
)
def test_box_mask_rejects_bad_boxes(box: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError, match="box must satisfy"):
        box_mask(8, 8, box)


def test_free_form_mask_is_binary_seeded_and_varies() -> None:
    def draw(seed: int) -> torch.Tensor:
        return free_form_mask(8, 32, 32, generator=torch.Generator().manual_seed(seed))

    a, b, c = draw(0), draw(0), draw(1)
    assert a.shape == (8, 1, 32, 32) and a.dtype == torch.float32
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)
    assert not torch.equal(a[0], a[1])  # each image gets its own strokes


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    strokes=st.integers(1, 5),
    vertices=st.integers(1, 6),
)
def test_free_form_mask_always_hides_something(
    seed: int, height: int, width: int, strokes: int, vertices: int
) -> None:
    g = torch.Generator().manual_seed(seed)
    m = free_form_mask(3, height, width, strokes=strokes, vertices=vertices, generator=g)
    assert ((m == 0).flatten(1).sum(dim=1) >= 1).all()


def test_a_zero_length_stroke_is_a_disc_of_the_given_thickness() -> None:
    g = torch.Generator().manual_seed(3)
    m = free_form_mask(
        4, 32, 32, strokes=1, vertices=1, max_length=0.0, thickness=(0.25, 0.25), generator=g
    )
    radius = 0.25 * 32 / 2
    interior = 0
    for img in m[:, 0]:
        pts = torch.nonzero(img == 0).float() + 0.5
        assert torch.cdist(pts, pts).max() <= 2 * radius + 1e-4  # fits in the disc's diameter
        centre = pts.mean(dim=0)
        # an interior disc of radius 4 covers about pi r^2 = 50 pixel centres
        if ((centre > radius) & (centre < 32 - radius)).all():
            assert 40 <= len(pts) <= 60
            interior += 1
    assert interior >= 1


def test_free_form_mask_dtype_and_bad_options() -> None:
    assert free_form_mask(1, 8, 8, dtype=torch.float64).dtype == torch.float64
    with pytest.raises(ValueError, match="strokes and vertices"):
        free_form_mask(1, 8, 8, strokes=0)
    with pytest.raises(ValueError, match="thickness"):
        free_form_mask(1, 8, 8, thickness=(0.3, 0.1))
