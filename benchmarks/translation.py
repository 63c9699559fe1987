"""Training steps/s of our CycleGAN (engine + ``translation.CycleGAN``) vs a bare PyTorch
loop with the same networks and optimizers; peak memory of each.

Both do the same work per step: draw a batch of A and B images with a
``torch.Generator``, translate both ways (cycle and identity), one Adam step of the two
generators on LSGAN + cycle L1 + identity L1, one Adam step of the two PatchGAN critics
on image-pool fakes. The bare loop is junyanz/pytorch-CycleGAN-and-pix2pix's order
(generators, then critics on the same translations); ours runs the critic step first on
the previous generator step's translations (the same images, see
``translation/cyclegan.py``). Runs alternate (ours, bare, ours, ...) and each is timed
by this process's CPU time (``--clock process``, robust on a shared machine) or wall
time; the figure is the ratio of medians. Peak memory: each mode once more in a fresh
subprocess, its peak resident set size (``ru_maxrss``, interpreter and torch included:
compare the two modes, not the absolute value with other benchmarks). CPU only.

    python benchmarks/translation.py [--repeats 5] [--steps 15] [--sizes 64] [--batches 1 4]

Writes ``benchmarks/results/translation.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from unpaired.engine import TensorSampler, TrainConfig, Unpaired, fit
from unpaired.models.translation import ResnetGenerator, init_normal
from unpaired.translation import CycleGAN, ImagePool, default_prior

CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
WIDTH, BLOCKS, CRITIC_WIDTH = 8, 2, 16


def nets(size: int) -> CycleGAN:
    torch.manual_seed(0)
    g = [init_normal(ResnetGenerator(3, 3, width=WIDTH, n_blocks=BLOCKS)) for _ in "ab"]
    layers = 3 if size >= 64 else 2
    d = [default_prior(3, width=CRITIC_WIDTH, n_layers=layers) for _ in "ab"]
    return CycleGAN(g[0], g[1], d[0], d[1])


def data(size: int, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1, torch.rand(
        n, 3, size, size, generator=g
    ) * 2 - 1


def bare(task: CycleGAN, a: torch.Tensor, b: torch.Tensor, batch: int, steps: int) -> None:
    """junyanz's optimize_parameters with the task's networks, hand-written."""
    gen = [*task.g_ab.parameters(), *task.g_ba.parameters()]
    crit = [*task.prior_a.parameters(), *task.prior_b.parameters()]
    opt_g = torch.optim.Adam(gen, lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(crit, lr=2e-4, betas=(0.5, 0.999))
    pool_a, pool_b = ImagePool(50), ImagePool(50)
    da, db = task.prior_a.critic, task.prior_b.critic
    g = torch.Generator()
    for step in range(steps):
        g.manual_seed(step)
        ra = a[torch.randint(0, a.shape[0], (batch,), generator=g)]
        rb = b[torch.randint(0, b.shape[0], (batch,), generator=g)]
        fake_b, fake_a = task.g_ab(ra), task.g_ba(rb)
        rec_a, rec_b = task.g_ba(fake_b), task.g_ab(fake_a)
        pb, pa = db(fake_b), da(fake_a)
        loss_g = (
            F.mse_loss(pb, torch.ones_like(pb))
            + F.mse_loss(pa, torch.ones_like(pa))
            + 10 * F.l1_loss(rec_a, ra)
            + 10 * F.l1_loss(rec_b, rb)
            + 5 * F.l1_loss(task.g_ab(rb), rb)
            + 5 * F.l1_loss(task.g_ba(ra), ra)
        )
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        loss_d = 0.0
        for d, real, fake in ((db, rb, pool_b.query(fake_b)), (da, ra, pool_a.query(fake_a))):
            pr, pf = d(real), d(fake.detach())
            loss_d = loss_d + 0.5 * (
                F.mse_loss(pr, torch.ones_like(pr)) + F.mse_loss(pf, torch.zeros_like(pf))
            )
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()  # type: ignore[union-attr]
        opt_d.step()


def ours(task: CycleGAN, a: torch.Tensor, b: torch.Tensor, batch: int, steps: int) -> None:
    source = Unpaired(
        {"a": TensorSampler(a, batch_size=batch), "b": TensorSampler(b, batch_size=batch)}
    )
    cfg = TrainConfig(steps=steps, lr=2e-4, betas=(0.5, 0.999), log_every=10_000)
    fit(task, source, cfg, progress=False)


MODES = {"ours": ours, "bare": bare}


def _timed(mode: str, size: int, batch: int, steps: int, clock) -> float:
    task = nets(size)
    a, b = data(size)
    t0 = clock()
    MODES[mode](task, a, b, batch, steps)
    return steps / (clock() - t0)


def _peak_child(mode: str, size: int, batch: int, steps: int) -> None:
    """Subprocess body: print this process's peak resident set size after ``steps`` steps
    of ``mode`` (MiB; includes the interpreter and torch, the same for both modes)."""
    torch.set_num_threads(1)
    task = nets(size)
    a, b = data(size)
    MODES[mode](task, a, b, batch, steps)
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _peak(mode: str, size: int, batch: int, steps: int) -> float:
    cmd = [sys.executable, __file__, "--child", mode, str(size), str(batch), str(steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_mib"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--sizes", type=int, nargs="+", default=[64])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    p.add_argument("--clock", choices=sorted(CLOCKS), default="process")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "translation.json"
    )
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        mode, size, batch, steps = args.child
        _peak_child(mode, int(size), int(batch), int(steps))
        return
    torch.set_num_threads(1)
    clock = CLOCKS[args.clock]
    results = []
    for size in args.sizes:
        for batch in args.batches:
            runs: dict[str, list[float]] = {m: [] for m in MODES}
            _timed("ours", size, batch, 2, clock)  # warm-up
            for _ in range(args.repeats):
                for m in MODES:
                    runs[m].append(_timed(m, size, batch, args.steps, clock))
            med = {m: statistics.median(v) for m, v in runs.items()}
            row = {
                "size": size,
                "batch": batch,
                "steps_per_s": med,
                "ratio_ours_over_bare": med["ours"] / med["bare"],
                "runs": runs,
            }
            if not args.no_memory:
                row["peak_mib"] = {m: _peak(m, size, batch, args.steps) for m in MODES}
            print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
            results.append(row)
    payload = {
        "benchmark": "translation",
        "what": "CycleGAN training steps/s, engine + translation.CycleGAN vs a bare loop",
        "nets": {"gen_width": WIDTH, "n_blocks": BLOCKS, "critic_width": CRITIC_WIDTH},
        "clock": args.clock,
        "repeats": args.repeats,
        "steps": args.steps,
        "threads": 1,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "results": results,
        "goal_ratio_ge_0.95": all(r["ratio_ours_over_bare"] >= 0.95 for r in results),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
