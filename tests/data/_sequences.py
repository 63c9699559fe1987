"""Small SfM sequences written by the tests in the TUM, KITTI and Virtual KITTI layouts:
a few frames of a procedural street (known depth and motion) seen through each format's
camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from unpaired.data import tum, vkitti
from unpaired.data.kitti import write_kitti_odometry
from unpaired.data.rgbd import Sequence, scale_intrinsics
from unpaired.data.synthetic.scenes import render_sequence

TUM_FR1 = torch.tensor(
    [[tum.CAMERAS["freiburg1"][0], 0, tum.CAMERAS["freiburg1"][2]],
     [0, tum.CAMERAS["freiburg1"][1], tum.CAMERAS["freiburg1"][3]],
     [0, 0, 1.0]]
)  # fmt: skip


def street(seed: int, n: int, height: int, width: int, k: torch.Tensor | None = None) -> Sequence:
    return render_sequence(seed, n_frames=n, height=height, width=width, intrinsics=k)


def write_tum_street(folder: Path, *, seed: int = 3, n: int = 6, size=(24, 32)) -> Sequence:
    """A TUM freiburg1 sequence (the folder name says so) at ``size``: rendered with TUM's
    published fr1 intrinsics scaled from 640x480."""
    k = scale_intrinsics(TUM_FR1, (480, 640), size)
    seq = street(seed, n, *size, k)
    tum.write_tum(seq, folder)
    return seq


def write_kitti_street(root: Path, *, seed: int = 3, n: int = 6, size=(24, 72)) -> Sequence:
    seq = street(seed, n, *size)
    write_kitti_odometry(seq, root, "07")
    return seq


def write_vkitti_street(root: Path, *, seed: int = 3, n: int = 5, size=(25, 83)) -> Sequence:
    """Virtual KITTI's camera at ``size``, written at the dataset's 1242x375."""
    k = scale_intrinsics(vkitti.INTRINSICS, vkitti.IMAGE_SIZE, size)
    seq = street(seed, n, *size, k)
    vkitti.write_vkitti(seq.resized(*vkitti.IMAGE_SIZE), root)
    return seq


def write_memories(folder: Path, *, seed: int = 6, n: int = 3, size=(30, 40)) -> Path:
    """A folder of TUM-encoded (metres x 5000) 16-bit depth PNGs of another street."""
    folder.mkdir(parents=True)
    for i, d in enumerate(street(seed, n, *size).depth):
        raw = (d[0].double() * 5000).round()
        raw[raw > 65535] = 0
        cv2.imwrite(str(folder / f"{i:03d}.png"), raw.numpy().astype(np.uint16))
    return folder
