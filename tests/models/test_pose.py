from __future__ import annotations

import torch

from unpaired.data.pose2d import view_poses
from unpaired.data.skeleton import bone_lengths
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.geometry import euler_to_matrix
from unpaired.models.pose import (
    CRITIC_FEATURES,
    LiftingGenerator,
    MartinezLifter,
    PoseBasis,
    PoseCritic,
    align_poses,
    compose_pose,
    default_components,
    kinematic_features,
    pose_features,
)
from unpaired.renderers.projection import project


def poses(n: int = 600, seed: int = 0) -> torch.Tensor:
    return sample_poses(n, random_yaw=True, generator=torch.Generator().manual_seed(seed)).double()


def test_default_components_follow_the_paper_ratio() -> None:
    assert default_components(32) == 60  # 60 of 96 in the paper
    assert default_components(17) == 32


def test_basis_buffers_and_orthonormal_components() -> None:
    basis = PoseBasis.fit(poses())
    assert basis.num_components == 32 and list(basis.parameters()) == []
    assert set(basis.state_dict()) == {"mean", "components", "stddev"}
    eye = torch.eye(32, dtype=torch.float64)
    torch.testing.assert_close(basis.components @ basis.components.T, eye)
    assert torch.all(basis.stddev[:-1] >= basis.stddev[1:])  # sorted by variance


def test_basis_round_trips() -> None:
    data = poses()
    full = PoseBasis.fit(data, num_components=51)
    aligned = align_poses(data)
    torch.testing.assert_close(full.decode(full.encode(aligned)), aligned)
    small = PoseBasis.fit(data, num_components=10)
    weights = torch.randn(5, 10, dtype=torch.float64)
    torch.testing.assert_close(small.encode(small.decode(weights)), weights)
    # The default 32 components explain the synthetic poses to well under a centimetre.
    default = PoseBasis.fit(data)
    err = (default.decode(default.encode(aligned)) - aligned).norm(dim=-1).mean()
    assert err < 0.01


def test_basis_is_orientation_invariant() -> None:
    data = poses(300)
    basis = PoseBasis.fit(data)
    turn = euler_to_matrix(torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64))
    moved = data @ turn.T + torch.tensor([1.0, 0.0, -3.0], dtype=torch.float64)
    torch.testing.assert_close(basis.encode(align_poses(moved)), basis.encode(align_poses(data)))


def test_compose_pose_zero_angles_face_the_camera() -> None:
    shape = torch.zeros(1, 17, 3)
    shape[0, 10] = torch.tensor([0.0, 0.7, 0.0])  # head up
    shape[0, 4] = torch.tensor([0.1, 0.0, 0.0])  # left hip
    out = compose_pose(shape, torch.zeros(1, 3), torch.tensor([[0.0, 0.0, 5.0]]))
    torch.testing.assert_close(out[0, 10], torch.tensor([0.0, -0.7, 5.0]))  # y down in camera
    torch.testing.assert_close(out[0, 4], torch.tensor([0.1, 0.0, 5.0]))


def test_lifting_generator_outputs_and_root_reprojection() -> None:
    data = poses()
    basis = PoseBasis.fit(data.float())
    gen = LiftingGenerator(basis, hidden=64, blocks=1).eval()
    view = view_poses(data[:8].float(), generator=torch.Generator().manual_seed(1))
    out = gen(view.pose_2d, view.cameras.principal)
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == {
        "weights": (8, 32),
        "focal": (8,),
        "angles": (8, 3),
        "depth": (8,),
        "principal": (8, 2),
        "shape": (8, 17, 3),
        "pose_rel": (8, 17, 3),
        "pose_3d": (8, 17, 3),
    }
    # Zero-initialised heads: mean shape, facing the camera, f0, pinhole depth.
    torch.testing.assert_close(out["shape"], basis.mean.expand(8, 17, 3))
    torch.testing.assert_close(out["focal"], torch.full((8,), 1100.0))
    reproj = project(out["pose_3d"], out["focal"], out["principal"])
    torch.testing.assert_close(reproj[:, 0], view.pose_2d[:, 0], atol=1e-3, rtol=0)
    # The pinhole depth is the right order of magnitude (true depths 4-6 m, f 1000-1200).
    assert torch.all((out["depth"] > 2.5) & (out["depth"] < 9.0))


def test_lifting_generator_learns_reprojection() -> None:
    torch.manual_seed(0)
    data = poses(256).float()
    gen = LiftingGenerator(PoseBasis.fit(data), hidden=128, blocks=1)
    view = view_poses(data, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(gen.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:
        out = gen(view.pose_2d, view.cameras.principal)
        return (
            (project(out["pose_3d"], out["focal"], out["principal"]) - view.pose_2d).pow(2).mean()
        )

    first = loss().item()
    for _ in range(60):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() < 0.3 * first


def test_martinez_lifter_shapes_and_modes() -> None:
    model = MartinezLifter(hidden=64, blocks=2)
    kp = torch.randn(6, 17, 2) * 50 + 500
    out = model(kp)
    assert out.shape == (6, 17, 3)
    torch.testing.assert_close(out[:, 0], torch.zeros(6, 3))
    model.eval()
    torch.testing.assert_close(model(kp), model(kp))
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())


def test_kinematic_features_hand_computed() -> None:
    # Straight vertical chain pelvis -> r_hip -> r_knee -> r_ankle with unit bones.
    chain = torch.zeros(1, 4, 3)
    chain[0, 1:, 1] = torch.tensor([1.0, 2.0, 4.0])
    feats = kinematic_features(chain, (-1, 0, 1, 2))
    torch.testing.assert_close(feats, torch.tensor([[1.0, 1.0, 2.0, 1.0, 1.0]]))


def test_pose_critic_shapes_and_translation_invariance() -> None:
    critic = PoseCritic(hidden=32)
    data = poses(10).float()
    scores = critic(data)
    assert scores.shape == (10,)
    torch.testing.assert_close(
        critic(data + torch.tensor([3.0, -1.0, 2.0])), scores, atol=1e-5, rtol=0
    )
    widths = {f: PoseCritic(hidden=32, features=f).net[0].in_features for f in CRITIC_FEATURES}
    assert widths == {"pose": 51, "pose+kinematic": 51 + 16 + 13, "kinematic": 29, "lengths": 16}
    assert critic.net[0].in_features == 51 + 16 + 13
    scores.sum().backward()
    assert all(p.grad is not None for p in critic.parameters())


def test_pose_rel_loss_gives_camera_heads_exactly_zero_gradient() -> None:
    # A loss on the root-relative pose must not move focal/depth: Adam would turn
    # rounding-level gradients into full-size steps.
    data = poses(64).float()
    gen = LiftingGenerator(PoseBasis.fit(data), hidden=32, blocks=1)
    view = view_poses(data[:16], generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        gen.head.weight.normal_(0.0, 0.01)
    out = gen(view.pose_2d)
    torch.testing.assert_close(out["pose_3d"] - out["pose_3d"][:, :1], out["pose_rel"])
    out["pose_rel"].pow(2).sum().backward()
    k = gen.basis.num_components
    grad = gen.head.weight.grad
    assert grad[: k + 6].abs().sum() > 0
    assert torch.equal(grad[k + 6 :], torch.zeros_like(grad[k + 6 :]))


def test_lifting_generator_is_batch_independent_in_train_mode() -> None:
    # Layer norm: finetuning on test batches must not change how a sample is lifted.
    data = poses(64).float()
    gen = LiftingGenerator(PoseBasis.fit(data), hidden=32, blocks=1).train()
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in gen.modules())
    with torch.no_grad():
        gen.head.weight.normal_(0.0, 0.05)
    kp = view_poses(data[:8], generator=torch.Generator().manual_seed(3)).pose_2d
    alone = gen(kp[:2])["pose_rel"]
    mixed = gen(torch.cat([kp[:2], kp[2:] * 1.5 - 100.0]))["pose_rel"][:2]
    torch.testing.assert_close(alone, mixed)


def test_angles_are_continuous_through_pi() -> None:
    # (cos, sin) heads: near yaw = pi (a person seen from behind) a tiny change of the
    # outputs flips the angle from -pi to pi while the pose barely moves.
    gen = LiftingGenerator(PoseBasis.fit(poses(64).float()), hidden=16, blocks=1)
    k = gen.basis.num_components
    kp = view_poses(poses(4).float(), generator=torch.Generator().manual_seed(4)).pose_2d
    out = {}
    for sign in (1.0, -1.0):
        with torch.no_grad():
            gen.head.bias[k + 1] = -2.0  # cos(beta) = 1 - 2 = -1
            gen.head.bias[k + 4] = sign * 1e-4  # sin(beta) = +-1e-4
        out[sign] = gen(kp)
    assert torch.all(out[1.0]["angles"][:, 1] > 3.14) and torch.all(
        out[-1.0]["angles"][:, 1] < -3.14
    )
    torch.testing.assert_close(out[1.0]["pose_rel"], out[-1.0]["pose_rel"], atol=1e-3, rtol=0)


def test_pose_features_are_rotation_invariant_where_they_should_be() -> None:
    data = poses(20).float()
    turn = euler_to_matrix(torch.tensor([0.3, -1.2, 0.7]))
    for features in ("kinematic", "lengths"):
        torch.testing.assert_close(
            pose_features(data @ turn.T, features=features),
            pose_features(data, features=features),
            atol=1e-5,
            rtol=0,
        )
    torch.testing.assert_close(pose_features(data, features="lengths"), bone_lengths(data) / 0.1)
