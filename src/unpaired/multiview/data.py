"""Multi-view samples for MetaPose: poses seen by random rigs, their 2D (exact and
noisy) in person-box units, the per-view monocular initialisations, and the S1 states
that the S2 stages train on.

**Monocular initialisation** (the paper's per-view EpipolarPose): either a learned
lifter (:func:`lift_views`: any module mapping pixels (N, J, 2) and the principal point
(N, 2) to ``{"pose_rel": (N, J, 3)}``, e.g. this library's
:class:`~unpaired.models.pose.LiftingGenerator` trained as Forward2Dto3D by
:class:`~unpaired.aign.pose.LiftingTask`), or a synthetic "EpipolarPose-like" corruption
of the true camera-frame pose (:func:`synthetic_init`): a global rotation by an angle
``~ U[rotation_deg]`` about a random axis, Gaussian depth noise of std ``depth_std`` and
xy noise of std ``xy_std`` (metres) per joint, and each limb's (elbow + wrist or knee +
ankle) depth mirrored about its root joint with probability ``flip_prob``.

Example:
    >>> import torch
    >>> from unpaired.data.synthetic.skeletons import sample_poses
    >>> from unpaired.multiview.rigs import Noise2D, RigDistribution
    >>> g = torch.Generator().manual_seed(0)
    >>> views = make_views(sample_poses(4, generator=g), RigDistribution(), Noise2D(), generator=g)
    >>> x2d, target = views.box_2d("noisy", 2)
    >>> tuple(x2d.shape), tuple(target.shape)
    ((4, 2, 17, 2), (4, 2, 17, 2))
    >>> mono = synthetic_init(views.camera, generator=g)
    >>> state = views_state(mono[:, :2], x2d)
    >>> tuple(state["pose"].shape)
    (4, 17, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.data.skeleton import ROOT
from unpaired.evaluation.predict import predict
from unpaired.multiview.metapose import s1
from unpaired.multiview.rigs import (
    Noise2D,
    Rig,
    RigDistribution,
    corrupt,
    observe,
    person_box,
    place,
    sample_rigs,
    to_box,
)

#: (root, joints) of the limbs whose depth :func:`synthetic_init` may mirror.
LIMBS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (11, (12, 13)),
    (14, (15, 16)),
    (1, (2, 3)),
    (4, (5, 6)),
)


@dataclass(frozen=True)
class Views:
    """B samples seen by C cameras: ``world`` (B, J, 3) poses, ``rig``, ``exact`` and
    ``noisy`` pixels (B, C, J, 2), ``camera`` (B, C, J, 3) camera-frame poses."""

    world: torch.Tensor
    rig: Rig
    exact: torch.Tensor
    noisy: torch.Tensor
    camera: torch.Tensor

    def __len__(self) -> int:
        return self.world.shape[0]

    def pixels(self, setting: str) -> torch.Tensor:
        if setting not in ("exact", "noisy"):
            raise ValueError(f"setting must be 'exact' or 'noisy', got {setting!r}")
        return self.exact if setting == "exact" else self.noisy

    def box_2d(self, setting: str, views: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``views`` views' input 2D of ``setting`` and the exact 2D (the
        annotation), both in units of the person box of the *input* 2D."""
        x = self.pixels(setting)[:, :views]
        origin, side = person_box(x)
        return to_box(x, origin, side), to_box(self.exact[:, :views], origin, side)

    def select(self, rows: torch.Tensor | slice) -> Views:
        return Views(
            self.world[rows],
            self.rig.select(rows),
            self.exact[rows],
            self.noisy[rows],
            self.camera[rows],
        )


def make_views(
    poses: torch.Tensor,
    rigs: RigDistribution,
    noise: Noise2D,
    *,
    generator: torch.Generator,
) -> Views:
    """Poses (B, J, 3) (any position, y up, metres) placed at the rig's pelvis height,
    each seen by its own random rig (float64)."""
    check_shape("poses", poses, ("B", "J", 3))
    world = place(poses.double(), pelvis_height=rigs.pelvis_height)
    rig = sample_rigs(len(world), rigs, generator=generator)
    exact, camera = observe(world, rig)
    return Views(world, rig, exact, corrupt(exact, noise, generator=generator), camera)


def lift_views(lifter: nn.Module, pixels: torch.Tensor, principal: torch.Tensor) -> torch.Tensor:
    """Monocular root-relative camera-frame poses (B, C, J, 3) of every view's pixels
    (B, C, J, 2) by ``lifter`` (eval mode, no grad, float32)."""
    check_shape("pixels", pixels, ("B", "C", "J", 2))
    b, c, j, _ = pixels.shape

    class _Call(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lifter = lifter

        def forward(self, both: torch.Tensor) -> torch.Tensor:
            return self.lifter(both[:, :j], both[:, j])["pose_rel"]

    both = torch.cat([pixels.reshape(b * c, j, 2), principal.reshape(b * c, 1, 2)], dim=1).float()
    out = predict(_Call(), both, chunk=4096)
    return out.reshape(b, c, j, 3)


def synthetic_init(
    camera: torch.Tensor,
    *,
    rotation_deg: tuple[float, float] = (5.0, 15.0),
    depth_std: float = 0.08,
    xy_std: float = 0.03,
    flip_prob: float = 0.05,
    generator: torch.Generator,
) -> torch.Tensor:
    """EpipolarPose-like monocular poses (B, C, J, 3), root-relative, from the true
    camera-frame poses (B, C, J, 3) (see the module docstring)."""
    check_shape("camera", camera, ("B", "C", "J", 3))
    pose = camera - camera[..., ROOT : ROOT + 1, :]
    lead = pose.shape[:2]
    axis = torch.randn(*lead, 3, generator=generator, dtype=pose.dtype)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    low, high = (math.radians(a) for a in rotation_deg)
    angle = low + (high - low) * torch.rand(*lead, 1, 1, generator=generator, dtype=pose.dtype)
    k = torch.zeros(*lead, 3, 3, dtype=pose.dtype)
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    k = k - k.transpose(-1, -2)
    rot = torch.eye(3, dtype=pose.dtype) + angle.sin() * k + (1 - angle.cos()) * k @ k
    pose = pose @ rot.transpose(-1, -2)
    for root, joints in LIMBS:
        flip = torch.rand(*lead, generator=generator) < flip_prob
        idx = list(joints)
        mirrored = 2 * pose[..., root : root + 1, 2] - pose[..., idx, 2]
        pose[..., idx, 2] = torch.where(flip[..., None], mirrored, pose[..., idx, 2])
    noise = torch.randn(pose.shape, generator=generator, dtype=pose.dtype)
    pose = pose + noise * pose.new_tensor([xy_std, xy_std, depth_std])
    return pose - pose[..., ROOT : ROOT + 1, :]


def views_state(mono: torch.Tensor, x2d: torch.Tensor) -> dict[str, torch.Tensor]:
    """A batch for :class:`~unpaired.multiview.metapose.MetaPoseTask` without its
    ``target``: the 2D ``x2d`` and the S1 state of monocular poses ``mono``."""
    return {"x2d": x2d, **s1(mono.to(x2d.dtype), x2d).as_batch()}


class BatchPool:
    """Random rows (with replacement) of a dict of aligned tensors, a batch source for
    :class:`~unpaired.multiview.metapose.MetaPoseTask`."""

    def __init__(self, batch: dict[str, torch.Tensor], *, batch_size: int) -> None:
        sizes = {k: v.shape[0] for k, v in batch.items()}
        if len(set(sizes.values())) != 1 or not sizes:
            raise ValueError(f"BatchPool needs tensors of one length, got {sizes}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch = batch
        self.size = next(iter(sizes.values()))
        self.batch_size = batch_size

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1):
        idx = torch.randint(self.size, (self.batch_size * world_size,), generator=generator)
        idx = idx[rank * self.batch_size : (rank + 1) * self.batch_size]
        return {k: v[idx] for k, v in self.batch.items()}
