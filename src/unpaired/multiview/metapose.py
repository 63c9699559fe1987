"""MetaPose (Usman, Tagliasacchi, Saenko, Sud, CVPR 2022): 3D pose from uncalibrated
multi-view 2D without 3D supervision; the stages of ``google-research/metapose``.

The **state** of a sample (:class:`State`) is a pose ``P`` (J, 3) in a reference frame
and one weak-perspective camera per view (:mod:`unpaired.multiview.weak`: rotation in 6D,
log-scale, 2D shift); 2D is in person-box units.

- **S1** (:func:`s1`): every view's monocular pose (camera frame) is aligned to the
  reference view 0 by similarity Procrustes, and the aligned poses are averaged. *We
  include view 0 in the average* (the official ``initial_epi_estimate`` leaves it out, a
  quirk). Camera ``c`` gets the rotation of its alignment (reference -> camera ``c``) and
  the least-squares scale and shift that fit its 2D (:func:`~unpaired.multiview.weak.
  fit_scale_shift`; the official code uses the monocular pose's mean as the shift).
- **S1 + IR** (:func:`refine`): ``steps`` (100) Adam steps at ``lr`` (1e-2) on the mean
  squared reprojection error of pose and cameras, every sample independently (the
  official code minimises a Gaussian-mixture likelihood of heatmap fits; with one
  Gaussian of fixed variance per joint that is this error).
- **S2** (:class:`MetaPoseS2`, trained by :class:`MetaPoseTask` and :func:`train_stages`):
  unrolled stages ``x <- stop_grad(x) + MLP_i(x, 2D, projections, residuals, i)``, each
  MLP camera-equivariant (:class:`~unpaired.models.multiview.CameraEquivariantMLP`), trained
  with the reprojection error against 2D only (no 3D anywhere). Stages are added one at a
  time (only the newest trains) while a validation 2D reprojection error on held-out
  training frames improves; the official code selected by 3D error on training frames,
  which this does not do.

Example:
    >>> import torch
    >>> from unpaired.multiview.weak import project_weak, rot6d_to_matrix
    >>> g = torch.Generator().manual_seed(0)
    >>> pose = torch.randn(2, 17, 3, generator=g)
    >>> rot = rot6d_to_matrix(torch.randn(2, 3, 6, generator=g))
    >>> mono = pose[:, None] @ rot.transpose(-1, -2)  # exact monocular poses
    >>> x2d = project_weak(pose, rot, torch.full((2, 3), 0.4), torch.full((2, 3, 2), 0.5))
    >>> state = s1(mono, x2d)
    >>> float(reprojection_error(state, x2d).max()) < 1e-4
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from unpaired._checks import check_shape
from unpaired.data.skeleton import ROOT
from unpaired.engine.task import Task
from unpaired.metrics.pose import apply_similarity, procrustes
from unpaired.models.multiview import CameraEquivariantMLP
from unpaired.models.record import Export, recordable
from unpaired.multiview.rigs import person_box, to_box
from unpaired.multiview.weak import (
    fit_scale_shift,
    matrix_to_rot6d,
    project_weak,
    rot6d_to_matrix,
    rotate_xy,
)

#: Number of camera parameters of the state: 6D rotation, log-scale, 2D shift.
CAMERA_PARAMS = 9


@dataclass(frozen=True)
class State:
    """Poses ``pose`` (B, J, 3) in the reference frame and cameras ``rot6d`` (B, C, 6),
    ``log_scale`` (B, C), ``shift`` (B, C, 2)."""

    pose: torch.Tensor
    rot6d: torch.Tensor
    log_scale: torch.Tensor
    shift: torch.Tensor

    @property
    def rotation(self) -> torch.Tensor:
        """Reference -> camera rotations (B, C, 3, 3)."""
        return rot6d_to_matrix(self.rot6d)

    def project(self) -> torch.Tensor:
        """Weak-perspective 2D (B, C, J, 2)."""
        return project_weak(self.pose, self.rotation, self.log_scale.exp(), self.shift)

    def camera_vector(self) -> torch.Tensor:
        """(B, C, 9): rotation 6D, log-scale, shift."""
        return torch.cat([self.rot6d, self.log_scale[..., None], self.shift], dim=-1)

    def detach(self) -> State:
        return State(*(t.detach() for t in self.tensors()))

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return self.pose, self.rot6d, self.log_scale, self.shift

    def as_batch(self) -> dict[str, torch.Tensor]:
        return dict(zip(("pose", "rot6d", "log_scale", "shift"), self.tensors(), strict=True))

    @staticmethod
    def from_batch(batch: Mapping[str, torch.Tensor]) -> State:
        return State(batch["pose"], batch["rot6d"], batch["log_scale"], batch["shift"])

    def select(self, rows: torch.Tensor | slice) -> State:
        return State(*(t[rows] for t in self.tensors()))


def reprojection_error(state: State, x2d: torch.Tensor) -> torch.Tensor:
    """Per-sample mean joint distance (B,) between the state's projections and 2D
    (B, C, J, 2), in the 2D's units."""
    return (state.project() - x2d).norm(dim=-1).mean(dim=(1, 2))


def s1(mono: torch.Tensor, x2d: torch.Tensor) -> State:
    """S1 from monocular poses (B, C, J, 3) (each in its camera's frame) and 2D
    (B, C, J, 2); see the module docstring."""
    check_shape("mono", mono, ("B", "C", "J", 3))
    check_shape("x2d", x2d, (*mono.shape[:3], 2))
    b, c, j, _ = mono.shape
    ref = mono[:, :1].expand(b, c, j, 3).reshape(b * c, j, 3)
    flat = mono.reshape(b * c, j, 3)
    scale, rot, shift = procrustes(flat, ref)  # camera c -> reference
    aligned = apply_similarity(flat, scale, rot, shift).reshape(b, c, j, 3)
    pose = aligned.mean(dim=1)
    rotation = rot.reshape(b, c, 3, 3).transpose(-1, -2)  # reference -> camera c
    s, t = fit_scale_shift(rotate_xy(pose, rotation), x2d)
    return State(pose, matrix_to_rot6d(rotation), s.log(), t)


def refine(state: State, x2d: torch.Tensor, *, steps: int = 100, lr: float = 1e-2) -> State:
    """S1 + IR: Adam on the reprojection error of every sample's pose and cameras
    (samples are independent: the loss is a sum over samples and Adam is per-coordinate)."""
    params = [t.detach().clone().requires_grad_(True) for t in state.tensors()]
    opt = torch.optim.Adam(params, lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            current = State(*params)
            loss = (current.project() - x2d).pow(2).sum(-1).mean(-1).mean(-1).sum()
            loss.backward()
            opt.step()
    return State(*(p.detach() for p in params))


class MetaPoseS2(nn.Module):
    """The S2 stages. Per-camera features of stage ``i``: the pose (3J), the camera
    (9), the 2D (2J), the projection (2J), the residual (2J), the log mean squared
    residual and the stage index; outputs the camera update (9) per camera and the
    pose update (3J)."""

    def __init__(self, num_joints: int = 17, *, hidden: int = 512) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.hidden = hidden
        self.stages = nn.ModuleList()

    @property
    def in_features(self) -> int:
        return 3 * self.num_joints + CAMERA_PARAMS + 6 * self.num_joints + 2

    def add_stage(self) -> CameraEquivariantMLP:
        stage = CameraEquivariantMLP(
            self.in_features,
            camera_out=CAMERA_PARAMS,
            pose_out=3 * self.num_joints,
            hidden=self.hidden,
        )
        self.stages.append(stage.to(next(self.parameters(), torch.empty(0)).dtype))
        return stage

    def features(self, state: State, x2d: torch.Tensor, index: int) -> torch.Tensor:
        b, c = x2d.shape[:2]
        proj = state.project()
        residual = x2d - proj
        mse = residual.pow(2).sum(-1).mean(-1, keepdim=True)
        parts = [
            state.pose.flatten(1)[:, None].expand(b, c, -1),
            state.camera_vector(),
            x2d.flatten(2),
            proj.flatten(2),
            residual.flatten(2) * 10.0,
            (mse + 1e-8).log(),
            torch.full_like(mse, float(index)),
        ]
        return torch.cat(parts, dim=-1)

    def step(self, state: State, x2d: torch.Tensor, index: int) -> State:
        """Stage ``index``: ``stop_grad(state) + update``."""
        state = state.detach()
        d_cam, d_pose = self.stages[index](self.features(state, x2d, index))
        return State(
            state.pose + d_pose.reshape(state.pose.shape),
            state.rot6d + d_cam[..., :6],
            state.log_scale + d_cam[..., 6],
            state.shift + d_cam[..., 7:9],
        )

    def forward(self, state: State, x2d: torch.Tensor, *, stages: int | None = None) -> State:
        for i in range(len(self.stages) if stages is None else stages):
            state = self.step(state, x2d, i)
        return state


def _batch_state(batch: Mapping[str, torch.Tensor]) -> tuple[State, torch.Tensor]:
    return State.from_batch(batch), batch["x2d"]


class MetaPoseTask(Task):
    """Trains stage ``stage`` of ``model`` (earlier stages frozen) on batches ``{"x2d":
    input 2D (B, C, J, 2), "target": the 2D annotation (B, C, J, 2), and the S1 state
    "pose", "rot6d", "log_scale", "shift"}``. Loss ``reprojection``: the mean squared
    distance, in percent of the person box, between the stage's projections and the
    target 2D. ``evaluate``: ``val_reproj``, the mean joint distance (percent of the box)
    on the held-out ``val`` batch (2D only: no 3D is used to select anything)."""

    def __init__(
        self,
        model: MetaPoseS2,
        stage: int,
        val: Mapping[str, torch.Tensor],
        *,
        lifter: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if not 0 <= stage < len(model.stages):
            raise ValueError(f"stage {stage} is not a stage of the model ({len(model.stages)})")
        self.model = model
        self.stage = stage
        self.val = dict(val)
        self._lifter = (lifter,)  # not a submodule: trained (and checkpointed) by its own fit
        for i, s in enumerate(model.stages):
            s.requires_grad_(i == stage)

    def exports(self) -> dict[str, Export]:
        """With the monocular ``lifter`` the S2 stages were trained on: ``"metapose"``, a
        :class:`MultiViewLifter` of the stages up to this one (kind ``"multiview"``:
        pixels (B, C, J, 2) -> pose (B, J, 3)); without one (a synthetic init) nothing."""
        lifter = self._lifter[0]
        if lifter is None:
            return {}
        net = MultiViewLifter.of(lifter, self.model, self.stage + 1)
        meta = {
            "joints": self.model.num_joints,
            "stages": self.stage + 1,
            "views": int(self.val["x2d"].shape[1]) if "x2d" in self.val else None,
            "frame": "view 0's camera orientation, root-relative, metres",
        }
        return {"metapose": Export(net, "multiview", meta)}

    def generator_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        state, x2d = _batch_state(batch)
        with torch.no_grad():
            state = self.model(state, x2d, stages=self.stage)
        state = self.model.step(state, x2d, self.stage)
        error = (state.project() - batch["target"]) * 100.0
        return {"reprojection": error.pow(2).sum(-1).mean()}

    def evaluate(self) -> dict[str, float]:
        state, x2d = _batch_state(self.val)
        with torch.no_grad():
            out = self.model(state, x2d, stages=self.stage + 1)
        return {"val_reproj": float(reprojection_error(out, self.val["target"]).mean() * 100.0)}


def validation_reprojection(
    model: MetaPoseS2, val: Mapping[str, torch.Tensor], stages: int
) -> float:
    """Mean joint distance (percent of the box) of ``stages`` stages on ``val``."""
    state, x2d = _batch_state(val)
    with torch.no_grad():
        out = model(state, x2d, stages=stages)
    return float(reprojection_error(out, val["target"]).mean() * 100.0)


def train_stages(
    model: MetaPoseS2,
    fit: Callable[[int, MetaPoseTask], Any],
    val: Mapping[str, torch.Tensor],
    *,
    max_stages: int,
    min_gain: float = 0.01,
    make_stage: Callable[[MetaPoseS2], None] | None = None,
    lifter: nn.Module | None = None,
) -> list[float]:
    """Add and train stages (``fit(index, task)`` trains one, e.g. ``ctx.fit``) while the
    validation reprojection error drops by at least ``min_gain`` (relative); a stage that
    does not is removed. ``make_stage`` adds the stage (default ``model.add_stage()``;
    recipes seed it); ``lifter``: the monocular lifter of the S1 inputs, which makes each
    fit export the whole multi-view lifter (:meth:`MetaPoseTask.exports`). Returns the
    validation errors: before any stage, then after each
    kept stage."""
    history = [validation_reprojection(model, val, 0)]
    for index in range(max_stages):
        (make_stage or (lambda m: m.add_stage()))(model)
        fit(index, MetaPoseTask(model, index, val, lifter=lifter))
        error = validation_reprojection(model, val, index + 1)
        if error > history[-1] * (1.0 - min_gain):
            del model.stages[index]
            break
        history.append(error)
    model.requires_grad_(False)
    return history


@recordable
class MultiViewLifter(nn.Module):
    """MetaPose from pixels: 2D keypoints of C views of one person (B, C, J, 2), in pixels
    of each view's image -> the 3D pose (B, J, 3) in view 0's camera orientation (x
    right, y down, z forward), root-relative, in metres at the monocular lifter's scale.

    Every view is lifted by ``lifter`` (pixels (N, J, 2) -> ``{"pose_rel"}``, its own
    principal point), the 2D is put in person-box units (:func:`~unpaired.multiview.rigs.
    person_box` of each view), then S1 (:func:`s1`) and ``stages`` S2 stages
    (:class:`MetaPoseS2` of ``hidden`` units); the pose is rotated into view 0 by the
    method's own estimate of that camera. S1 takes its scale from view 0's monocular
    pose; S2, trained on 2D only, may change it a little, and under weak perspective a
    pose and its mirror image in depth give the same 2D (compare up to those)."""

    def __init__(
        self, lifter: nn.Module, *, num_joints: int = 17, hidden: int = 512, stages: int = 0
    ) -> None:
        super().__init__()
        self.lifter, self.num_joints = lifter, num_joints
        self.s2 = MetaPoseS2(num_joints, hidden=hidden)
        for _ in range(stages):
            self.s2.add_stage()

    @classmethod
    def of(cls, lifter: nn.Module, model: MetaPoseS2, stages: int) -> MultiViewLifter:
        """A copy of the first ``stages`` stages of ``model`` behind ``lifter``."""
        net = cls(lifter, num_joints=model.num_joints, hidden=model.hidden, stages=stages)
        for mine, theirs in zip(net.s2.stages, model.stages, strict=False):
            mine.load_state_dict(theirs.state_dict())
        return net.to(next(model.parameters(), torch.empty(0)).device)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        check_shape("pixels", pixels, ("B", "C", self.num_joints, 2))
        b, c, j, _ = pixels.shape
        mono = self.lifter(pixels.reshape(b * c, j, 2))["pose_rel"].reshape(b, c, j, 3)
        origin, side = person_box(pixels)
        x2d = to_box(pixels, origin, side)
        state = self.s2(s1(mono.to(x2d.dtype), x2d), x2d)
        pose = state.pose @ state.rotation[:, 0].transpose(-1, -2)
        return pose - pose[:, ROOT : ROOT + 1]
