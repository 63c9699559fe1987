"""The camera-equivariant refinement network of MetaPose's S2 stages (the "equivariant"
model of ``train_metapose.py``): a per-camera MLP with SELU whose ``ccat`` layers append,
to every camera's features, their mean and standard deviation over the cameras; each
camera gets its own output (a camera update), and the per-camera embeddings averaged over
the cameras feed a small MLP that gives the pose update. Permuting the cameras of the
input therefore permutes the camera outputs and leaves the pose output unchanged.

Example:
    >>> import torch
    >>> net = CameraEquivariantMLP(10, camera_out=4, pose_out=6, hidden=16)
    >>> x = torch.randn(2, 3, 10)
    >>> cam, pose = net(x)
    >>> tuple(cam.shape), tuple(pose.shape)
    ((2, 3, 4), (2, 6))
"""

from __future__ import annotations

import torch
from torch import nn

from unpaired._checks import check_shape


def cross_camera_concat(x: torch.Tensor) -> torch.Tensor:
    """``ccat``: (B, C, F) -> (B, C, 3F), each camera's features, then the mean and the
    (biased) standard deviation of the features over the cameras."""
    mean = x.mean(dim=1, keepdim=True).expand_as(x)
    std = (
        x.std(dim=1, unbiased=False, keepdim=True).expand_as(x)
        if x.shape[1] > 1
        else torch.zeros_like(x)
    )
    return torch.cat([x, mean, std], dim=-1)


class CameraEquivariantMLP(nn.Module):
    """Per-camera features (B, C, F) -> camera outputs (B, C, ``camera_out``) and a pose
    output (B, ``pose_out``). Trunk: ``hidden, hidden, ccat, hidden, hidden, ccat,
    hidden`` (MetaPose's ``512,512,ccat,512,512,ccat,512`` at ``hidden=512``) with SELU;
    pose head MLP ``pose_hidden`` on the camera mean of the trunk output. Both output
    layers start at zero, so a new stage starts as the identity update."""

    def __init__(
        self,
        in_features: int,
        *,
        camera_out: int,
        pose_out: int,
        hidden: int = 512,
        pose_hidden: tuple[int, ...] = (256, 128),
    ) -> None:
        super().__init__()
        self.in_features = in_features
        h = hidden

        def block(d_in: int) -> nn.Sequential:
            return nn.Sequential(nn.Linear(d_in, h), nn.SELU(), nn.Linear(h, h), nn.SELU())

        self.block1 = block(in_features)
        self.block2 = block(3 * h)
        self.last = nn.Sequential(nn.Linear(3 * h, h), nn.SELU())
        self.camera_head = nn.Linear(h, camera_out)
        layers: list[nn.Module] = []
        d = h
        for width in pose_hidden:
            layers += [nn.Linear(d, width), nn.SELU()]
            d = width
        self.pose_mlp = nn.Sequential(*layers)
        self.pose_head = nn.Linear(d, pose_out)
        for head in (self.camera_head, self.pose_head):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape("x", x, ("B", "C", self.in_features))
        z = self.block1(x)
        z = self.block2(cross_camera_concat(z))
        z = self.last(cross_camera_concat(z))
        return self.camera_head(z), self.pose_head(self.pose_mlp(z.mean(dim=1)))
