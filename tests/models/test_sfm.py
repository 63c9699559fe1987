from __future__ import annotations

import math
import re

import pytest
import torch

import unpaired.models.sfm as sfm
from unpaired.data.flow import EGOMOTION_CHANNELS
from unpaired.geometry import euler_to_matrix, matrix_to_euler
from unpaired.models.sfm import (
    DepthCritic,
    DepthNet,
    EgomotionNet,
    MotionCritic,
    depth_smoothness,
    motion_features,
    motion_from_vector,
)


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_documented_parameter_counts_are_true() -> None:
    doc = sfm.__doc__.replace("\n", " ")
    for model in (DepthNet(), EgomotionNet(), MotionCritic(), DepthCritic()):
        name = type(model).__name__
        documented = re.search(rf"{name} ([\d,]+)", doc)
        assert documented is not None, name
        assert int(documented.group(1).replace(",", "")) == _count(model)


def test_depth_net_shapes_init_and_gradient() -> None:
    net = DepthNet(init_depth=12.0)
    image = torch.rand(2, 3, 64, 192, requires_grad=True)
    log_depth = net(image)
    assert log_depth.shape == (2, 1, 64, 192)
    assert (log_depth - math.log(12.0)).abs().max() < 0.05
    log_depth.sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert net(torch.rand(1, 3, 37, 101)).shape == (1, 1, 37, 101)  # any size


def test_egomotion_net_starts_near_identity_and_converts() -> None:
    net = EgomotionNet()
    x = torch.rand(3, EGOMOTION_CHANNELS, 64, 192, requires_grad=True)
    v = net(x)
    assert v.shape == (3, 6)
    assert v[:, :3].abs().max() < 1e-3 and v[:, 3:].abs().max() < 0.1
    v.sum().backward()
    assert x.grad.abs().sum() > 0
    assert net(torch.rand(1, EGOMOTION_CHANNELS, 32, 96)).shape == (1, 6)
    angles = torch.tensor([[0.01, -0.02, 0.03, 0.1, 0.2, -1.0]])
    rot, trans = motion_from_vector(angles)
    torch.testing.assert_close(rot, euler_to_matrix(angles[:, :3]))
    torch.testing.assert_close(matrix_to_euler(rot), angles[:, :3])
    torch.testing.assert_close(trans, angles[:, 3:])


def test_critics() -> None:
    rot = euler_to_matrix(torch.tensor([[0.1, 0.2, 0.3]]))
    feats = motion_features(rot, torch.tensor([[1.0, 2.0, 3.0]]))
    assert feats.shape == (1, 12)
    torch.testing.assert_close(feats[0, :3], rot[0, 0])
    torch.testing.assert_close(feats[0, [3, 7, 11]], torch.tensor([1.0, 2.0, 3.0]))
    assert MotionCritic()(feats).shape == (1, 1)
    logits = DepthCritic()(torch.randn(2, 1, 64, 192))
    assert logits.shape == (2, 1, 8, 24)  # one logit per patch


def test_depth_critic_is_local() -> None:
    """Fully convolutional: a change at one pixel only moves nearby patch logits."""
    critic = DepthCritic()
    x = torch.randn(1, 1, 64, 192)
    y = x.clone()
    y[0, 0, 5, 5] += 10.0
    diff = (critic(x) - critic(y)).abs()[0, 0]
    assert diff[:3, :3].sum() > 0
    assert diff[4:, :].abs().max() == 0 and diff[:, 4:].abs().max() == 0


def test_depth_smoothness() -> None:
    flat = torch.zeros(1, 1, 4, 5)
    assert depth_smoothness(flat) == 0
    ramp = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 4, 5)  # slope 1 along x
    assert depth_smoothness(ramp).item() == 1.0
    edge = torch.zeros(1, 3, 4, 5)
    edge[..., 3:] = 1.0  # an image edge between columns 2 and 3
    step = torch.zeros(1, 1, 4, 5)
    step[..., 3:] = 1.0  # a depth step at the same place
    plain, aware = depth_smoothness(step), depth_smoothness(step, edge)
    assert plain.item() == 0.25  # one of four column gaps
    assert aware.item() == pytest.approx(0.25 * math.exp(-1.0))
