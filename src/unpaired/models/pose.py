"""3D human pose lifting networks (AIGN Sec. 2.1): the PCA shape basis, the AIGN lifting
generator, a Martinez-style supervised baseline, and a 3D-pose critic.

Shape model (Sec. 2.1): ``x_3D = R (mean + sum_k w_k B_k) + t``. The basis ``B`` is PCA of
orientation-aligned, root-centred training poses: each pose is rotated about the vertical
axis so that the normal of its hip vector faces the canonical direction (:func:`face_front`:
y up, hips along +x, facing +z). The paper keeps 60 of 96 (= 3 x 32) components; by default
we keep the same ratio, ``round(60/96 * 3J)`` (32 for 17 joints).

Camera-frame assembly (:func:`compose_pose`): ``R = R^x(alpha) R^y(beta) R^z(gamma) F`` with
``F = diag(1, -1, -1)`` taking the canonical y-up shape to the y-down camera frame, so zero
angles mean an upright person facing the camera. Translation: the paper's Eq. 2 projects
``x_2D = P x_3D + c``, which needs points in front of the camera. We place the root at a
predicted depth ``z`` on the ray through the *input* 2D root keypoint,
``t = ((u_root - c_x) z / f, (v_root - c_y) z / f, z)``, so the renderer reproduces the
input root exactly and the network only explains the rest of the body. The depth is
predicted as a bounded log-correction of the pinhole estimate ``z0 = f r_3D / s_2D`` (``r_3D``:
RMS radius of the mean shape, ``s_2D``: RMS radius of the 2D pose about its root).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.data.pose2d import WORLD_TO_CAMERA_AXES, normalize_2d
from unpaired.data.skeleton import H36M17_PARENTS, L_HIP, NUM_JOINTS, R_HIP, ROOT, bone_vectors
from unpaired.geometry import euler_to_matrix, face_front, unproject
from unpaired.models.record import recordable

#: Fraction of components the paper keeps (60 of 96).
PAPER_COMPONENT_RATIO = 60 / 96


def default_components(num_joints: int) -> int:
    """``round(60/96 * 3 J)``: the paper's ratio of kept PCA components."""
    return round(PAPER_COMPONENT_RATIO * 3 * num_joints)


@recordable
class PoseBasis(nn.Module):
    """PCA basis of aligned poses: buffers ``mean`` (J, 3), ``components`` (K, 3J) with
    orthonormal rows, ``stddev`` (K,) of the training weights. No trainable parameters."""

    mean: torch.Tensor
    components: torch.Tensor
    stddev: torch.Tensor

    def __init__(self, mean: torch.Tensor, components: torch.Tensor, stddev: torch.Tensor) -> None:
        super().__init__()
        check_shape("mean", mean, ("J", 3))
        check_shape("components", components, ("K", mean.shape[0] * 3))
        check_shape("stddev", stddev, (components.shape[0],))
        self.register_buffer("mean", mean.clone())
        self.register_buffer("components", components.clone())
        self.register_buffer("stddev", stddev.clone())

    @classmethod
    def fit(
        cls,
        poses: torch.Tensor,
        *,
        num_components: int | None = None,
        root: int = ROOT,
        left_hip: int = L_HIP,
        right_hip: int = R_HIP,
        up: int = 1,
    ) -> PoseBasis:
        """PCA of training poses (N, J, 3) after :func:`align_poses`; keeps ``num_components``
        (default ``round(60/96 * 3J)``)."""
        check_shape("poses", poses, ("N", "J", 3))
        n, j = poses.shape[:2]
        k = default_components(j) if num_components is None else num_components
        if not 1 <= k <= min(n, 3 * j):
            raise ValueError(
                f"num_components must be in [1, min(N, 3J)] = [1, {min(n, 3 * j)}], got {k}"
            )
        flat = align_poses(poses, root=root, left_hip=left_hip, right_hip=right_hip, up=up)
        flat = flat.reshape(n, 3 * j).double()
        mean = flat.mean(dim=0)
        _, s, vh = torch.linalg.svd(flat - mean, full_matrices=False)
        std = s[:k] / max(n - 1, 1) ** 0.5
        dtype = poses.dtype
        return cls(mean.reshape(j, 3).to(dtype), vh[:k].to(dtype), std.to(dtype))

    @property
    def num_components(self) -> int:
        return self.components.shape[0]

    @property
    def num_joints(self) -> int:
        return self.mean.shape[0]

    def radius(self) -> torch.Tensor:
        """RMS distance (scalar) of the mean pose's joints from the root (the origin)."""
        return self.mean.pow(2).sum(-1).mean().sqrt()

    def encode(self, shape: torch.Tensor) -> torch.Tensor:
        """Aligned root-centred poses (B, J, 3) -> weights (B, K)."""
        check_shape("shape", shape, ("B", self.num_joints, 3))
        return (shape - self.mean).flatten(1) @ self.components.T

    def decode(self, weights: torch.Tensor) -> torch.Tensor:
        """Weights (B, K) -> poses (B, J, 3) = mean + sum_k w_k B_k (Sec. 2.1)."""
        check_shape("weights", weights, ("B", self.num_components))
        return self.mean + (weights @ self.components).reshape(-1, self.num_joints, 3)


def align_poses(
    poses: torch.Tensor,
    *,
    root: int = ROOT,
    left_hip: int = L_HIP,
    right_hip: int = R_HIP,
    up: int = 1,
) -> torch.Tensor:
    """Orientation-aligned, root-centred poses (N, J, 3) (Sec. 2.1: orientation measured by
    the normal of the hip vector); the torso alignment of :func:`face_front`."""
    return face_front(poses, root=root, left_hip=left_hip, right_hip=right_hip, up=up)


def compose_pose(shape: torch.Tensor, angles: torch.Tensor, root: torch.Tensor) -> torch.Tensor:
    """Camera-frame pose ``R(angles) F shape + root`` (B, J, 3) from a canonical y-up shape
    (B, J, 3), Euler angles (B, 3) (``R = Rx Ry Rz``, AIGN Sec. 2.1) and root (B, 3)."""
    check_shape("shape", shape, ("B", "J", 3))
    check_shape("angles", angles, (shape.shape[0], 3))
    check_shape("root", root, (shape.shape[0], 3))
    rotation = euler_to_matrix(angles) @ WORLD_TO_CAMERA_AXES.to(shape)
    return shape @ rotation.transpose(1, 2) + root[:, None]


Norm = Literal["batch", "layer", "none"]


@recordable
class ResidualMLP(nn.Module):
    """Martinez et al. (2017) trunk: Linear -> norm -> ReLU -> Dropout, then ``blocks``
    residual blocks of two such layers. (B, D_in) -> (B, hidden).

    ``norm``: ``"batch"`` (Martinez), ``"layer"`` or ``"none"``. Batch norm makes a
    sample's output depend on its batch and keeps running statistics, which breaks when a
    model is finetuned on batches from another distribution (the test 2D of AIGN's Sup3
    and Sup4): the statistics then flip between the two; layer norm has neither problem.
    """

    def __init__(
        self,
        in_features: int,
        *,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.5,
        norm: Norm = "batch",
    ) -> None:
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")

        def layer(d_in: int) -> nn.Sequential:
            normalize = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}.get(norm)
            return nn.Sequential(
                nn.Linear(d_in, hidden),
                nn.Identity() if normalize is None else normalize(hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
            )

        self.stem = layer(in_features)
        self.blocks = nn.ModuleList(
            nn.Sequential(layer(hidden), layer(hidden)) for _ in range(blocks)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for block in self.blocks:
            h = h + block(h)
        return h


@recordable
class LiftingGenerator(nn.Module):
    """AIGN pose generator (Sec. 2.1): 2D keypoints (B, J, 2) in pixels -> basis weights,
    focal length, Euler angles and the camera-frame 3D pose.

    Input features: root-centred, RMS-normalised keypoints (2J), ``log(s_2D / f0)`` and the
    root's offset from the principal point over ``f0`` (2). Heads (zero-initialised, so the
    untrained network outputs the mean shape, facing the camera, at ``f0`` and the pinhole
    depth): standardised weights (times ``basis.stddev``), each Euler angle as a
    ``(cos, sin)`` pair read with ``atan2`` (``(1 + c, s)``, so 0 at initialisation; a
    plain angle output would have to jump from ``pi`` to ``-pi`` for people seen from
    behind), ``f = f0 exp(focal_log_range tanh(.))`` and
    ``z = z0 exp(depth_log_range tanh(.))``. The trunk uses layer norm by default (see
    :class:`ResidualMLP`: AIGN finetunes on test batches).

    ``forward(keypoints, principal=None)`` returns a dict: ``weights`` (B, K), ``focal`` (B,),
    ``angles`` (B, 3), ``depth`` (B,) root depth, ``principal`` (B, 2), ``shape`` (B, J, 3)
    (canonical, root-relative, y up), ``pose_rel`` (B, J, 3) (camera orientation,
    root-relative: ``R F shape``, computed without the root so that a loss on it gives the
    focal and depth heads exactly zero gradient) and ``pose_3d`` (B, J, 3) (camera frame,
    metres: ``pose_rel`` + root).
    """

    def __init__(
        self,
        basis: PoseBasis,
        *,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.0,
        norm: Norm = "layer",
        focal: float = 1100.0,
        principal: tuple[float, float] = (500.0, 500.0),
        focal_log_range: float = 0.5,
        depth_log_range: float = 1.0,
        root: int = ROOT,
    ) -> None:
        super().__init__()
        self.basis = basis
        self.focal0 = focal
        self.principal0 = principal
        self.focal_log_range = focal_log_range
        self.depth_log_range = depth_log_range
        self.root = root
        j, k = basis.num_joints, basis.num_components
        self.trunk = ResidualMLP(
            2 * j + 3, hidden=hidden, blocks=blocks, dropout=dropout, norm=norm
        )
        self.head = nn.Linear(hidden, k + 6 + 1 + 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, keypoints: torch.Tensor, principal: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        check_shape("keypoints", keypoints, ("B", self.basis.num_joints, 2))
        b = keypoints.shape[0]
        if principal is None:
            principal = keypoints.new_tensor(self.principal0).expand(b, 2)
        check_shape("principal", principal, (b, 2))
        normalized, center, scale = normalize_2d(keypoints, root=self.root)
        features = torch.cat(
            [
                normalized.flatten(1),
                torch.log(scale / self.focal0)[:, None],
                (center - principal) / self.focal0,
            ],
            dim=1,
        )
        out = self.head(self.trunk(features))
        k = self.basis.num_components
        weights = out[:, :k] * self.basis.stddev
        angles = torch.atan2(out[:, k + 3 : k + 6], 1.0 + out[:, k : k + 3])
        focal = self.focal0 * torch.exp(self.focal_log_range * torch.tanh(out[:, k + 6]))
        pinhole = focal * self.basis.radius() / scale
        depth = pinhole * torch.exp(self.depth_log_range * torch.tanh(out[:, k + 7]))
        root = unproject(center[:, None], depth[:, None], focal, principal)[:, 0]
        shape = self.basis.decode(weights)
        pose_rel = compose_pose(shape, angles, torch.zeros_like(root))
        return {
            "weights": weights,
            "focal": focal,
            "angles": angles,
            "depth": depth,
            "principal": principal,
            "shape": shape,
            "pose_rel": pose_rel,
            "pose_3d": pose_rel + root[:, None],
        }


@recordable
class MartinezLifter(nn.Module):
    """Supervised 2D -> 3D baseline after Martinez et al. (2017): a residual MLP with batch
    norm and dropout. Keypoints (B, J, 2) in pixels are normalised per sample
    (:func:`normalize_2d`); the output is the root-relative 3D pose (B, J, 3) in metres, in
    the camera's orientation (train against ``pose_3d - pose_3d[:, root]``)."""

    def __init__(
        self,
        num_joints: int = NUM_JOINTS,
        *,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.5,
        root: int = ROOT,
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.root = root
        self.trunk = ResidualMLP(2 * num_joints, hidden=hidden, blocks=blocks, dropout=dropout)
        self.head = nn.Linear(hidden, 3 * num_joints)

    def forward(self, keypoints: torch.Tensor) -> torch.Tensor:
        check_shape("keypoints", keypoints, ("B", self.num_joints, 2))
        normalized, _, _ = normalize_2d(keypoints, root=self.root)
        pose = self.head(self.trunk(normalized.flatten(1))).reshape(-1, self.num_joints, 3)
        return pose - pose[:, self.root : self.root + 1]


def kinematic_features(
    poses: torch.Tensor, parents: Sequence[int] = H36M17_PARENTS
) -> torch.Tensor:
    """Bone lengths and joint angles of poses (B, J, 3) -> (B, (J - 1) + M): the J - 1 bone
    lengths, then for each of the M bones whose parent joint is not the root, the cosine of
    the angle between the bone and its parent bone."""
    check_shape("poses", poses, ("B", len(parents), 3))
    vectors = bone_vectors(poses, parents)[:, 1:]  # bone ending at joint j is vectors[:, j-1]
    lengths = vectors.norm(dim=-1)
    unit = vectors / lengths.clamp_min(1e-8)[..., None]
    child = [j for j in range(1, len(parents)) if parents[j] > 0]
    cosines = (unit[:, [j - 1 for j in child]] * unit[:, [parents[j] - 1 for j in child]]).sum(-1)
    return torch.cat([lengths, cosines], dim=-1)


CriticFeatures = Literal["pose", "pose+kinematic", "kinematic", "lengths"]
CRITIC_FEATURES: tuple[str, ...] = ("pose", "pose+kinematic", "kinematic", "lengths")


def pose_features(
    poses: torch.Tensor,
    *,
    features: CriticFeatures = "pose+kinematic",
    parents: Sequence[int] = H36M17_PARENTS,
    root: int = ROOT,
    unit: float = 0.1,
) -> torch.Tensor:
    """What a pose prior looks at: poses (B, J, 3) in metres -> (B, D).

    ``"pose"``: the root-centred, flattened pose (3J); ``"kinematic"``: bone lengths and
    parent-child cosines (:func:`kinematic_features`); ``"pose+kinematic"``: both;
    ``"lengths"``: the J - 1 bone lengths only. Lengths and coordinates are divided by
    ``unit`` metres (default decimetres) so that the features are of order one.
    """
    if features not in CRITIC_FEATURES:
        raise ValueError(f"features must be one of {CRITIC_FEATURES}, got {features!r}")
    check_shape("poses", poses, ("B", len(parents), 3))
    out = []
    if features in ("pose", "pose+kinematic"):
        out.append((poses - poses[:, root : root + 1]).flatten(1) / unit)
    if features in ("kinematic", "pose+kinematic"):
        kin = kinematic_features(poses, parents)
        n = len(parents) - 1
        out.append(torch.cat([kin[:, :n] / unit, kin[:, n:]], dim=1))
    if features == "lengths":
        out.append(bone_vectors(poses, parents)[:, 1:].norm(dim=-1) / unit)
    return torch.cat(out, dim=1)


def pose_feature_dim(features: CriticFeatures, parents: Sequence[int] = H36M17_PARENTS) -> int:
    """D of :func:`pose_features` for a skeleton with ``parents``."""
    j = len(parents)
    angles = sum(1 for p in parents[1:] if p > 0)
    return {
        "pose": 3 * j,
        "pose+kinematic": 3 * j + (j - 1) + angles,
        "kinematic": (j - 1) + angles,
        "lengths": j - 1,
    }[features]


@recordable
class PoseCritic(nn.Module):
    """Critic of 3D poses (the adversarial prior of Sec. 2.1): an MLP on
    :func:`pose_features`. (B, J, 3) -> scores (B,).

    ``features="pose+kinematic"``: the root-centred pose plus bone lengths and joint-angle
    cosines, which make implausible limbs easy to spot; ``"pose"``: the paper's critic on
    keypoints; ``"kinematic"`` / ``"lengths"``: judge a pose by its limbs (or its bone
    lengths) alone, not by where it lies among whole poses. A whole-pose critic matches
    the *distribution* of poses, which misleads when the memories show other activities
    than the test (see docs/POSE.md); bone lengths are the same whatever the person does.
    No batch norm (safe with gradient penalties); LeakyReLU(0.2).
    """

    def __init__(
        self,
        num_joints: int = NUM_JOINTS,
        *,
        parents: Sequence[int] = H36M17_PARENTS,
        hidden: int = 256,
        layers: int = 3,
        features: CriticFeatures = "pose+kinematic",
        root: int = ROOT,
    ) -> None:
        super().__init__()
        if len(parents) != num_joints:
            raise ValueError(f"parents must have {num_joints} entries, got {len(parents)}")
        if features not in CRITIC_FEATURES:
            raise ValueError(f"features must be one of {CRITIC_FEATURES}, got {features!r}")
        self.num_joints = num_joints
        self.parents = tuple(parents)
        self.features = features
        self.root = root
        width = pose_feature_dim(features, parents)
        modules: list[nn.Module] = []
        for _ in range(layers):
            modules += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        modules.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*modules)

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        check_shape("poses", poses, ("B", self.num_joints, 3))
        feats = pose_features(poses, features=self.features, parents=self.parents, root=self.root)
        return self.net(feats)[:, 0]
