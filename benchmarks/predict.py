"""``unpaired predict`` against calling the loaded network directly, and its peak memory.

    python benchmarks/predict.py [--quick] [--repeats R] [--out PATH] [--workdir DIR]

Three models at their recipes' default sizes (untrained: throughput does not depend on
the weights), each written as a one-step run and loaded back with ``unpaired.load``:

* **pose**: the pose recipes' lifter (``LiftingGenerator``, hidden 256, 2 blocks) on a
  10,000-frame ``.npy`` of keypoints (``--figures 0``: the skeleton PNGs are extra);
* **image**: sr-faces' generator (``SuperResolutionGenerator``, width 16, 3 blocks, x4)
  on a folder of 1,000 16x16 PNGs -> 64x64 PNGs;
* **sfm**: sfm-scenes' generator (depth 8-128, egomotion 16-256 channels) on 100 frames
  at 32x96 (the input includes the Farneback flow of every pair).

Throughput: ``predict_files`` (read the files, run the network in batches of 256 poses,
64 images or 8 frame pairs, write the outputs) against the same network called on the same tensors already in
memory (in the memory layout predict gives them), same batches, in inference mode. Both timed with the process CPU clock (one
thread; robust on a shared machine), alternating (direct, predict, direct, ...), median
of ``--repeats``. The ratio ``direct time / predict time`` is the issue's goal (>= 0.9:
file reading and writing must not dominate). For SfM also ``direct_with_flow``: the
network plus the Farneback flow and egomotion input of the same in-memory frames (what
predict computes besides reading and writing files).

``--workdir``: where the inputs and outputs are written (default: the system's temporary
folder). The figure ``file_create_cpu_us`` is the CPU cost of creating one small file
there (500 files), since every prediction writes one or two files per item.

Peak memory: each prediction runs once more in a fresh process, on the whole input and
on its first quarter; the figure is the growth of the resident set (sampled every 2 ms)
over the process after loading the model and warming up. Streamed: the other three
quarters add less than half of what holding them (inputs and outputs as float32) would.

Writes ``benchmarks/results/predict.json`` (default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent
SIZES = {"pose": 10_000, "image": 1_000, "sfm": 100}
QUICK = {"pose": 2_000, "image": 256, "sfm": 32}


class _Fixed:
    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.batch


def _write_run(out: Path, name: str, task: Any, batch: Any) -> None:
    from unpaired.engine import TrainConfig
    from unpaired.engine.session import Session

    with Session.open(out, progress=False) as s:
        s.fit(name, task, _Fixed(batch), TrainConfig(steps=1, log_every=1))


def make_runs(base: Path) -> None:
    """One-step runs of the three models (recipe default sizes)."""
    from unpaired.aign.images import DownsampleRenderer, ImageAIGN
    from unpaired.aign.pose import LiftingTask, make_test_set
    from unpaired.aign.sfm import SfMGenerator, SfMTask
    from unpaired.data.pose2d import CameraDistribution
    from unpaired.data.synthetic.scenes import street_pair_set
    from unpaired.data.synthetic.skeletons import sample_poses
    from unpaired.models.images import SuperResolutionGenerator
    from unpaired.models.pose import LiftingGenerator, PoseBasis

    g = torch.Generator().manual_seed(0)
    poses = sample_poses(256, generator=g)
    test = make_test_set(
        {"t": poses[:32]}, cameras=CameraDistribution(), noise=(5.0, 0.05), generator=g
    )
    lifter = LiftingGenerator(PoseBasis.fit(poses), hidden=256, blocks=2)
    task = LiftingTask(lifter, recon_weight=1.0, eval_inputs=test.exact, eval_target=test.target)
    _write_run(base / "pose", "lifter", task, {"x": test.exact})
    sr = ImageAIGN(
        SuperResolutionGenerator(1, factor=4, width=16, blocks=3), DownsampleRenderer(4), beta=0.0
    )
    _write_run(base / "image", "sr", sr, {"x": torch.rand(4, 1, 16, 16)})
    pairs = street_pair_set([3], n_frames=5, height=32, width=96)
    net = SfMGenerator(depth_channels=(8, 16, 32, 64, 128), ego_channels=(16, 32, 64, 128, 256),
                       init_depth=10.0, angle_scale=0.05)  # fmt: skip
    sfm = SfMTask(net, pairs, beta=0.0)
    _write_run(base / "sfm", "sfm", sfm, {"x": pairs.inputs, "intrinsics": pairs.intrinsics})


def make_inputs(base: Path, sizes: dict[str, int]) -> None:
    """The inputs, and a quarter of each under ``base/quarter`` (same runs, linked)."""
    _inputs(base, sizes)
    (base / "quarter").mkdir()
    _inputs(base / "quarter", {k: v // 4 for k, v in sizes.items()})
    for kind in INPUT:
        (base / "quarter" / kind).symlink_to(base / kind)


def _inputs(base: Path, sizes: dict[str, int]) -> None:
    from unpaired.data.synthetic.scenes import render_sequence

    g = np.random.default_rng(0)
    np.save(
        base / "keypoints.npy",
        (500 + 80 * g.standard_normal((sizes["pose"], 17, 2))).astype(np.float32),
    )
    (base / "images").mkdir()
    for i in range(sizes["image"]):
        Image.fromarray(g.integers(0, 256, (16, 16), dtype=np.uint8)).save(
            base / "images" / f"{i:05d}.png"
        )
    seq = render_sequence(0, n_frames=sizes["sfm"], height=32, width=96)
    (base / "frames").mkdir()
    for i, f in enumerate(seq.frames):
        arr = f.mul(255).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(arr).save(base / "frames" / f"{i:05d}.png")


INPUT = {"pose": "keypoints.npy", "image": "images", "sfm": "frames"}
BATCH = {"pose": 256, "image": 64, "sfm": 8}


def _direct_tensors(kind: str, base: Path) -> list[torch.Tensor]:
    """The batches the network sees, prepared in memory (outside the timed part)."""
    from unpaired.data.flow import egomotion_inputs, farneback_flow
    from unpaired.engine.records import load

    if kind == "pose":
        x = torch.from_numpy(np.load(base / "keypoints.npy"))
        return list(x.split(BATCH[kind]))
    if kind == "image":
        # (B, H, W, C) uint8 permuted to (B, C, H, W): the memory layout predict's batches
        # have (channels last); torch's convolutions on CPU run faster on it (1.6x here
        # against a (B, C, H, W)-contiguous tensor of the same values)
        files = sorted((base / "images").iterdir())
        x = torch.from_numpy(np.stack([np.asarray(Image.open(p))[..., None] for p in files]))
        return list(x.permute(0, 3, 1, 2).float().div(255).split(BATCH[kind]))
    files = sorted((base / "frames").iterdir())
    f = torch.stack(
        [
            torch.from_numpy(np.asarray(Image.open(p), np.float32) / 255).permute(2, 0, 1)
            for p in files
        ]
    )
    k = load(base / "sfm").meta["generator"]["intrinsics"]
    x = egomotion_inputs(f[:-1], f[1:], farneback_flow(f[:-1], f[1:]), k)
    return list(x.split(BATCH[kind]))


def _flow_frames(base: Path) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """SfM: the consecutive frame pairs in memory, in batches, and the intrinsics."""
    from unpaired.engine.records import load

    files = sorted((base / "frames").iterdir())
    f = torch.stack(
        [
            torch.from_numpy(np.asarray(Image.open(p), np.float32) / 255).permute(2, 0, 1)
            for p in files
        ]
    )
    k = load(base / "sfm").meta["generator"]["intrinsics"]
    b = BATCH["sfm"]
    pairs = [(f[s : s + b], f[s + 1 : s + 1 + b]) for s in range(0, len(f) - 1, b)]
    return [(a[: len(c)], c) for a, c in pairs], k


def _time_direct_with_flow(net: torch.nn.Module, base: Path) -> float:
    from unpaired.data.flow import egomotion_inputs, farneback_flow

    pairs, k = _flow_frames(base)
    t0 = time.process_time()
    with torch.inference_mode():
        for f1, f2 in pairs:
            net(egomotion_inputs(f1, f2, farneback_flow(f1, f2), k))
    return time.process_time() - t0


def file_create_cpu_us(folder: Path, n: int = 500) -> float:
    """CPU microseconds to create and write one 2 kB file in ``folder`` (mean of n)."""
    d = Path(tempfile.mkdtemp(dir=folder))
    t0 = time.process_time()
    for i in range(n):
        with open(d / f"{i}.bin", "wb") as f:
            f.write(b"x" * 2048)
    cost = (time.process_time() - t0) / n * 1e6
    shutil.rmtree(d, ignore_errors=True)
    return cost


def _time_direct(net: torch.nn.Module, batches: list[torch.Tensor]) -> float:
    t0 = time.process_time()
    with torch.inference_mode():
        for x in batches:
            net(x)
    return time.process_time() - t0


def _time_predict(model: Any, kind: str, base: Path, out: Path) -> float:
    from unpaired.inference import predict_files

    if out.exists():
        shutil.rmtree(out)
    t0 = time.process_time()
    predict_files(model, base / INPUT[kind], out, batch_size=BATCH[kind], figures=0)
    return time.process_time() - t0


def throughput(kind: str, base: Path, repeats: int) -> dict[str, Any]:
    from unpaired.engine.records import load

    model = load(base / kind)
    batches = _direct_tensors(kind, base)
    n = sum(len(b) for b in batches) + (1 if kind == "sfm" else 0)
    _time_direct(model.network, batches[:1])  # warm up both (first-call imports, caches)
    _time_predict(model, kind, base, base / f"out-{kind}")
    direct, through, flow = [], [], []
    for _ in range(repeats):  # alternating: drifts of the machine's load hit both alike
        direct.append(_time_direct(model.network, batches))
        through.append(_time_predict(model, kind, base, base / f"out-{kind}"))
        if kind == "sfm":
            flow.append(_time_direct_with_flow(model.network, base))
    d, p = statistics.median(direct), statistics.median(through)
    unit = {"pose": "poses", "image": "images", "sfm": "frames"}[kind]
    extra: dict[str, Any] = {}
    if flow:
        extra = {
            "direct_with_flow_cpu_s": flow,
            "ratio_direct_with_flow_over_predict": statistics.median(flow) / p,
        }
    return {
        "items": n,
        "unit": unit,
        "direct_cpu_s": direct,
        "predict_cpu_s": through,
        f"direct_{unit}_per_s": n / d,
        f"predict_{unit}_per_s": n / p,
        "ratio_direct_over_predict": d / p,
        "goal_met": d / p >= 0.9,
    } | extra


def _rss() -> int:
    """Current resident set size in bytes (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(kind: str, base: str) -> None:
    """Fresh process: load, warm up on a small batch, then predict while a thread samples
    the resident set every 2 ms; print the peak growth over the RSS before (bytes)."""
    import threading

    from unpaired.engine.records import load
    from unpaired.inference import predict_files
    from unpaired.inference.export import example_input

    torch.set_num_threads(1)
    model = load(Path(base) / kind)
    with torch.inference_mode():
        model.network(example_input(model, model.select(None)))
    before, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.002)

    thread = threading.Thread(target=sample)
    thread.start()
    predict_files(
        model,
        Path(base) / INPUT[kind],
        Path(base) / f"mem-{kind}",
        batch_size=BATCH[kind],
        figures=0,
    )
    done.set()
    thread.join()
    print(json.dumps({"before": before, "peak": max(peak[0], _rss())}))


def _whole_bytes(kind: str, n: int) -> int:
    """Inputs + outputs as float32 arrays held whole."""
    per = {
        "pose": 17 * 2 + 17 * 3,
        "image": 16 * 16 + 64 * 64,
        "sfm": 3 * 32 * 96 + 10 * 32 * 96 + 32 * 96,
    }
    return 4 * n * per[kind]


def _child_growth(kind: str, base: Path) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(base)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return int(r["peak"] - r["before"])


def memory(kind: str, base: Path, n: int) -> dict[str, Any]:
    """Peak RSS growth of predicting all ``n`` items and a quarter of them (same batch
    size): streamed means the other three quarters add less than half of what holding
    them whole would."""
    full, quarter = _child_growth(kind, base), _child_growth(kind, base / "quarter")
    whole, whole_quarter = _whole_bytes(kind, n), _whole_bytes(kind, n // 4)
    mb = 2**20
    return {
        "peak_rss_growth_mb": full / mb,
        "peak_rss_growth_quarter_mb": quarter / mb,
        "whole_arrays_mb": whole / mb,
        "streamed": full - quarter < 0.5 * (whole - whole_quarter),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "predict.json")
    ap.add_argument("--workdir", type=Path, default=None, help="folder for inputs/outputs")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    torch.set_num_threads(1)
    sizes = QUICK if args.quick else SIZES
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="predict-bench-", dir=args.workdir))
    create_us = file_create_cpu_us(base)
    try:
        make_runs(base)
        make_inputs(base, sizes)
        results = {}
        for kind in ("pose", "image", "sfm"):
            results[kind] = throughput(kind, base, args.repeats) | memory(kind, base, sizes[kind])
            print(
                kind,
                json.dumps({k: v for k, v in results[kind].items() if not isinstance(v, list)}),
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    meta = {
        "command": "python benchmarks/predict.py"
        + (" --quick" if args.quick else "")
        + f" --repeats {args.repeats}"
        + (f" --workdir {args.workdir}" if args.workdir is not None else ""),
        "workdir": str(base.parent),
        "file_create_cpu_us": create_us,
        "sizes": sizes,
        "clock": "process CPU time, 1 thread",
        "torch": torch.__version__,
        "machine": platform.machine(),
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
