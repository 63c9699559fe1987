"""Speed and attribute accuracy of the font digits (``unpaired.data.synthetic.font_digits``).

Speed: renders ``--batch`` random digits at 32x32, ``--repeats`` times on one torch thread;
reports the median wall time and process CPU time per batch, images per second (from the
CPU time: on the shared machine it is the better guide to an idle core), and the one-off
time of building the glyph atlas (Pillow + distance transforms, 60 glyphs).

Accuracy of the rendered attributes against the requested ones, read back with the
moment measurements of ``unpaired.metrics.manipulation`` on ``--n`` random digits:

* rotation: measured orientation of the digit minus that of the same digit rendered
  upright, against the requested angle (absolute error, degrees: median, 90th percentile);
* size: measured size over that of the same digit at size 0.65 (stroke 0), against the
  requested ratio (relative error: median, 90th percentile);
* the Pearson r of requested vs measured rotation and size across all digits (the
  per-class and per-font offsets of the measurements included).

    python benchmarks/font_digits.py [--batch 4096] [--repeats 5] [--n 4000] [--threads 1]

Writes ``benchmarks/results/font_digits.json``.
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

from unpaired.data.synthetic import font_digits as fd
from unpaired.metrics.manipulation import measure_rotation, measure_size, pearson

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "font_digits.json"


def speed(batch: int, repeats: int) -> dict:
    start = time.perf_counter()
    fd._atlas(fd.FONTS)
    atlas_s = time.perf_counter() - start
    g = torch.Generator().manual_seed(0)
    wall, cpu = [], []
    for _ in range(repeats):
        attrs = fd.sample_attributes(batch, generator=g)
        t0, c0 = time.perf_counter(), time.process_time()
        fd.render(attrs)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    w, c = statistics.median(wall), statistics.median(cpu)
    return {
        "batch": batch,
        "repeats": repeats,
        "atlas_build_s": round(atlas_s, 3),
        "median_wall_s": round(w, 4),
        "median_cpu_s": round(c, 4),
        "images_per_s_cpu": round(batch / c),
        "images_per_s_wall": round(batch / w),
    }


def _q(x: torch.Tensor) -> dict:
    x = x.abs().double()
    return {"median": round(float(x.median()), 4), "p90": round(float(x.quantile(0.9)), 4)}


def accuracy(n: int) -> dict:
    attrs = fd.sample_attributes(n, generator=torch.Generator().manual_seed(1))
    x = fd.render(attrs)
    rot = measure_rotation(x)
    err = rot - measure_rotation(fd.render(fd.with_attribute(attrs, rotation=0.0)))
    err = torch.remainder(err - attrs["rotation"] + 90, 180) - 90
    thin = fd.with_attribute(attrs, stroke=0.0)
    ratio = measure_size(fd.render(thin)) / measure_size(
        fd.render(fd.with_attribute(thin, size=0.65))
    )
    rel = ratio / (attrs["size"] / 0.65) - 1
    return {
        "n": n,
        "rotation_abs_error_deg": _q(err),
        "size_rel_error": _q(rel),
        "pearson_rotation_requested_vs_measured": round(float(pearson(attrs["rotation"], rot)), 4),
        "pearson_size_requested_vs_measured": round(
            float(pearson(attrs["size"], measure_size(x))), 4
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    load0 = os.getloadavg()[0]
    result = {
        "command": "python benchmarks/font_digits.py "
        f"--batch {args.batch} --repeats {args.repeats} --n {args.n} --threads {args.threads}",
        "machine": platform.processor() or platform.machine(),
        "threads": args.threads,
        "speed": speed(args.batch, args.repeats),
        "accuracy": accuracy(args.n),
        "load_average_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(OUT)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
