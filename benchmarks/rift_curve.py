"""RIFT's learning curve on one 3D Shapes split, scored on the **val** part (diagnosis and
tuning; nothing here touches the test part).

Trains one ``rift-shapes`` method (the recipe's networks and weights, ``--set`` overrides
of its config) with the engine's player order (critic step, then generator step) and,
every ``--every`` steps, reads ``--pairs`` val (source, guide) pairs per direction with a
measuring classifier (trained once at ``--classifier-steps`` and cached in ``--cache``).
Prints one JSON line per evaluation: ACC over all / shared / source- / target-specific
factors, the oracle's ACC (the classifier's ceiling), the cycle L1, mean|s| and Theorem 1's
bound, how much the output moves when only the guide changes, and where each role's
output levels come from (``level_origins``: source's or guide's level).

    python benchmarks/rift_curve.py --split A --steps 1000 --every 250 --set capacity=1.0
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from unpaired.data.shapes3d import SPLITS, image_source, partition
from unpaired.data.synthetic.shapes3d import LEVELS
from unpaired.evaluation.attributes import (
    FactorTask,
    guided_pairs,
    level_origins,
    oracle_records,
    score_translator,
)
from unpaired.metrics.guided import summarize
from unpaired.models.attributes import FactorClassifier
from unpaired.recipes._rift_models import build
from unpaired.recipes.rift_shapes import Config
from unpaired.translation.rift import RIFT, capacity_bound


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def classifier(cfg: Config, images, steps: int, cache: Path) -> tuple[FactorClassifier, dict]:
    """The measuring classifier (the recipe's architecture), cached by size and steps."""
    path = cache / f"classifier_{cfg.size}px_{cfg.classifier_width}w_{steps}.pt"
    torch.manual_seed(0)
    net = FactorClassifier(LEVELS, size=cfg.size, width=cfg.classifier_width)
    g = torch.Generator().manual_seed(0)
    n = cfg.classifier_images + 2000
    f = torch.stack([torch.randint(0, k, (n,), generator=g) for k in LEVELS], 1)
    held = images(f[-2000:], cfg.size)
    if path.is_file():
        net.load_state_dict(torch.load(path))
    else:
        x = images(f[:-2000], cfg.size)
        task = FactorTask(net, held, f[-2000:])
        opt = torch.optim.Adam(net.parameters(), lr=cfg.classifier_train.lr)
        for step in range(steps):  # the recipe's linear decay to 0 (FactorTask.decay_steps)
            for group in opt.param_groups:
                group["lr"] = cfg.classifier_train.lr * (1 - step / steps)
            i = torch.randint(0, len(x), (cfg.classifier_batch,))
            loss = sum(task.generator_losses((x[i], f[i])).values())
            opt.zero_grad()
            loss.backward()
            opt.step()
        cache.mkdir(parents=True, exist_ok=True)
        torch.save(net.state_dict(), path)
    return net.eval(), FactorTask(net.eval(), held, f[-2000:]).evaluate()


def evaluate(model, cfg: Config, split, train, pairs, images, clf) -> dict:
    model.eval()
    recs, preds = score_translator(model.translate, clf, split, pairs, images, cfg.size)
    s = summarize(recs)
    out = {k: round(s[k], 1) for k in ("acc", "acc_shared", "acc_source", "acc_target")}
    out["per_factor"] = {r.factor + "/" + r.direction: round(100 * r.acc, 1) for r in recs}
    out |= level_origins(split, pairs, preds)  # shared_from_guide: a leak through s
    a, b = train["a"][:64], train["b"][:64]
    with torch.no_grad():
        one = model.translate(a, "a2b", guide=b)
        other = model.translate(a, "a2b", guide=b.roll(1, 0))
        out["guide_effect_l1"] = round(float((one - other).abs().mean()), 4)
        if isinstance(model, RIFT):
            s_a = model.embed(a, "a")
            rec = model.translate(one, "b2a", guide=a)
            out["cycle_l1_a"] = round(float((rec - a).abs().mean()), 4)
            out["mean_abs_s"] = round(float(s_a.abs().mean()), 4)
            out["bound_bits"] = round(capacity_bound(s_a, model.style_noise), 1)
    model.train()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", default="A", choices=sorted(SPLITS))
    p.add_argument("--method", default="rift")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--every", type=int, default=250)
    p.add_argument("--pairs", type=int, default=250)
    p.add_argument("--classifier-steps", type=int, default=2000)
    p.add_argument("--cache", type=Path, default=Path("runs/rift-curve-cache"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    over = dict(kv.split("=", 1) for kv in args.set)
    cfg = Config(**{k: _value(v) for k, v in over.items() if "." not in k})
    if "train.lr" in over:
        cfg = replace(cfg, train=replace(cfg.train, lr=float(over["train.lr"])))
    images = image_source(None, supersample=cfg.supersample)
    split = SPLITS[args.split]
    g = torch.Generator().manual_seed(0)
    train = {}
    for d in ("a", "b"):
        f = partition(split, d)["train"]
        train[d] = images(f[torch.randperm(len(f), generator=g)[: cfg.n_train]], cfg.size)
    pairs = guided_pairs(split, args.pairs, torch.Generator().manual_seed(7), part="val")
    clf, clf_acc = classifier(cfg, images, args.classifier_steps, args.cache)
    oracle = summarize(oracle_records(clf, split, pairs, images, cfg.size))
    head = {"split": args.split, "method": args.method, "set": over, "classifier": clf_acc}
    print(json.dumps({**head, "oracle_acc": round(oracle["acc"], 1)}), flush=True)
    torch.manual_seed(0)
    model = build(cfg, args.method)
    opts = model.configure_optimizers(cfg.train)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        batch = {d: train[d][torch.randint(0, cfg.n_train, (cfg.batch_size,))] for d in train}
        for player, losses in (
            ("critic", model.critic_losses),
            ("generator", model.generator_losses),
        ):
            if player in opts:
                opts[player].zero_grad()
                sum(losses(batch).values()).backward()
                opts[player].step()
        if step % args.every == 0 or step == args.steps:
            row = evaluate(model, cfg, split, train, pairs, images, clf)
            row = {"step": step, "s_per_step": round((time.perf_counter() - t0) / step, 3), **row}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
