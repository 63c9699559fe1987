from __future__ import annotations

import math

import kornia
import pytest
import torch

from unpaired.metrics.images import bias_rate, keep_rate, nearest_psnr, psnr, ssim


def test_psnr_of_a_known_mse() -> None:
    target = torch.rand(2, 1, 8, 8, dtype=torch.float64) * 0.5
    pred = target + torch.tensor([0.1, 0.01], dtype=torch.float64).view(2, 1, 1, 1)
    # MSE 1e-2 and 1e-4 -> 20 dB and 40 dB at data_range 1
    per_image = psnr(pred, target, reduction="none")
    torch.testing.assert_close(per_image, torch.tensor([20.0, 40.0], dtype=torch.float64))
    torch.testing.assert_close(psnr(pred, target), torch.tensor(30.0, dtype=torch.float64))
    torch.testing.assert_close(
        psnr(255 * pred, 255 * target, data_range=255.0, reduction="none"), per_image
    )


def test_psnr_matches_kornia_for_one_image_and_is_inf_when_equal() -> None:
    a, b = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(psnr(a, b), kornia.metrics.psnr(a, b, 1.0))
    assert math.isinf(psnr(a, a).item())


def test_ssim_of_an_image_with_itself_is_one() -> None:
    x = torch.cat(
        [torch.rand(3, 1, 16, 16), torch.zeros(1, 1, 16, 16), torch.full((1, 1, 16, 16), 0.7)]
    )
    torch.testing.assert_close(ssim(x, x, reduction="none"), torch.ones(5))


def test_ssim_of_flat_images_is_the_luminance_term() -> None:
    a, b = 0.2, 0.6
    c1 = (0.01 * 1.0) ** 2
    # zero variance: the contrast-structure term is c2 / c2 = 1
    expected = (2 * a * b + c1) / (a**2 + b**2 + c1)
    x, y = (
        torch.full((1, 1, 12, 12), a, dtype=torch.float64),
        torch.full((1, 1, 12, 12), b, dtype=torch.float64),
    )
    torch.testing.assert_close(ssim(x, y), torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(ssim(y, x), ssim(x, y))


def test_ssim_falls_with_noise() -> None:
    x = torch.rand(4, 1, 32, 32)
    noise = torch.randn_like(x)
    values = [ssim(x, (x + s * noise).clamp(0, 1)).item() for s in (0.01, 0.05, 0.2)]
    assert 1.0 > values[0] > values[1] > values[2]


def test_ssim_and_psnr_argument_checks() -> None:
    with pytest.raises(ValueError, match="same shape"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 6))
    with pytest.raises(ValueError, match="too small for window_size=11"):
        ssim(torch.rand(1, 1, 5, 5), torch.rand(1, 1, 5, 5))
    with pytest.raises(ValueError, match="positive odd"):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), window_size=4)
    with pytest.raises(ValueError, match="reduction"):
        psnr(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4), reduction="sum")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"pred: expected shape \(B, C, H, W\)"):
        psnr(torch.rand(4, 4), torch.rand(4, 4))
    with pytest.raises(ValueError, match="data_range"):
        psnr(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4), data_range=0.0)


def test_small_images_work_with_a_small_window() -> None:
    x = torch.rand(2, 1, 4, 4)
    torch.testing.assert_close(ssim(x, x, window_size=3), torch.tensor(1.0))


def test_bias_and_keep_rates() -> None:
    pred = torch.tensor([1, 1, 0, 2, 1])
    torch.testing.assert_close(bias_rate(pred, 1), torch.tensor(0.6))
    torch.testing.assert_close(bias_rate(pred, 7), torch.tensor(0.0))
    torch.testing.assert_close(keep_rate(pred, torch.tensor([1, 0, 0, 2, 2])), torch.tensor(0.6))


def test_rates_reject_bad_labels() -> None:
    with pytest.raises(ValueError, match="integer class labels"):
        bias_rate(torch.tensor([0.5, 1.0]), 1)
    with pytest.raises(ValueError, match="empty"):
        bias_rate(torch.tensor([], dtype=torch.int64), 1)
    with pytest.raises(ValueError, match="same length"):
        keep_rate(torch.tensor([1, 2]), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"pred_labels: expected shape \(N\)"):
        bias_rate(torch.zeros(2, 3, dtype=torch.int64), 0)


def test_masked_psnr_and_ssim_ignore_hidden_pixels() -> None:
    target = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    mask = torch.ones(1, 1, 16, 16, dtype=torch.float64)
    mask[..., 4:8, :] = 0
    pred = target.clone()
    pred[..., 4:8, :] = 1 - pred[..., 4:8, :]  # hidden rows differ wildly
    pred[..., 10:, :] += 0.1  # visible rows 10..15: 6 of the 12 visible rows are off by 0.1
    # visible MSE = 0.01 * 6 / 12 -> 10 log10(1 / 0.005) dB
    expected = 10 * math.log10(1 / 0.005)
    torch.testing.assert_close(
        psnr(pred, target, mask=mask, reduction="none"),
        torch.full((2,), expected, dtype=torch.float64),
    )
    assert psnr(pred, target).item() < expected  # unmasked, the hidden rows count
    # SSIM over visible pixels equals the plain SSIM map averaged there
    full_map = kornia.metrics.ssim(pred, target, 11, max_val=1.0, eps=0.0)
    expected_ssim = full_map[..., mask[0, 0].bool()].mean(dim=(1, 2))
    torch.testing.assert_close(ssim(pred, target, mask=mask, reduction="none"), expected_ssim)
    same_visible = torch.where(mask.bool(), target, torch.rand_like(target))
    assert math.isinf(psnr(same_visible, target, mask=mask).item())


def test_masks_are_checked() -> None:
    a = torch.rand(2, 1, 16, 16)
    with pytest.raises(ValueError, match="mask: expected shape"):
        psnr(a, a, mask=torch.ones(3, 1, 16, 16))
    with pytest.raises(ValueError, match="hides every pixel"):
        ssim(a, a, mask=torch.zeros(1, 1, 16, 16))


def test_nearest_psnr_is_the_best_pairwise_psnr() -> None:
    torch.manual_seed(0)
    x, r = torch.rand(7, 2, 5, 4), torch.rand(11, 2, 5, 4)
    brute = torch.stack(
        [psnr(r, xi.expand_as(r), reduction="none").max() for xi in x]  # every pair
    )
    torch.testing.assert_close(nearest_psnr(x, r, chunk=3), brute)
    mask = torch.zeros(1, 1, 5, 4)
    mask[..., :2, :] = 1
    brute = torch.stack([psnr(r, xi.expand_as(r), mask=mask, reduction="none").max() for xi in x])
    torch.testing.assert_close(nearest_psnr(x, r, mask=mask), brute)
    # an input equal to one of the images on the visible pixels is explained exactly
    y = r[:1].clone()
    y[..., 2:, :] = 0.5
    assert nearest_psnr(y, r, mask=mask)[0] == math.inf
    assert math.isfinite(nearest_psnr(y, r)[0])


def test_nearest_psnr_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="rendered: expected shape"):
        nearest_psnr(torch.rand(2, 1, 4, 4), torch.rand(3, 1, 8, 8))
    with pytest.raises(ValueError, match="one mask"):
        nearest_psnr(torch.rand(2, 1, 4, 4), torch.rand(3, 1, 4, 4), mask=torch.ones(2, 1, 4, 4))
