"""Every dataset the library knows: where it lives under the data directory, the files
expected, and how to obtain it. ``unpaired data check`` prints this table.

Loaders look for their files with :func:`require`, so a missing dataset always yields
the same clear message: which files, where we looked, and where to get them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unpaired.errors import DataNotFoundError


@dataclass(frozen=True)
class Dataset:
    name: str
    folder: str  # relative to the data directory
    expected: tuple[str, ...]  # glob patterns relative to ``folder``; each must match
    description: str
    obtain: str
    license: str
    bring_your_own: bool = False  # not shipped with the development data

    def missing(self, root: Path) -> list[str]:
        base = root / self.folder
        return [pat for pat in self.expected if not any(base.glob(pat))]

    def found(self, root: Path) -> bool:
        return (root / self.folder).is_dir() and not self.missing(root)


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "cmu_mocap",
        "cmu_mocap",
        ("subjects/*/*.asf", "subjects/*/*.amc"),
        "CMU motion capture, Acclaim ASF skeletons + AMC motions (120 fps)",
        "http://mocap.cs.cmu.edu (per-subject ASF/AMC zips) into cmu_mocap/subjects/NN/",
        "free for research and commercial use; acknowledge mocap.cs.cmu.edu (NSF EIA-0196217)",
    ),
    Dataset(
        "mnist",
        "mnist",
        ("t10k-images-idx3-ubyte*", "t10k-labels-idx1-ubyte*"),
        "MNIST test split, 10,000 digits 28x28 (IDX, gzip or raw)",
        "https://yann.lecun.com/exdb/mnist/ (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)",
        "Yann LeCun and Corinna Cortes; commonly cited CC BY-SA 3.0",
    ),
    Dataset(
        "usps",
        "usps",
        ("usps.h5",),
        "USPS digits 16x16, train 7291 / test 2007 (HDF5)",
        "https://www.kaggle.com/datasets/bistaumanga/usps-dataset (usps.h5)",
        "public research dataset (Hull 1994)",
    ),
    Dataset(
        "olivetti_faces",
        "faces",
        ("olivettifaces.mat",),
        "Olivetti / AT&T faces, 40 people x 10 images, 64x64 (MATLAB v5)",
        "https://cs.nyu.edu/~roweis/data/olivettifaces.mat",
        "AT&T Laboratories Cambridge; credit the Olivetti Research Laboratory",
    ),
    Dataset(
        "rgbd_frames",
        "rgbd_frames",
        ("TUM_depth.png", "NYU_depth.pgm", "SUN_depth.png"),
        "single RGB-D frames from TUM RGB-D, NYU Depth v2, SUN RGB-D (depth memories)",
        "one frame each from cvg.cit.tum.de/data/datasets/rgbd-dataset, "
        "cs.nyu.edu/~silberman/datasets/nyu_depth_v2.html, rgbd.cs.princeton.edu",
        "each dataset's research terms",
    ),
    Dataset(
        "human36m",
        "human36m",
        ("data_3d_h36m.npz",),
        "Human3.6M 3D poses (+ optional data_2d_h36m_gt.npz), VideoPose3D .npz layout",
        "http://vision.imar.ro/human3.6m (registration), converted with VideoPose3D's "
        "prepare_data_h36m.py into data_3d_h36m.npz / data_2d_h36m_gt.npz",
        "Human3.6M license (non-commercial research)",
        bring_your_own=True,
    ),
    Dataset(
        "kitti_odometry",
        "kitti/odometry",
        ("sequences/*/image_2/*.png", "sequences/*/calib.txt", "poses/*.txt"),
        "KITTI odometry: grayscale/color frames, calib.txt, ground-truth poses",
        "https://www.cvlibs.net/datasets/kitti/eval_odometry.php (color images, calibration, poses)",
        "CC BY-NC-SA 3.0",
        bring_your_own=True,
    ),
    Dataset(
        "virtual_kitti",
        "vkitti",
        (
            "vkitti_1.3.1_rgb/*/*/*.png",
            "vkitti_1.3.1_depthgt/*/*/*.png",
            "vkitti_1.3.1_extrinsicsgt/*.txt",
        ),
        "Virtual KITTI 1.3.1: RGB, depth PNG (cm), camera extrinsics per frame",
        "https://europe.naverlabs.com/research/computer-vision/proxy-virtual-worlds/ "
        "(vkitti_1.3.1_rgb, _depthgt, _extrinsicsgt tarballs)",
        "CC BY-NC-SA 3.0",
        bring_your_own=True,
    ),
    Dataset(
        "tum_rgbd",
        "tum_rgbd",
        ("*/rgb.txt", "*/depth.txt", "*/groundtruth.txt"),
        "TUM RGB-D sequences (rgb/, depth/, rgb.txt, depth.txt, groundtruth.txt)",
        "https://cvg.cit.tum.de/data/datasets/rgbd-dataset/download (extract each .tgz here)",
        "CC BY 4.0",
        bring_your_own=True,
    ),
    Dataset(
        "celeba",
        "celeba",
        ("img_align_celeba/*.jpg", "list_attr_celeba.txt"),
        "CelebA aligned faces + 40 binary attributes",
        "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (img_align_celeba.zip, list_attr_celeba.txt)",
        "non-commercial research only",
        bring_your_own=True,
    ),
)

BY_NAME = {d.name: d for d in DATASETS}


def require(name: str, root: Path) -> Path:
    """Return the folder of dataset ``name`` under ``root`` or raise a clear error."""
    ds = BY_NAME[name]
    base = root / ds.folder
    missing = ds.missing(root)
    if missing:
        raise DataNotFoundError(
            f"dataset {name!r} not found: expected {', '.join(missing)} under {base}; "
            f"obtain it from {ds.obtain}"
        )
    return base
