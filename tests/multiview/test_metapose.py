"""MetaPose stages: S1 from exact monocular poses, IR, the S2 network's equivariance and
its stage training; the data helpers."""

from __future__ import annotations

import pytest
import torch

from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.engine import TrainConfig, fit
from unpaired.models.multiview import CameraEquivariantMLP, cross_camera_concat
from unpaired.multiview.data import lift_views, make_views, synthetic_init, views_state
from unpaired.multiview.evaluate import pmpjpe
from unpaired.multiview.metapose import (
    MetaPoseS2,
    MetaPoseTask,
    State,
    refine,
    reprojection_error,
    s1,
    train_stages,
)
from unpaired.multiview.rigs import Noise2D, RigDistribution
from unpaired.multiview.weak import project_weak, rot6d_to_matrix


def _weak_scene(b: int = 3, c: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    pose = sample_poses(b, generator=g, dtype=torch.float64)
    rot = rot6d_to_matrix(torch.randn(b, c, 6, generator=g, dtype=torch.float64))
    scale = 0.3 + 0.2 * torch.rand(b, c, generator=g, dtype=torch.float64)
    shift = torch.rand(b, c, 2, generator=g, dtype=torch.float64)
    return pose, rot, project_weak(pose, rot, scale, shift), g


def test_s1_recovers_the_exact_pose_from_exact_monocular_poses() -> None:
    pose, rot, x2d, _ = _weak_scene()
    mono = pose[:, None] @ rot.transpose(-1, -2)
    mono = mono - mono[..., :1, :]
    state = s1(mono, x2d)
    assert float(pmpjpe(state.pose, pose, reflections=False).max()) < 1e-6
    assert float(reprojection_error(state, x2d).max()) < 1e-9
    # the reference frame is view 0's
    assert torch.allclose(
        state.rotation[:, 0], torch.eye(3, dtype=torch.float64).expand(3, 3, 3), atol=1e-9
    )


def test_refinement_lowers_the_reprojection_error_of_a_noisy_start() -> None:
    pose, rot, x2d, g = _weak_scene()
    mono = pose[:, None] @ rot.transpose(-1, -2)
    mono = mono + 0.05 * torch.randn(mono.shape, generator=g, dtype=torch.float64)
    start = s1(mono, x2d)
    refined = refine(start, x2d, steps=100)
    before, after = reprojection_error(start, x2d), reprojection_error(refined, x2d)
    assert bool((after < 0.5 * before).all())
    assert float(pmpjpe(refined.pose, pose).mean()) < float(pmpjpe(start.pose, pose).mean())


def test_the_network_is_equivariant_to_camera_order() -> None:
    torch.manual_seed(0)
    net = CameraEquivariantMLP(12, camera_out=5, pose_out=7, hidden=16)
    for head in (net.camera_head, net.pose_head):  # leave the zero start
        torch.nn.init.normal_(head.weight)
    x = torch.randn(2, 4, 12, dtype=torch.float32)
    perm = torch.tensor([2, 0, 3, 1])
    cam, pose = net(x)
    cam_p, pose_p = net(x[:, perm])
    assert torch.allclose(cam_p, cam[:, perm], atol=1e-5)
    assert torch.allclose(pose_p, pose, atol=1e-5)
    assert float(pose.abs().sum()) > 0
    ccat = cross_camera_concat(x)
    assert torch.allclose(ccat[:, 1, 12:24], x.mean(1))


def test_s2_stage_permutes_with_the_cameras_and_starts_as_identity() -> None:
    pose, rot, x2d, _ = _weak_scene(2, 3)
    state = s1(pose[:, None] @ rot.transpose(-1, -2), x2d)
    state, x2d = State(*(t.float() for t in state.tensors())), x2d.float()
    model = MetaPoseS2(hidden=16)
    torch.manual_seed(0)
    model.add_stage()
    same = model(state, x2d)
    assert torch.equal(same.pose, state.pose) and torch.equal(same.rot6d, state.rot6d)
    torch.nn.init.normal_(model.stages[0].camera_head.weight, std=0.01)
    torch.nn.init.normal_(model.stages[0].pose_head.weight, std=0.01)
    perm = torch.tensor([2, 0, 1])
    permuted = State(
        state.pose, state.rot6d[:, perm], state.log_scale[:, perm], state.shift[:, perm]
    )
    a, b = model(state, x2d), model(permuted, x2d[:, perm])
    assert torch.allclose(a.pose, b.pose, atol=1e-5)
    assert torch.allclose(a.rot6d[:, perm], b.rot6d, atol=1e-5)
    assert not torch.allclose(a.pose, state.pose)


def _pool(n: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    views = make_views(sample_poses(n, generator=g), RigDistribution(), Noise2D(), generator=g)
    x2d, target = views.box_2d("noisy", 4)
    batch = views_state(synthetic_init(views.camera, generator=g).float(), x2d.float())
    return {**batch, "target": target.float()}


class _Fixed:
    def __init__(self, batch: dict[str, torch.Tensor]) -> None:
        self.batch = batch

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1):
        return self.batch


@pytest.mark.slow
def test_stages_train_on_2d_only_and_are_kept_while_validation_improves() -> None:
    train, val = _pool(64, 0), _pool(32, 1)
    model = MetaPoseS2(hidden=32)
    torch.manual_seed(0)
    config = TrainConfig(steps=60, lr=1e-3, betas=(0.9, 0.999), log_every=20)
    fitted: list[int] = []

    def run(index: int, task: MetaPoseTask) -> None:
        assert task.generator_parameters() and all(
            p.requires_grad == (i == index)
            for i, s in enumerate(model.stages)
            for p in s.parameters()
        )
        fit(task, _Fixed(train), config, progress=False)
        fitted.append(index)

    history = train_stages(model, run, val, max_stages=2)
    assert fitted[0] == 0 and len(model.stages) == len(history) - 1 >= 1
    assert history[1] < history[0]
    assert not any(p.requires_grad for p in model.parameters())


def test_synthetic_init_and_lifted_views_have_the_documented_shapes() -> None:
    g = torch.Generator().manual_seed(0)
    views = make_views(
        sample_poses(5, generator=g), RigDistribution(views=2), Noise2D(), generator=g
    )
    exact = synthetic_init(
        views.camera, rotation_deg=(0, 0), depth_std=0, xy_std=0, flip_prob=0, generator=g
    )
    truth = views.camera - views.camera[..., :1, :]
    assert torch.allclose(exact, truth, atol=1e-9)
    noisy = synthetic_init(views.camera, generator=g)
    error = pmpjpe(noisy.reshape(-1, 17, 3), truth.reshape(-1, 17, 3)).mean()
    assert 20 < float(error) < 150

    class Oracle(torch.nn.Module):
        def forward(self, keypoints, principal):
            return {"pose_rel": torch.zeros(*keypoints.shape[:2], 3) + principal[:, None, :1]}

    mono = lift_views(Oracle(), views.exact, views.rig.principal)
    assert tuple(mono.shape) == (5, 2, 17, 3) and float(mono[0, 0, 0, 0]) == 500.0
