"""Speed of the procedural aerial photo / map tiles (``unpaired.data.synthetic.maps``).

Renders ``--tiles`` tiles at 64x64 and at 128x128 (a quarter as many at 128), on one
torch thread by default, ``--repeats`` times each on fresh tile ids; reports the median
wall time and process CPU time (on a shared machine the CPU time is the better guide to
what an idle core does), tiles per second and the time of the "few thousand 64x64
tiles" a recipe needs (``--recipe-tiles``, from the median rate). Also records the class
shares of the rendered 64x64 tiles (the layout statistics of the task), and the honesty
metrics (``unpaired.metrics.honesty``) of three hand-built translator pairs on the 256
test tiles at 64x64, as reference points for reading RH and SN: the identity on maps,
an honest but lossy pair (photo -> quantised map -> one flat colour per class), and a
cheating pair that hides the photo in the map at 1/64 of its amplitude.

The machine is shared: the 1-minute load average is recorded at start and end.

    python benchmarks/maps.py [--tiles 512] [--repeats 5] [--threads 1] [--figure PNG]

Writes ``benchmarks/results/maps.json`` (and, with ``--figure``, a PNG grid of the first
eight validation tiles at 128x128: photos above their maps).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unpaired.data.synthetic.maps import CLASSES, PALETTE, render_ids, tile_ids
from unpaired.metrics.honesty import (
    cycle_error,
    palette_labels,
    quantize_to_palette,
    reconstruction_honesty,
    sensitivity_to_noise,
)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "maps.json"


def speed(size: int, n: int, repeats: int) -> tuple[dict, torch.Tensor]:
    render_ids(tile_ids("val", 8), size=size)  # warm-up (noise bank, allocator)
    times, cpu, counts = [], [], torch.zeros(len(CLASSES))
    for r in range(repeats):
        ids = tile_ids("train_photos", n * (r + 1), seed=r)[n * r :]
        start, start_cpu = time.perf_counter(), time.process_time()
        tiles = render_ids(ids, size=size)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        counts += torch.bincount(tiles.labels.flatten(), minlength=len(CLASSES)).float()
    median, median_cpu = statistics.median(times), statistics.median(cpu)
    return {
        "tiles": n,
        "median_s": median,
        "tiles_per_s": n / median,
        "ms_per_tile": 1000 * median / n,
        "median_cpu_s": median_cpu,
        "cpu_ms_per_tile": 1000 * median_cpu / n,
        "all_s": times,
        "all_cpu_s": cpu,
    }, counts


def honesty_reference() -> dict:
    tiles = render_ids(tile_ids("test", 256), size=64)
    colours = tiles.photo.permute(1, 0, 2, 3)  # (3, N, H, W)
    class_colour = torch.stack([colours[:, tiles.labels == k].mean(1) for k in range(len(CLASSES))])
    eps = 1 / 64

    def ident(t: torch.Tensor) -> torch.Tensor:
        return t

    def to_map(x: torch.Tensor) -> torch.Tensor:
        return quantize_to_palette(x, PALETTE)

    def flat_photo(y: torch.Tensor) -> torch.Tensor:
        return class_colour[palette_labels(y, PALETTE)].permute(0, 3, 1, 2)

    def hide(x: torch.Tensor) -> torch.Tensor:
        q = quantize_to_palette(x, PALETTE)
        return q + eps * (x - q)

    def reveal(y: torch.Tensor) -> torch.Tensor:
        q = quantize_to_palette(y, PALETTE)
        return q + (y - q) / eps

    pairs = {
        "identity on maps": (ident, ident, tiles.map),
        "honest lossy (photo -> q(photo) -> class colours)": (to_map, flat_photo, tiles.photo),
        "cheater (photo hidden at 1/64 amplitude)": (hide, reveal, tiles.photo),
    }
    out = {}
    for name, (fwd, bwd, x) in pairs.items():
        rh = reconstruction_honesty(fwd, bwd, x, PALETTE, reduction="none")
        sn = sensitivity_to_noise(fwd, bwd, x, generator=torch.Generator().manual_seed(0))
        out[name] = {
            "RH_mean": float(rh.mean()),
            "RH_std": float(rh.std()),
            "SN": {str(s): float(v) for s, v in zip((0.01, 0.02, 0.05, 0.1), sn, strict=True)},
            "cycle_error": float(cycle_error(fwd, bwd, x)),
        }
    out["units"] = "L2 norm per image over 3 x 64 x 64 values, images in [-1, 1]"
    return out


def figure(path: Path) -> None:
    tiles = render_ids(tile_ids("val", 8), size=128)
    rows = [
        torch.cat(list(t), 2)
        for t in (tiles.photo[:4], tiles.map[:4], tiles.photo[4:], tiles.map[4:])
    ]
    grid = torch.cat(rows, 1)
    arr = ((grid.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    Image.fromarray(np.ascontiguousarray(arr)).save(tmp)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiles", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--recipe-tiles", type=int, default=3000)
    parser.add_argument("--figure", type=Path, default=None)
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
    result[f"cpu_seconds_for_{args.recipe_tiles}_tiles_64x64"] = (
        args.recipe_tiles * s64["cpu_ms_per_tile"] / 1000
    )
    share = counts / counts.sum()
    result["class_shares_64x64"] = {
        c: round(float(s), 4) for c, s in zip(CLASSES, share, strict=True)
    }
    result["honesty_reference_test_tiles_64x64"] = honesty_reference()
    if args.figure is not None:
        figure(args.figure)
    result["load_average_1min_at_end"] = os.getloadavg()[0]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(OUT)
    print(
        json.dumps(
            {
                k: v
                for k, v in result.items()
                if k not in ("speed", "honesty_reference_test_tiles_64x64")
            }
            | {"tiles_per_s": {k: round(v["tiles_per_s"], 1) for k, v in result["speed"].items()}},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
