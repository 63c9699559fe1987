"""Speed of the procedural 3D Shapes renderer (``unpaired.data.synthetic.shapes3d``).

Renders ``--images`` random factor tuples at 32 and 64 px (supersample 2, the recipe's
setting, and 1), ``--repeats`` times each, on ``--threads`` torch threads; reports the
median wall and process CPU time, images per second and the implied time of a 10,000
image training set. On a shared machine the CPU time is the better guide to what an
idle core does; the 1-minute load average is recorded at start and end.

    python benchmarks/shapes3d.py [--images 1000] [--repeats 3] [--threads 1]

Writes ``benchmarks/results/shapes3d.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from unpaired.data.synthetic.shapes3d import LEVELS, render

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "shapes3d.json"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    load0 = os.getloadavg()[0]
    rows = []
    for size, ss in ((32, 2), (32, 1), (64, 2), (64, 1)):
        walls, cpus = [], []
        for _ in range(args.repeats):
            f = torch.stack([torch.randint(0, n, (args.images,), generator=g) for n in LEVELS], 1)
            w0, c0 = time.perf_counter(), time.process_time()
            render(f, size, supersample=ss)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        rows.append(
            {
                "size": size,
                "supersample": ss,
                "images": args.images,
                "median_wall_s": wall,
                "median_cpu_s": cpu,
                "images_per_s_wall": args.images / wall,
                "images_per_s_cpu": args.images / cpu,
                "train_set_10k_s_cpu": 10000 / args.images * cpu,
            }
        )
        print(json.dumps(rows[-1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "command": f"python benchmarks/shapes3d.py --images {args.images} --repeats "
                f"{args.repeats} --threads {args.threads}",
                "torch": torch.__version__,
                "machine": platform.machine(),
                "threads": args.threads,
                "load_avg_1min": [load0, os.getloadavg()[0]],
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
