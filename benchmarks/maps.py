"""Speed of the procedural aerial photo / map tiles (``unpaired.data.synthetic.maps``).

Renders ``--tiles`` tiles at 64x64 and at 128x128 (a quarter as many at 128), on one
torch thread by default, ``--repeats`` times each on fresh tile ids; reports the median
wall time, tiles per second and the time of the "few thousand 64x64 tiles" a recipe
needs (``--recipe-tiles``, extrapolated from the median rate). Also records the class
shares of the rendered 64x64 tiles (the layout statistics of the task).

The machine is shared: the 1-minute load average is recorded at start and end.

    python benchmarks/maps.py [--tiles 512] [--repeats 5] [--threads 1]

Writes ``benchmarks/results/maps.json``.
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

from unpaired.data.synthetic.maps import CLASSES, render_ids, tile_ids

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "maps.json"


def speed(size: int, n: int, repeats: int) -> tuple[dict, torch.Tensor]:
    render_ids(tile_ids("val", 8), size=size)  # warm-up (noise bank, allocator)
    times, counts = [], torch.zeros(len(CLASSES))
    for r in range(repeats):
        ids = tile_ids("train_photos", n * (r + 1), seed=r)[n * r :]
        start = time.perf_counter()
        tiles = render_ids(ids, size=size)
        times.append(time.perf_counter() - start)
        counts += torch.bincount(tiles.labels.flatten(), minlength=len(CLASSES)).float()
    median = statistics.median(times)
    return {
        "tiles": n,
        "median_s": median,
        "tiles_per_s": n / median,
        "ms_per_tile": 1000 * median / n,
        "all_s": times,
    }, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiles", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--recipe-tiles", type=int, default=3000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result: dict = {
        "benchmark": "maps",
        "torch": torch.__version__,
        "machine": platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_1min_at_start": os.getloadavg()[0],
        "repeats": args.repeats,
    }
    s64, counts = speed(64, args.tiles, args.repeats)
    s128, _ = speed(128, max(1, args.tiles // 4), args.repeats)
    result["speed"] = {"64x64": s64, "128x128": s128}
    result[f"seconds_for_{args.recipe_tiles}_tiles_64x64"] = args.recipe_tiles / s64["tiles_per_s"]
    share = counts / counts.sum()
    result["class_shares_64x64"] = {
        c: round(float(s), 4) for c, s in zip(CLASSES, share, strict=True)
    }
    result["load_average_1min_at_end"] = os.getloadavg()[0]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(OUT)
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "speed"}
            | {"tiles_per_s": {k: round(v["tiles_per_s"], 1) for k, v in result["speed"].items()}},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
