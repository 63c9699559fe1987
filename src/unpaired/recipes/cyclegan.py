"""``cyclegan``: unpaired translation between two folders of your own images.

``unpaired run cyclegan --set data.root=DIR`` with DIR in the CycleGAN layout of
junyanz/pytorch-CycleGAN-and-pix2pix (``trainA/``, ``trainB/``: the two domains,
unpaired; ``testA/``, ``testB/`` optional: images to translate; ``unpaired data check
--images DIR`` explains and checks it). Defaults suit 128-256 px photos (resize to
``data.load_size`` 286, random 256 crop and flip, 9-block ResNet generators, 70x70
PatchGAN priors, LSGAN, pool 50, lambda 10, identity 0.5, Adam 2e-4 / (0.5, 0.999), batch
1, the learning rate decaying linearly to 0 over the second half of the steps);
``--quick`` proves the pipeline in minutes at 64 px with tiny networks.

Rows (``rows``): ``cyclegan`` (no defense) and ``guess-noise`` (both self-defenses of
Bashkirova et al., NeurIPS'19) by default; also ``noise``, ``guess``, ``munit-cycle``.
For each row the run directory gets

* ``translated/<row>/a2b/<name>.png`` (every ``testA`` image translated into B) and
  ``translated/<row>/b2a/<name>.png`` (``testB`` into A), each folder written whole or
  not at all;
* the honesty scores that apply without a palette
  (:class:`~unpaired.translation.scores.CycleEvaluator`): SN(sigma) and the cycle error of
  both cycles, on up to ``data.max_test`` test images per domain (the training images
  when a test folder is missing, said so in the report). A row whose SN is far above
  the others' hides its input in its translations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import torch

from unpaired.data.images import (
    CycleGANFolders,
    FolderSampler,
    ImageFolder,
    ImageTransform,
    cyclegan_folders,
    write_image,
)
from unpaired.engine import TrainConfig, Unpaired
from unpaired.errors import ConfigError
from unpaired.inference._output import atomic_dir
from unpaired.metrics.honesty import SIGMAS
from unpaired.recipes._translation import ROWS, Nets, check_rows, make_translator
from unpaired.recipes.base import RunContext
from unpaired.report import Report, Table
from unpaired.translation import Translator, translate_batched
from unpaired.translation.scores import CycleEvaluator


@dataclass(frozen=True)
class Data:
    root: str = ""  # the CycleGAN-layout folder (required)
    channels: Literal[1, 3] = 3
    load_size: int | None = 286
    crop_size: int | None = 256
    resize: Literal["square", "shorter_side"] = "square"
    flip: bool = True
    in_memory: bool = False  # decode every training image once (small folders)
    max_test: int = 200  # test images per domain scored (all are translated)


def _train() -> TrainConfig:
    return TrainConfig(
        steps=20000, lr=2e-4, betas=(0.5, 0.999), log_every=100, checkpoint_every=1000
    )


@dataclass(frozen=True)
class Config:
    data: Data = field(default_factory=Data)
    rows: tuple[str, ...] = ("cyclegan", "guess-noise")
    batch_size: int = 1
    nets: Nets = field(default_factory=Nets)
    train: TrainConfig = field(default_factory=_train)
    decay_from: float = 0.5  # share of the steps after which the learning rate decays to 0

    QUICK: ClassVar[dict] = {
        "data.load_size": 72,
        "data.crop_size": 64,
        "data.max_test": 8,
        "nets.width": 8,
        "nets.blocks": 2,
        "nets.critic_width": 8,
        "nets.munit_width": 8,
        "nets.munit_blocks": 1,
        "nets.munit_mlp": 16,
        "train.steps": 10,
        "train.log_every": 5,
    }

    def __post_init__(self) -> None:
        check_rows(self.rows)
        if not 0 <= self.decay_from < 1:
            raise ConfigError(f"decay_from must be in [0, 1), got {self.decay_from}")
        if self.batch_size < 1 or self.data.max_test < 1:
            raise ConfigError("batch_size and data.max_test must be >= 1")


def _folders(cfg: Config) -> CycleGANFolders:
    d = cfg.data
    if not d.root:
        raise ConfigError(
            "set data.root=DIR (a folder with trainA/ and trainB/; `unpaired data check "
            "--images DIR` explains the layout)"
        )
    t = ImageTransform(d.load_size, d.crop_size, d.resize, flip=d.flip)
    return cyclegan_folders(
        Path(d.root).expanduser(), channels=d.channels, transform=t, in_memory=d.in_memory
    )


def check(cfg: Config) -> None:
    """Called by the runner before the run directory is written: the folders exist, hold
    images, and every header reads (the error names the file)."""
    _folders(cfg)


def _scored(test: ImageFolder | None, train: ImageFolder, n: int) -> tuple[torch.Tensor, str]:
    """Up to ``n`` test images (or training images without a test folder), test view."""
    folder = test if test is not None else train
    images = folder.batch(range(min(n, len(folder))))
    return images, ("test" if test is not None else "train (no test folder)")


def _write(task: Translator, folder: ImageFolder | None, out: Path, direction: str) -> int:
    """Every image of ``folder`` translated, as PNGs named like their sources."""
    if folder is None:
        return 0
    with atomic_dir(out) as tmp:
        for x, paths in folder.batches(8):
            for y, p in zip(translate_batched(task, x, direction), paths, strict=True):  # type: ignore[arg-type]
                rel = p.relative_to(folder.root).with_suffix(".png")
                write_image(y, tmp / rel)
    return len(folder)


def run(cfg: Config, ctx: RunContext) -> Report:
    f = _folders(cfg)
    c = cfg.data.channels
    a, where_a = _scored(f.test_a, f.train_a, cfg.data.max_test)
    b, where_b = _scored(f.test_b, f.train_b, cfg.data.max_test)
    evaluator = CycleEvaluator(a, b)
    data = Unpaired(
        {
            "a": FolderSampler(f.train_a, batch_size=cfg.batch_size),
            "b": FolderSampler(f.train_b, batch_size=cfg.batch_size),
        }
    )
    decay = (int(cfg.decay_from * cfg.train.steps), cfg.train.steps)
    scores: dict[str, dict[str, float]] = {}
    written: dict[str, dict[str, int]] = {}
    for row in cfg.rows:
        with ctx.seeded(row):
            task = make_translator(
                row, cfg.nets, c, c, lr_decay=decay if row != "munit-cycle" else None
            )
        ctx.fit(row, task, data, cfg.train)
        task.eval()
        scores[row] = evaluator(task)  # type: ignore[arg-type]
        if ctx.is_main:
            written[row] = {
                d: _write(task, folder, ctx.out / "translated" / row / d, d)  # type: ignore[arg-type]
                for d, folder in (("a2b", f.test_a), ("b2a", f.test_b))
            }
    cols = [f"sn_{k}_{s:g}" for k in "ab" for s in SIGMAS] + ["cycle_a", "cycle_b"]
    table = Table(
        "Honesty without a palette: SN(sigma) and cycle error of both cycles",
        ["method", *cols],
        [[ROWS[r], *[s[k] for k in cols]] for r, s in scores.items()],
        note=(
            f"a: the cycle from A ({len(a)} {where_a} images), b: from B ({len(b)} {where_b} "
            "images). SN(sigma) = mean ||back(there(x) + N(0, sigma^2)) - back(there(x))||_2, "
            "cycle error = mean ||back(there(x)) - x||_2, per image in [-1, 1] units. A "
            "translator with a much larger SN than the others hides its input in its output."
        ),
    )
    shown = {
        r: {d: f"translated/{r}/{d}/ ({n} images)" for d, n in w.items() if n}
        for r, w in written.items()
    }
    return Report(
        title=f"cyclegan: {f.root}",
        summary=(
            f"trainA {len(f.train_a)} and trainB {len(f.train_b)} images, {cfg.train.steps} "
            f"steps of batch {cfg.batch_size} per row; translations: "
            + (
                "; ".join(
                    f"{ROWS[r]}: {', '.join(v.values()) or 'no test folders'}"
                    for r, v in shown.items()
                )
                or "none"
            )
        ),
        tables=[table],
        metrics={"scores": scores, "translated": written},
    )
