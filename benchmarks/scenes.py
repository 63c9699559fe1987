"""Speed (and a few quality figures) of the structure-from-motion data layer.

1. Procedural street: scene construction time (layout + texture atlas, uncached) and
   frame render time (ray casting + shading) at 64x192 and 128x384; median over
   ``--repeats`` renders of different frames. Rendering runs on one torch thread by
   design (see ``render_view``).
2. Farneback flow time per frame pair at both resolutions (OpenCV, its own threading).
3. Rigid-warp renderer (Sec. 2.2): forward + backward of Eq. 3 for a batch of 8 pairs.
4. Quality on the held-out sequence (seed 0, ``--frames`` frames, 64x192): Eq. 3 error
   with the true depth and motion vs no warp; Farneback end-point error against the
   true rigid flow; Table 3 errors of the essential-matrix baseline on Farneback flow
   (oracle scale) and of the constant "drive straight ahead at the true speed" guess.

The machine is shared: the 1-minute load average is recorded at start and end.

    python benchmarks/scenes.py [--repeats 9] [--frames 31]

Writes ``benchmarks/results/scenes.json``.
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

import cv2
import torch

from unpaired.data.flow import farneback_flow
from unpaired.data.synthetic.scenes import (
    TEST_SEED,
    make_scene,
    render_sequence,
    render_view,
    scene_intrinsics,
)
from unpaired.metrics.camera import camera_metrics
from unpaired.models.geometric import essential_motion, with_magnitude
from unpaired.renderers.rigid_warp import photometric_loss, render, rigid_flow

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "scenes.json"
SIZES = ((64, 192), (128, 384))


def timed(fn: Callable[[int], object], repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float | list[float]]:
    return {"median_s": statistics.median(times), "all_s": times}


def speed(repeats: int) -> dict:
    out: dict = {}
    make_scene(TEST_SEED)  # warm-up (FFT plans, allocator)
    out["scene_construction"] = summary(timed(lambda i: make_scene.__wrapped__(100 + i), repeats))
    scene = make_scene(TEST_SEED)
    poses = scene.trajectory(repeats * 5)
    for h, w in SIZES:
        k = scene_intrinsics(h, w)
        render_view(scene, poses[0], k, height=h, width=w)
        times = timed(
            lambda i, k=k, h=h, w=w: render_view(scene, poses[5 * i], k, height=h, width=w),
            repeats,
        )
        out[f"render_{h}x{w}"] = summary(times)
    for h, w in SIZES:
        seq = render_sequence(TEST_SEED, n_frames=repeats + 1, height=h, width=w)
        times = timed(
            lambda i, seq=seq: farneback_flow(seq.frames[i : i + 1], seq.frames[i + 1 : i + 2]),
            repeats,
        )
        out[f"farneback_{h}x{w}_per_pair"] = summary(times)
    pairs = render_sequence(TEST_SEED, n_frames=9, height=64, width=192).pairs()
    depth = pairs.depth1.clone().requires_grad_()

    def warp_step(_: int) -> None:
        warped = render(depth, pairs.rotation, pairs.translation, pairs.intrinsics, pairs.frame2)
        photometric_loss(pairs.frame1, warped.warped, mask=warped.valid).backward()

    out["rigid_warp_fwd_bwd_batch8_64x192"] = summary(timed(warp_step, repeats))
    return out


def quality(frames: int) -> dict:
    seq = render_sequence(TEST_SEED, n_frames=frames, height=64, width=192)
    p = seq.pairs()
    warped = render(p.depth1, p.rotation, p.translation, p.intrinsics, p.frame2)
    flow = farneback_flow(p.frame1, p.frame2)
    true_flow, valid = rigid_flow(p.depth1, p.rotation, p.translation, p.intrinsics)
    epe = (flow - true_flow).norm(dim=1, keepdim=True)[valid]
    est = essential_motion(flow, p.intrinsics)
    speed_true = p.translation.norm(dim=1)
    straight = torch.zeros_like(p.translation)
    straight[:, 2] = -speed_true
    return {
        "pairs": len(p),
        "photometric_eq3_true_motion": float(
            photometric_loss(p.frame1, warped.warped, mask=warped.valid)
        ),
        "photometric_eq3_no_warp": float(photometric_loss(p.frame1, p.frame2)),
        "farneback_epe_px_median": float(epe.median()),
        "farneback_epe_px_mean": float(epe.mean()),
        "true_flow_px_median": float(true_flow.norm(dim=1, keepdim=True)[valid].median()),
        "geometric_farneback_oracle_scale": camera_metrics(
            est.rotation, with_magnitude(est.direction, speed_true), p.rotation, p.translation
        ),
        "geometric_failures": int((~est.ok).sum()),
        "straight_ahead_true_speed": camera_metrics(
            torch.eye(3).expand(len(p), 3, 3), straight, p.rotation, p.translation
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--frames", type=int, default=31)
    args = parser.parse_args()
    result = {
        "benchmark": "scenes",
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_1min_at_start": os.getloadavg()[0],
        "repeats": args.repeats,
        "speed": speed(args.repeats),
        "quality_test_sequence_64x192": quality(args.frames),
    }
    result["load_average_1min_at_end"] = os.getloadavg()[0]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "speed"}
            | {"speed_medians_s": {k: v["median_s"] for k, v in result["speed"].items()}},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
