"""Speed, agreement and memory of ``unpaired.distances`` against reference libraries.

    python benchmarks/distances.py [--quick] [--repeats R] [--out PATH]

Writes ``benchmarks/results/distances.json`` (default) with:

* ``mmd_vs_geomloss``: our blockwise ``mmd`` (RBF, fixed bandwidth) against geomloss
  ``SamplesLoss("gaussian", blur=h, backend="tensorized")`` at N = M in {1k, 4k, 16k},
  D = 64, forward and forward+backward. geomloss returns ``||a - b||_k^2 / 2``, half the
  biased MMD^2 with the same kernel ``exp(-|x - y|^2 / (2 h^2))``, so we compare our
  value with twice theirs.
* ``sinkhorn_vs_pot``: our ``sinkhorn`` (default ``solver="log"``: torch log-domain,
  epsilon-scaling then iterations to ``tol``; and ``solver="geomloss"``, the earlier
  default, as ``geomloss``) against POT's
  log-domain Sinkhorn (``ot.sinkhorn2(..., method="sinkhorn_log")``) run on the three
  problems (a, b), (a, a), (b, b) with the same cost ``|x - y|^2 / 2`` and eps = blur^2,
  combined into the same debiased divergence. POT's ``sinkhorn2`` returns ``<P, C>`` only,
  so the ``eps KL(P | a x b)`` term is added from its log-potentials (part of POT's timing).
* ``throughput``: achieved GFLOP/s of ``mmd`` (forward) and ``sinkhorn`` against
  ``torch.matmul`` of the same sizes ((N, D) @ (D, N)), interleaved in the same run.
  FLOPs counted: matmul ``2 N^2 D``; ``mmd`` (N = M, biased) the three Gram blocks,
  ``3 * 2 N^2 D`` (the exp and sums are not counted); ``sinkhorn`` the three cost
  matrices ``3 * 2 N^2 D`` plus ``4 N^2`` per log-sum-exp pass (subtract, scale, exp,
  add; passes counted by wrapping ``transport._softmin``). ``exp_nxn`` times one
  ``torch.exp`` of an (N, N) tensor: ``matmul_plus_exp_bound`` = matmul / (matmul + exp)
  is the fraction an RBF kernel block (a matmul and an exp) can reach at best.
* ``mmd_peak_memory``: peak resident memory of ``mmd`` at N = M = 50k, D = 64, measured in
  a fresh subprocess from the kernel's counters (``tracemalloc`` does not see torch's
  allocations): once the data exist, the peak-RSS counter VmHWM is reset
  (``/proc/self/clear_refs``) and VmRSS read as the baseline; VmHWM after the call is the
  peak, and ``delta_rss_mib`` = peak - baseline is what the call added.

Times are medians over ``--repeats`` runs (``--clock process``: the process's CPU time,
for a shared machine; default wall time); the candidates are run interleaved in every
repeat so that ratios are measured side by side. A reference is skipped (and the JSON
says why) when its estimated memory exceeds half of the available memory or its
estimated time (extrapolated as N^2 from the previous size) exceeds ``--max-call-s``.
``--quick`` runs N in {1k, 4k} for MMD, {1k} for Sinkhorn and the 50k memory run
forward only (plus forward+backward at 16k).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ot
import torch
from geomloss import SamplesLoss

from unpaired.distances import median_bandwidth, mmd, sinkhorn

ROOT = Path(__file__).resolve().parent
DIM = 64
SINKHORN_BLUR = 2.0  # eps = 4 against costs |x - y|^2 / 2 of about 64 on this data
POT_STOP = 1e-6  # POT's stopping threshold on the marginal violation (float32)


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, DIM, generator=g)
    b = 0.9 * torch.randn(n, DIM, generator=g) + 0.1
    return a, b


def _mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


CLOCK: list[Callable[[], float]] = [time.perf_counter]  # --clock process: time.process_time


def _timed(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, dict[str, float]]:
    """Median time and last returned value of each function, interleaved per repeat."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    values: dict[str, float] = {}
    clock = CLOCK[0]
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = clock()
            values[name] = fn()
            times[name].append(clock() - t0)
    return {
        k: {"median_s": statistics.median(v), "all_s": v, "value": values[k]}
        for k, v in times.items()
    }


def _skip_reason(
    n: int, bytes_needed: float, prev: tuple[int, float] | None, max_call_s: float
) -> str | None:
    avail = _mem_available()
    if bytes_needed > avail / 2:
        return (
            f"estimated {bytes_needed / 2**30:.1f} GiB > half of the available "
            f"{avail / 2**30:.1f} GiB"
        )
    if prev is not None:
        est = prev[1] * (n / prev[0]) ** 2
        if est > max_call_s:
            return (
                f"estimated {est:.0f} s per call (N^2 from {prev[1]:.1f} s at N={prev[0]}) "
                f"> --max-call-s={max_call_s:g}"
            )
    return None


def _run_size(
    n: int,
    fns: dict[str, Callable[[], float]],
    mem_bytes: dict[str, float],
    prev: dict[str, tuple[int, float]],
    repeats: int,
    max_call_s: float,
) -> dict:
    """Time the candidates that fit (memory, extrapolated time); record why others did not."""
    row: dict = {}
    active = {}
    for name, fn in fns.items():
        reason = _skip_reason(n, mem_bytes.get(name, 0.0), prev.get(name), max_call_s)
        if reason is None:
            active[name] = fn
        else:
            row[f"{name}_skipped"] = reason
    for name, r in _timed(active, repeats).items():
        row[f"{name}_s"], row[f"{name}_all_s"], row[f"{name}_value"] = (
            r["median_s"],
            r["all_s"],
            r["value"],
        )
        prev[name] = (n, r["median_s"])
    return row


def _print(row: dict) -> None:
    print(json.dumps({k: v for k, v in row.items() if not k.endswith("all_s")}), flush=True)


# ----------------------------------------------------------------------------- MMD


def _mmd_fns(a: torch.Tensor, b: torch.Tensor, h: float) -> dict[str, Callable[[], float]]:
    gl = SamplesLoss("gaussian", blur=h, backend="tensorized")

    def ours(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return mmd(x, y, bandwidth=h)

    def fwd_bwd(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[[], float]:
        def run() -> float:
            x, y = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
            v = fn(x, y)
            v.backward()
            return v.item()

        return run

    return {
        "ours_forward": lambda: ours(a, b).item(),
        "geomloss_forward": lambda: gl(a, b).item(),
        "ours_forward_backward": fwd_bwd(ours),
        "geomloss_forward_backward": fwd_bwd(gl),
    }


def bench_mmd(sizes: list[int], repeats: int, max_call_s: float) -> list[dict]:
    rows = []
    prev: dict[str, tuple[int, float]] = {}
    for n in sizes:
        a, b = _data(n)
        h = float(median_bandwidth(a, b))
        # geomloss tensorized keeps three (N, N) kernel matrices plus temporaries
        mem = {"geomloss_forward": 5 * n * n * 4, "geomloss_forward_backward": 6 * n * n * 4}
        row = {"n": n, "m": n, "d": DIM, "bandwidth": h, "dtype": "float32"}
        row |= _run_size(n, _mmd_fns(a, b, h), mem, prev, repeats, max_call_s)
        if "geomloss_forward_value" in row and "ours_forward_value" in row:
            ref = 2 * row["geomloss_forward_value"]
            row["geomloss_value_x2"] = ref
            row["rel_diff"] = abs(row["ours_forward_value"] - ref) / abs(ref)
        for mode in ("forward", "forward_backward"):
            if f"ours_{mode}_s" in row and f"geomloss_{mode}_s" in row:
                row[f"ratio_{mode}"] = row[f"ours_{mode}_s"] / row[f"geomloss_{mode}_s"]
        rows.append(row)
        _print(row)
    return rows


# ------------------------------------------------------------------------ Sinkhorn


def pot_debiased_sinkhorn(a: torch.Tensor, b: torch.Tensor, eps: float) -> tuple[float, list[int]]:
    """S_eps(a, b) from three POT log-domain solves (float32 torch backend)."""
    total, iters = 0.0, []
    for u, v, w in ((a, b, 1.0), (a, a, -0.5), (b, b, -0.5)):
        cost = torch.cdist(u, v).square_().div_(2)
        wu = torch.full((len(u),), 1.0 / len(u))
        wv = torch.full((len(v),), 1.0 / len(v))
        lin, log = ot.sinkhorn2(
            wu, wv, cost, eps, method="sinkhorn_log", numItermax=10000, stopThr=POT_STOP, log=True
        )
        # log P = -C/eps + u_i + v_j; KL(P | wu x wv) = sum P (log P - log wu - log wv) - sum P + 1
        logp = log["log_u"][:, None] + log["log_v"][None, :] - cost / eps
        p = logp.exp()
        kl = (p * (logp - wu.log()[:, None] - wv.log()[None, :])).sum() - p.sum() + 1
        total += w * (float(lin) + eps * float(kl))
        iters.append(int(log["niter"]))
    return total, iters


def _sinkhorn_fns(
    a: torch.Tensor, b: torch.Tensor, eps: float, iters: list[int]
) -> dict[str, Callable[[], float]]:
    """Our sinkhorn (default), its geomloss solver and the POT reference (iterations -> ``iters``)."""

    def pot() -> float:
        value, its = pot_debiased_sinkhorn(a, b, eps)
        iters[:] = its
        return value

    return {
        "ours": lambda: sinkhorn(a, b, blur=SINKHORN_BLUR).item(),
        "pot": pot,
        "geomloss": lambda: sinkhorn(a, b, blur=SINKHORN_BLUR, solver="geomloss").item(),
    }


def bench_sinkhorn(sizes: list[int], repeats: int, max_call_s: float) -> dict:
    rows = []
    prev: dict[str, tuple[int, float]] = {}
    eps = SINKHORN_BLUR**2
    for n in sizes:
        a, b = _data(n)
        row = {"n": n, "m": n, "d": DIM, "blur": SINKHORN_BLUR, "eps": eps, "dtype": "float32"}
        row |= {"ours_scaling": 0.9, "ours_tol": 1e-5, "pot_stopThr": POT_STOP}
        iters: list[int] = []
        # 3 cost matrices + a log-sum-exp temporary; POT: ~5 (N, N) arrays
        mem = {"ours": 6 * n * n * 4, "pot": 6 * n * n * 4, "geomloss": 6 * n * n * 4}
        row |= _run_size(n, _sinkhorn_fns(a, b, eps, iters), mem, prev, repeats, max_call_s)
        if "pot_value" in row:
            row["pot_iterations"] = iters
            for k in ("ours", "geomloss"):
                if f"{k}_value" in row:
                    row[f"{k}_ratio"] = row[f"{k}_s"] / row["pot_s"]
                    row[f"{k}_rel_diff"] = abs(row[f"{k}_value"] - row["pot_value"]) / abs(
                        row["pot_value"]
                    )
        rows.append(row)
        _print(row)
    return {"rows": rows}


# ---------------------------------------------------------------------- throughput


def _count_softmin() -> tuple[list[int], Callable[[], None]]:
    """Count ``transport._softmin`` calls (log-sum-exp passes) until the returned undo."""
    from unpaired.distances import transport

    calls, orig = [0], transport._softmin

    def counted(*args: torch.Tensor | float) -> torch.Tensor:
        calls[0] += 1
        return orig(*args)  # type: ignore[arg-type]

    transport._softmin = counted  # type: ignore[assignment]

    def undo() -> None:
        transport._softmin = orig  # type: ignore[assignment]

    return calls, undo


def bench_throughput(sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        a, b = _data(n)
        h = float(median_bandwidth(a, b))
        calls, undo = _count_softmin()
        sinkhorn(a, b, blur=SINKHORN_BLUR)
        undo()
        passes = calls[0]
        k = torch.randn(n, n, generator=torch.Generator().manual_seed(1))
        fns = {
            "matmul": lambda a=a, b=b: float(torch.matmul(a, b.T)[0, 0]),
            "exp_nxn": lambda k=k: float(torch.exp(k)[0, 0]),
            "mmd_forward": lambda a=a, b=b, h=h: mmd(a, b, bandwidth=h).item(),
            "sinkhorn_forward": lambda a=a, b=b: sinkhorn(a, b, blur=SINKHORN_BLUR).item(),
        }
        r = _timed(fns, repeats)
        flops = {
            "matmul": 2 * n * n * DIM,
            "mmd_forward": 3 * 2 * n * n * DIM,
            "sinkhorn_forward": 3 * 2 * n * n * DIM + 4 * n * n * passes,
        }
        row: dict = {"n": n, "m": n, "d": DIM, "sinkhorn_lse_passes": passes}
        for key, v in r.items():
            row[f"{key}_s"] = v["median_s"]
            if key in flops:
                row[f"{key}_gflops"] = flops[key] / v["median_s"] / 1e9
        # an RBF Gram block is a matmul plus an N x N exp: the best fraction mmd can reach
        row["matmul_plus_exp_bound"] = row["matmul_s"] / (row["matmul_s"] + row["exp_nxn_s"])
        for k in ("mmd_forward", "sinkhorn_forward"):
            row[f"{k}_fraction_of_matmul"] = row[f"{k}_gflops"] / row["matmul_gflops"]
        rows.append(row)
        _print(row)
    return rows


# -------------------------------------------------------------------------- memory


def _status_mib(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS: current, VmHWM: peak) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _child_memory(n: int, backward: bool, block: int) -> None:
    """Runs in a fresh process: print resident memory before and the peak during one mmd call.

    The kernel's peak-RSS counter (VmHWM) is reset to the current RSS by writing "5" to
    /proc/self/clear_refs after the data exist, so the peak excludes import-time spikes.
    """
    a, b = _data(n)
    if backward:
        a.requires_grad_(True)
        b.requires_grad_(True)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_mib("VmRSS")
    t0 = time.perf_counter()
    value = mmd(a, b, block_size=block)
    if backward:
        value.backward()
    secs = time.perf_counter() - t0
    peak = _status_mib("VmHWM")
    print(
        json.dumps(
            {"baseline_rss_mib": base, "peak_rss_mib": peak, "seconds": secs, "value": value.item()}
        )
    )


def bench_memory(runs: list[tuple[int, bool]], block: int) -> list[dict]:
    rows = []
    for n, backward in runs:
        cmd = [sys.executable, __file__, "--child-memory", str(n), "--block-size", str(block)]
        if backward:
            cmd.append("--child-backward")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
        res = json.loads(out.stdout.strip().splitlines()[-1])
        row = {
            "n": n,
            "m": n,
            "d": DIM,
            "dtype": "float32",
            "block_size": block,
            "mode": "forward+backward" if backward else "forward",
            **res,
            "delta_rss_mib": res["peak_rss_mib"] - res["baseline_rss_mib"],
            "dense_kernel_matrix_mib": n * n * 4 / 2**20,
            "method": "fresh subprocess; peak = VmHWM from /proc/self/status after resetting it "
            "with /proc/self/clear_refs once the data exist; baseline = VmRSS at that point",
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (see the module docstring)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-call-s", type=float, default=120.0)
    p.add_argument("--block-size", type=int, default=2048)
    p.add_argument("--out", type=Path, default=ROOT / "results" / "distances.json")
    p.add_argument("--clock", choices=("wall", "process"), default="wall")
    p.add_argument(
        "--only",
        nargs="+",
        choices=("mmd", "sinkhorn", "throughput", "memory"),
        help="run these sections only (the others are kept from an existing --out file)",
    )
    p.add_argument("--child-memory", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child-backward", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_memory:
        _child_memory(args.child_memory, args.child_backward, args.block_size)
        return

    start = time.time()
    if args.clock == "process":
        CLOCK[0] = time.process_time
    # warm-up: first calls pay for lazy initialisation
    wa, wb = _data(256)
    for fn in _mmd_fns(wa, wb, 1.0).values():
        fn()
    sinkhorn(wa, wb, blur=SINKHORN_BLUR)
    pot_debiased_sinkhorn(wa, wb, SINKHORN_BLUR**2)

    if args.quick:
        mmd_sizes, sk_sizes, tp_sizes = [1000, 4000], [1000], [1000]
        mem_runs = [(50_000, False), (16_000, True)]
    else:
        mmd_sizes, sk_sizes, tp_sizes = [1000, 4000, 16_000], [1000, 4000, 16_000], [1000, 4000]
        mem_runs = [(50_000, False), (50_000, True)]
    only = set(args.only or ("mmd", "sinkhorn", "throughput", "memory"))
    sections = {
        "mmd_vs_geomloss": ("mmd", lambda: bench_mmd(mmd_sizes, args.repeats, args.max_call_s)),
        "sinkhorn_vs_pot": (
            "sinkhorn",
            lambda: bench_sinkhorn(sk_sizes, args.repeats, args.max_call_s),
        ),
        "throughput": ("throughput", lambda: bench_throughput(tp_sizes, args.repeats)),
        "mmd_peak_memory": ("memory", lambda: bench_memory(mem_runs, args.block_size)),
    }
    old = json.loads(args.out.read_text()) if args.only and args.out.exists() else {}
    result = {
        "meta": {
            "command": " ".join(["python benchmarks/distances.py", *sys.argv[1:]]),
            "max_call_s": args.max_call_s,
            "mode": "quick" if args.quick else "full",
            "repeats": args.repeats,
            "torch": torch.__version__,
            "geomloss": __import__("geomloss").__version__,
            "pot": ot.__version__,
            "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_start": os.getloadavg(),
            "clock": args.clock,
            "sections_run": sorted(only),
        },
    }
    for key, (name, bench) in sections.items():
        if name in only:
            result[key] = bench()
        elif key in old:
            result[key] = old[key]
            meta = old.get("meta", {})
            result["meta"][f"{key}_from"] = meta.get(f"{key}_from") or meta.get("command")
    result["meta"]["loadavg_end"] = os.getloadavg()
    result["meta"]["total_s"] = time.time() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out} in {result['meta']['total_s']:.0f} s")


if __name__ == "__main__":
    main()
