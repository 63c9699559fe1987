"""Speed of the pose-lifting layers.

1. Training samples/s of the AIGN ``LiftingGenerator`` (PCA basis + Euler rotation + root
   placement + Eq. 2 reprojection loss) vs a plain PyTorch MLP with the same number of
   parameters (Linear+ReLU, 2D -> 3D, MSE loss): forward, backward and Adam step on the same
   batch. Runs alternate (generator, MLP, generator, ...) so machine noise hits both; the
   figure is the ratio of medians.
2. Inference latency per pose (eval mode, no grad) at batch 1 and batch 1024.
3. If the CMU mocap data is found: parse + forward kinematics time of all subjects at 30 fps
   and the frames per subject.

    python benchmarks/pose.py [--repeats 7] [--steps 20] [--batch 256] [--data-dir DIR]

Single-threaded (``torch.set_num_threads(1)``) so that runs on a shared machine compare.

Writes ``benchmarks/results/pose.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from unpaired.data.mocap import list_subjects, load_subject
from unpaired.data.pose2d import view_poses
from unpaired.data.root import data_dir
from unpaired.data.synthetic.skeletons import sample_poses
from unpaired.errors import DataNotFoundError
from unpaired.models.pose import LiftingGenerator, PoseBasis
from unpaired.renderers.projection import project

J = 17
REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "pose.json"


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def plain_mlp(target_params: int, layers: int = 6) -> nn.Sequential:
    """Linear+ReLU MLP 2J -> w -> ... -> 3J with ``layers`` Linear layers and the width ``w``
    whose parameter count is closest to ``target_params``."""

    def params(w: int) -> int:
        return (2 * J + 1) * w + (layers - 2) * (w * w + w) + (w + 1) * 3 * J

    width = min(range(8, 4096), key=lambda w: abs(params(w) - target_params))
    mods: list[nn.Module] = [nn.Linear(2 * J, width), nn.ReLU()]
    for _ in range(layers - 2):
        mods += [nn.Linear(width, width), nn.ReLU()]
    mods.append(nn.Linear(width, 3 * J))
    return nn.Sequential(*mods)


def rate(fn: Callable[[], None], steps: int, samples: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * samples / (time.perf_counter() - start)


def latency(model: Callable[[torch.Tensor], object], x: torch.Tensor, repeats: int) -> float:
    """Median seconds per pose of ``model(x)``."""
    times = []
    with torch.no_grad():
        model(x)
        calls = max(1, 200 // x.shape[0])
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                model(x)
            times.append((time.perf_counter() - start) / calls / x.shape[0])
    return statistics.median(times)


def bench_models(repeats: int, steps: int, batch: int) -> dict:
    g = torch.Generator().manual_seed(0)
    poses = sample_poses(4096, random_yaw=True, generator=g)
    view = view_poses(poses, generator=g)
    kp, principal = view.pose_2d[:batch], view.cameras.principal[:batch]
    target = view.pose_3d[:batch] - view.pose_3d[:batch, :1]

    torch.manual_seed(0)
    gen = LiftingGenerator(PoseBasis.fit(poses))
    mlp = plain_mlp(count(gen))
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4)
    opt_m = torch.optim.Adam(mlp.parameters(), lr=1e-4)

    def step_gen() -> None:
        out = gen(kp, principal)
        loss = (project(out["pose_3d"], out["focal"], out["principal"]) - kp).pow(2).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()

    def step_mlp() -> None:
        loss = (mlp(kp.flatten(1)).reshape(-1, J, 3) - target).pow(2).mean()
        opt_m.zero_grad(set_to_none=True)
        loss.backward()
        opt_m.step()

    for fn in (step_gen, step_mlp):  # warm-up
        rate(fn, 3, batch)
    rates: dict[str, list[float]] = {"lifting_generator": [], "plain_mlp": []}
    for _ in range(repeats):
        rates["lifting_generator"].append(rate(step_gen, steps, batch))
        rates["plain_mlp"].append(rate(step_mlp, steps, batch))
    med = {k: statistics.median(v) for k, v in rates.items()}

    gen.eval()
    mlp.eval()
    infer = {}
    for b in (1, 1024):
        x, c = view.pose_2d[:b], view.cameras.principal[:b]
        infer[f"batch_{b}"] = {
            "lifting_generator_us_per_pose": 1e6 * latency(lambda t, c=c: gen(t, c), x, repeats),
            "plain_mlp_us_per_pose": 1e6 * latency(lambda t: mlp(t.flatten(1)), x, repeats),
        }
    return {
        "params": {"lifting_generator": count(gen), "plain_mlp": count(mlp)},
        "train_samples_per_s_median": med,
        "train_samples_per_s_all": rates,
        "ratio_generator_over_mlp": med["lifting_generator"] / med["plain_mlp"],
        "inference": infer,
    }


def bench_mocap(root: str | None) -> dict:
    try:
        base = data_dir(root)
        subjects = list_subjects(base)
    except DataNotFoundError as err:
        return {"skipped": str(err)}
    start = time.perf_counter()
    frames = {
        s: sum(m.positions.shape[0] for m in load_subject(base, s).values()) for s in subjects
    }
    return {
        "data_dir": str(base),
        "fps": 30.0,
        "frames_per_subject": frames,
        "seconds_all_subjects": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("UNPAIRED_DATA") or str(REPO.parent / "shared" / "data"),
        help="data directory holding cmu_mocap/ (default: $UNPAIRED_DATA, else ../shared/data)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {
        "benchmark": "pose",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "batch": args.batch,
        "steps_per_run": args.steps,
        "repeats": args.repeats,
        "models": bench_models(args.repeats, args.steps, args.batch),
        "mocap_load": bench_mocap(args.data_dir),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
