from __future__ import annotations

import pytest
import torch

from unpaired.data.skeleton import bone_lengths
from unpaired.data.synthetic.skeletons import REST_OFFSETS, STYLES, sample_poses


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_deterministic_given_generator() -> None:
    a = sample_poses(64, generator=gen(3), random_yaw=True)
    b = sample_poses(64, generator=gen(3), random_yaw=True)
    c = sample_poses(64, generator=gen(4), random_yaw=True)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_shape_root_and_upright() -> None:
    poses = sample_poses(500, generator=gen())
    assert poses.shape == (500, 17, 3) and poses.dtype == torch.float32
    assert torch.all(poses[:, 0] == 0)
    assert (poses[:, 10, 1] > poses[:, 0, 1]).all()  # head above the pelvis (y up)


def test_no_variation_gives_rest_bone_lengths() -> None:
    poses = sample_poses(50, generator=gen(), scale_std=0.0, bone_std=0.0)
    torch.testing.assert_close(bone_lengths(poses), REST_OFFSETS[1:].norm(dim=-1).expand(50, 16))


def test_bone_lengths_vary_symmetrically() -> None:
    lengths = bone_lengths(sample_poses(2000, generator=gen()).double())
    rel = lengths.std(0) / lengths.mean(0)
    assert ((rel > 0.03) & (rel < 0.1)).all()  # body scale 5% x bone 3%
    # twins share their factor: right thigh == left thigh in every pose
    torch.testing.assert_close(lengths[:, 1], lengths[:, 4])


@pytest.mark.parametrize("style", STYLES)
def test_styles_are_plausible(style: str) -> None:
    poses = sample_poses(400, style=style, generator=gen()).double()  # type: ignore[arg-type]
    knee = poses[:, [2, 5]]
    thigh = knee - poses[:, [1, 4]]
    shank = poses[:, [3, 6]] - knee
    cos = (thigh * shank).sum(-1) / (thigh.norm(dim=-1) * shank.norm(dim=-1))
    flexion = torch.rad2deg(torch.acos(cos.clamp(-1, 1)))
    assert flexion.max() <= 150.0 + 1e-6  # knee limit
    # knees bend backwards: the ankle is never clearly in front of the knee-hip line's plane
    ahead = shank[..., 2] - thigh[..., 2] * shank.norm(dim=-1) / thigh.norm(dim=-1)
    assert (ahead < 0.05).float().mean() > 0.95
    mean_flex = flexion.mean().item()
    if style in ("sit", "crouch"):
        assert mean_flex > 70
    if style == "stand":
        assert mean_flex < 20


def test_random_yaw_spreads_facing_direction() -> None:
    poses = sample_poses(1000, generator=gen(), random_yaw=True)
    hip = poses[:, 4] - poses[:, 1]
    angle = torch.atan2(hip[:, 2], hip[:, 0])
    counts = torch.histc(angle, bins=4, min=-torch.pi, max=torch.pi)
    assert (counts > 150).all()
    with pytest.raises(ValueError, match="style"):
        sample_poses(2, style="dance")  # type: ignore[arg-type]
