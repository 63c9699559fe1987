"""Training the attribute classifiers and scoring guided translators with them.

* :class:`FactorTask`: the cross-entropy of every head of a
  :class:`~unpaired.models.attributes.FactorClassifier` on labelled batches ``(images,
  factors)``; ``evaluate`` reports each factor's held-out accuracy (the classifiers' clean
  accuracy, which every ACC depends on).
* :func:`guided_pairs` and :func:`score_translator`: the (source, guide) test pairs of a
  3D Shapes split in both directions and the ACC records
  (:mod:`unpaired.metrics.guided`) of a translator on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from unpaired.data.shapes3d import ImageSource, Split, partition
from unpaired.data.synthetic.shapes3d import FACTORS, LEVELS, ORDINAL
from unpaired.engine.task import Task
from unpaired.metrics.guided import Record, manipulation_accuracy
from unpaired.models.attributes import FactorClassifier

#: ``translate(x, direction, guide=g)`` of the translation interface.
Translate = Callable[..., torch.Tensor]


class FactorTask(Task):
    """Sum of per-factor cross-entropies of ``net`` on batches ``(images (B, 3, H, W),
    factors (B, K))``, each batch first passed through ``augment``; ``evaluate`` gives
    ``acc_<factor>`` and their minimum ``acc_min`` on the held-out ``images``, ``factors``.
    ``decay_steps``: the learning rate falls linearly from its configured value to 0 at
    that step (0: constant)."""

    def __init__(
        self,
        net: FactorClassifier,
        images: torch.Tensor,
        factors: torch.Tensor,
        *,
        names: Sequence[str] = FACTORS,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        decay_steps: int = 0,
    ) -> None:
        super().__init__()
        if decay_steps < 0:
            raise ValueError(f"decay_steps must be >= 0, got {decay_steps}")
        self.decay_steps = decay_steps
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self._base_lr: list[float] = []
        if factors.shape != (images.shape[0], len(net.levels)) or len(names) != len(net.levels):
            raise ValueError(f"factors must be (N, {len(net.levels)}) with one name per factor")
        self.net, self.names, self.augment = net, tuple(names), augment
        self.register_buffer("held_out_images", images, persistent=False)
        self.register_buffer("held_out_factors", factors, persistent=False)

    def configure_optimizers(self, config: Any) -> dict[str, torch.optim.Optimizer]:
        self._optimizers = super().configure_optimizers(config)
        self._base_lr = [g["lr"] for g in self._optimizers["generator"].param_groups]
        return self._optimizers

    def on_step_start(self, step: int) -> None:
        super().on_step_start(step)
        if self.decay_steps and self._optimizers:
            f = max(0.0, 1.0 - (step - 1) / self.decay_steps)
            for group, lr in zip(
                self._optimizers["generator"].param_groups, self._base_lr, strict=True
            ):
                group["lr"] = lr * f

    def generator_losses(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch
        if self.augment is not None:
            x = self.augment(x)
        logits = self.net.split(self.net(x))
        return {
            f"ce_{n}": F.cross_entropy(z, y[:, k])
            for k, (n, z) in enumerate(zip(self.names, logits, strict=True))
        }

    def evaluate(self) -> dict[str, float]:
        pred = self.net.predict(self.held_out_images)
        acc = (pred == self.held_out_factors).float().mean(0)
        out = {f"acc_{n}": float(a) for n, a in zip(self.names, acc, strict=True)}
        out["acc_min"] = float(acc.min())
        return out


def guided_pairs(
    split: Split, n: int, generator: torch.Generator, *, part: str = "test"
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"a2b": (sources from A, guides from B), "b2a": (sources from B, guides from A)}``,
    ``n`` random pairs each (factor tuples (n, 6)) drawn from ``part`` of the split."""
    a, b = partition(split, "a")[part], partition(split, "b")[part]

    def draw(x: torch.Tensor) -> torch.Tensor:
        return x[torch.randint(0, len(x), (n,), generator=generator)]

    return {"a2b": (draw(a), draw(b)), "b2a": (draw(b), draw(a))}


def score_translator(
    translate: Translate,
    classifier: FactorClassifier,
    split: Split,
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]],
    images: ImageSource,
    size: int,
    *,
    chunk: int = 256,
) -> tuple[list[Record], dict[str, Any]]:
    """ACC records (one per direction and factor) of ``translate(x, direction, guide=g)``
    on ``pairs`` (:func:`guided_pairs`), the outputs read by ``classifier``; also the
    predicted levels per direction (for leakage probes and figures)."""
    records, preds = [], {}
    ordinal = tuple(f in ORDINAL for f in FACTORS)
    for direction, (src, guide) in pairs.items():
        out = []
        for i in range(0, len(src), chunk):
            x, g = images(src[i : i + chunk], size), images(guide[i : i + chunk], size)
            with torch.no_grad():
                out.append(classifier.predict(translate(x, direction, guide=g)))
        pred = torch.cat(out)
        preds[direction] = pred
        roles = tuple(split.role(f, direction) for f in FACTORS)
        acc = manipulation_accuracy(pred, src, guide, roles, ordinal)
        records += [
            Record(split.name, direction, f, r, float(v))
            for f, r, v in zip(FACTORS, roles, acc.tolist(), strict=True)
        ]
    return records, preds


def chance_records(
    split: Split, pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], generator: torch.Generator
) -> list[Record]:
    """ACC records of uniformly random predicted levels on ``pairs`` (the chance level)."""
    records = []
    ordinal = tuple(f in ORDINAL for f in FACTORS)
    for direction, (src, guide) in pairs.items():
        pred = torch.stack(
            [torch.randint(0, n, (len(src),), generator=generator) for n in LEVELS], 1
        )
        roles = tuple(split.role(f, direction) for f in FACTORS)
        acc = manipulation_accuracy(pred, src, guide, roles, ordinal)
        records += [
            Record(split.name, direction, f, r, float(v))
            for f, r, v in zip(FACTORS, roles, acc.tolist(), strict=True)
        ]
    return records


def oracle_records(
    classifier: FactorClassifier,
    split: Split,
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]],
    images: ImageSource,
    size: int,
    *,
    chunk: int = 256,
) -> list[Record]:
    """ACC records of the ideal translation: the rendered ground-truth image (shared
    factors from the source, the others from the guide, whose domain freezes the
    source-specific ones) read by ``classifier``. Its shortfall from 100 is what the
    classifier's errors cost every model."""
    records = []
    ordinal = tuple(f in ORDINAL for f in FACTORS)
    for direction, (src, guide) in pairs.items():
        roles = tuple(split.role(f, direction) for f in FACTORS)
        shared = torch.tensor([r == "shared" for r in roles])
        truth = torch.where(shared, src, guide)
        pred = torch.cat(
            [
                classifier.predict(images(truth[i : i + chunk], size))
                for i in range(0, len(src), chunk)
            ]
        )
        acc = manipulation_accuracy(pred, src, guide, roles, ordinal)
        records += [
            Record(split.name, direction, f, r, float(v))
            for f, r, v in zip(FACTORS, roles, acc.tolist(), strict=True)
        ]
    return records


def level_origins(
    split: Split, pairs: dict[str, tuple[torch.Tensor, torch.Tensor]], preds: dict[str, Any]
) -> dict[str, float]:
    """Where the predicted levels come from, per role (a diagnosis of ACC): over the pairs
    whose source and guide differ in a factor, the % of outputs read at the *source's* level
    (``<role>_from_source``) and at the *guide's* (``<role>_from_guide``). An ideal model
    has shared 100 / 0 and target 0 / 100; a guide-blind one target ~100 from the source.

    >>> from unpaired.data.shapes3d import SPLITS
    >>> src = torch.zeros(4, 6, dtype=torch.long)
    >>> guide = torch.ones(4, 6, dtype=torch.long)
    >>> out = level_origins(SPLITS["A"], {"a2b": (src, guide)}, {"a2b": src.clone()})
    >>> out["shared_from_source"], out["shared_from_guide"], out["target_from_source"]
    (100.0, 0.0, 100.0)
    """
    hits: dict[str, list[int]] = {}
    for direction, (src, guide) in pairs.items():
        pred = preds[direction]
        for k, f in enumerate(FACTORS):
            differ = src[:, k] != guide[:, k]
            h = hits.setdefault(split.role(f, direction), [0, 0, 0])
            h[0] += int((pred[differ, k] == src[differ, k]).sum())
            h[1] += int((pred[differ, k] == guide[differ, k]).sum())
            h[2] += int(differ.sum())
    out = {}
    for role, (s, g, n) in sorted(hits.items()):
        out[f"{role}_from_source"] = round(100 * s / max(n, 1), 1)
        out[f"{role}_from_guide"] = round(100 * g / max(n, 1), 1)
    return out
