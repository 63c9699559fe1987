"""Steps/s of the training engine vs a bare hand-written PyTorch loop, same model.

Both loops do the same work per step: sample a batch with a ``torch.Generator``,
forward, backward, Adam step (two-player: one critic update then one generator update).
The engine adds its per-step reseeding, loss/gradient finiteness check, progress and
logging bookkeeping. Runs alternate (engine, bare, engine, bare, ...) so that machine
noise hits both alike; the figure is the ratio of medians.

    python benchmarks/engine_overhead.py [--repeats 7] [--steps 300] [--compare OLD_LOOP.py]

``--compare`` also times the ``fit`` of another version of ``unpaired/engine/loop.py``
in the same alternation (e.g. the code before a change:
``git show REV:src/unpaired/engine/loop.py > /tmp/old_loop.py``), so that a change to the
engine is measured side by side with its predecessor. ``--clock process``
times each run by this process's CPU time instead of wall time: on a machine busy with
other work, waiting for a core then counts for neither loop. Writes
``benchmarks/results/engine_overhead.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

from unpaired.engine import Task, TensorSampler, TrainConfig, Unpaired, fit, make_fabric

DIM, HIDDEN, BATCH = 64, 256, 128
CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
_clock = CLOCKS["wall"]


def mlp(out: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(DIM, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, out),
    )


class Regression(Task):
    def __init__(self) -> None:
        super().__init__()
        self.net = mlp(DIM)

    def generator_losses(self, batch):
        x, y = batch
        return {"mse": (self.net(x) - y).pow(2).mean()}


class GAN(Task):
    def __init__(self) -> None:
        super().__init__()
        self.gen = mlp(DIM)
        self.critic = mlp(1)

    def critic_parameters(self):
        return list(self.critic.parameters())

    def generator_losses(self, batch):
        return {"adv": nn.functional.softplus(-self.critic(self.gen(batch["x"]))).mean()}

    def critic_losses(self, batch):
        with torch.no_grad():
            fake = self.gen(batch["x"])
        return {
            "bce": nn.functional.softplus(self.critic(fake)).mean()
            + nn.functional.softplus(-self.critic(batch["m"])).mean()
        }


def _data(kind: str):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4096, DIM, generator=g)
    if kind == "regression":
        return TensorSampler(x, torch.tanh(x), batch_size=BATCH)
    return Unpaired(
        {
            "x": TensorSampler(x, batch_size=BATCH),
            "m": TensorSampler(torch.randn(4096, DIM, generator=g) + 1, batch_size=BATCH),
        }
    )


def bare(kind: str, steps: int) -> float:
    """The loop a user would write by hand; returns steps/s."""
    torch.manual_seed(0)
    task = Regression() if kind == "regression" else GAN()
    data = _data(kind)
    if kind == "regression":
        opt = torch.optim.Adam(task.parameters(), lr=1e-3, betas=(0.5, 0.999))
    else:
        opt_g = torch.optim.Adam(task.gen.parameters(), lr=1e-3, betas=(0.5, 0.999))
        opt_c = torch.optim.Adam(task.critic.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(0)
    t0 = _clock()
    for _ in range(steps):
        if kind == "regression":
            loss = task.generator_losses(data.sample(g))["mse"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        else:
            closs = task.critic_losses(data.sample(g))["bce"]
            opt_c.zero_grad(set_to_none=True)
            closs.backward()
            opt_c.step()
            gloss = task.generator_losses(data.sample(g))["adv"]
            opt_g.zero_grad(set_to_none=True)
            gloss.backward()
            opt_g.step()
    return steps / (_clock() - t0)


def engine(kind: str, steps: int, fabric, *, check_finite: bool, loop=None) -> float:
    """Steps/s of ``fit`` (of ``loop``, another version of the loop module, if given)."""
    torch.manual_seed(0)
    task = Regression() if kind == "regression" else GAN()
    config_cls, fit_fn = (TrainConfig, fit) if loop is None else (loop.TrainConfig, loop.fit)
    cfg = config_cls(
        steps=steps, lr=1e-3, log_every=50, checkpoint_every=10**9, check_finite=check_finite
    )
    t0 = _clock()
    fit_fn(task, _data(kind), cfg, fabric=fabric, progress=False)
    return steps / (_clock() - t0)


def _time(what: str, kind: str, steps: int, fabric, old) -> float:
    if what == "bare":
        return bare(kind, steps)
    check = what != "engine_no_check"
    return engine(kind, steps, fabric, check_finite=check, loop=old if what == "compared" else None)


def _load_loop(path: Path):
    spec = importlib.util.spec_from_file_location("_compared_loop", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (1: least noisy)"
    )
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "engine_overhead.json"
    )
    ap.add_argument(
        "--compare", type=Path, default=None, help="another loop.py to time side by side"
    )
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time, or this process's CPU time (robust to other load on the machine)",
    )
    args = ap.parse_args()
    global _clock
    _clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    fabric = make_fabric(1, accelerator="cpu")
    fabric.launch()
    old = None if args.compare is None else _load_loop(args.compare)
    results = {}
    for kind in ("regression", "gan"):
        timed = ["engine", "bare", "engine_no_check"] + ([] if old is None else ["compared"])
        runs: dict[str, list[float]] = {k: [] for k in timed}
        for k in timed:  # warm-up
            _time(k, kind, 20, fabric, old)
        for _ in range(args.repeats):
            for k in timed:
                runs[k].append(_time(k, kind, args.steps, fabric, old))
        med = {k: statistics.median(v) for k, v in runs.items()}
        results[kind] = {
            "steps_per_s_median": med,
            "steps_per_s_all": runs,
            "ratio_engine_over_bare": med["engine"] / med["bare"],
            "ratio_engine_no_check_over_bare": med["engine_no_check"] / med["bare"],
        }
        line = (
            f"{kind:10s} bare {med['bare']:.0f} it/s  engine {med['engine']:.0f} it/s "
            f"(ratio {med['engine'] / med['bare']:.3f}; without finiteness check "
            f"{med['engine_no_check'] / med['bare']:.3f})"
        )
        if old is not None:
            results[kind]["ratio_compared_over_bare"] = med["compared"] / med["bare"]
            results[kind]["ratio_engine_over_compared"] = med["engine"] / med["compared"]
            line += (
                f"; compared loop {med['compared']:.0f} it/s "
                f"(ratio {med['compared'] / med['bare']:.3f})"
            )
        print(line)
    payload = {
        "benchmark": "engine_overhead",
        "goal": "ratio_engine_over_bare >= 0.95",
        "model": f"MLP {DIM}-{HIDDEN}-{HIDDEN}-out, batch {BATCH}, Adam; gan = generator + critic MLPs",
        "steps_per_run": args.steps,
        "repeats": args.repeats,
        "torch_threads": args.threads,
        "clock": args.clock,
        "torch": torch.__version__,
        "compared_loop": None if args.compare is None else str(args.compare),
        "machine": platform.processor() or platform.machine(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
