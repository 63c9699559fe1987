"""A classifier trained to *measure* outputs, and its accuracy.

Recipes train one on real, labelled images (never on the images they report) and then read
generated or transformed images with it: the bias and keep rates of the biased image
recipes (AIGN Sec. 3.3), the accuracy of ``T(USPS)`` in ``align-digits``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from unpaired._checks import check_shape
from unpaired.engine.task import Task
from unpaired.evaluation.predict import predict
from unpaired.models.record import Export


def accuracy(
    net: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    chunk: int = 1000,
) -> float:
    """Share of ``images`` (N, *) whose arg-max logit under ``net`` is ``labels`` (N,), in
    eval mode, ``chunk`` images at a time (:func:`~unpaired.evaluation.predict`)."""
    check_shape("labels", labels, (images.shape[0],))
    logits = predict(net, images, chunk=chunk)
    return float((logits.argmax(1) == labels.to(logits.device)).float().mean())


class ClassifierTask(Task):
    """Cross-entropy of ``net`` on labelled batches ``(images (B, *), labels (B,))``, each
    batch first passed through ``augment`` (e.g. :func:`~unpaired.data.augment.random_shift`);
    ``evaluate`` reports ``accuracy`` on the held-out ``images`` (N, *), ``labels`` (N,).

    The held-out set moves with the task (non-persistent buffers) and stays out of its
    checkpoints, which hold only ``net.*``. Checkpoints written before this class existed
    (``classifier.*`` keys, or ``val_x`` / ``val_y`` buffers) load unchanged.
    """

    def __init__(
        self,
        net: nn.Module,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        chunk: int = 1000,
    ) -> None:
        super().__init__()
        check_shape("labels", labels, (images.shape[0],))
        self.net = net
        self.augment = augment
        self.chunk = chunk
        self.register_buffer("held_out_images", images, persistent=False)
        self.register_buffer("held_out_labels", labels, persistent=False)
        self.register_load_state_dict_pre_hook(_legacy_keys)

    def generator_losses(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, y = batch
        if self.augment is not None:
            x = self.augment(x)
        return {"cross_entropy": F.cross_entropy(self.net(x), y)}

    def exports(self) -> dict[str, Export]:
        """The classifier (kind ``"classifier"``): images -> logits (B, classes)."""
        shape = tuple(int(s) for s in self.held_out_images.shape[1:])
        return {"classifier": Export(self.net, "classifier", {"input_shape": shape})}

    def evaluate(self) -> dict[str, float]:
        return {
            "accuracy": accuracy(
                self.net, self.held_out_images, self.held_out_labels, chunk=self.chunk
            )
        }


def _legacy_keys(module: nn.Module, state: dict[str, Any], prefix: str, *args: Any) -> None:
    """Rename the keys of the two classifier tasks this one replaced: ``classifier.*`` ->
    ``net.*``; drop their held-out buffers ``val_x`` and ``val_y``."""
    for key in list(state):
        rest = key[len(prefix) :] if key.startswith(prefix) else None
        if rest is None:
            continue
        if rest in ("val_x", "val_y"):
            del state[key]
        elif rest.startswith("classifier."):
            state[prefix + "net." + rest[len("classifier.") :]] = state.pop(key)
