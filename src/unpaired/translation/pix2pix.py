"""pix2pix: supervised translation from pairs (Isola, Zhu, Zhou, Efros, CVPR 2017).

The self-defense paper's "pix2pix (supervised)" row, the upper bound of what an
unpaired translator could reach, and the frozen photo -> map network ``pix`` of the
IoU-p2p metric (:func:`unpaired.metrics.honesty.p2p_scores`). A generator ``G`` (the
U-Net, :class:`~unpaired.models.unet.UNetGenerator`) maps ``a`` to ``b``; a
**conditional** prior judges the pair ``cat(a, G(a))`` against ``cat(a, b)`` (a PatchGAN
on ``C_a + C_b`` channels in the paper, any :class:`~unpaired.distances.Distance` here):

    L_G = d(cat(a, G(a)), cat(a, b)) + lambda_L1 * ||G(a) - b||_1,   lambda_L1 = 100

(``adversarial`` and ``l1``; the L1 is the mean over values, as in the official code).
The paper's GAN loss is the logistic one (``AdversarialDistance`` default); its critic
is the critic player, trained on the detached pair.

Example:
    >>> import torch
    >>> from unpaired.distances import AdversarialDistance
    >>> from unpaired.models.images import PatchCritic
    >>> from unpaired.models.unet import UNetGenerator
    >>> _ = torch.manual_seed(0)
    >>> task = Pix2Pix(UNetGenerator(3, 1, downs=5, width=4),
    ...                AdversarialDistance(PatchCritic(4, width=4, layers=2)))
    >>> a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 1, 32, 32) * 2 - 1
    >>> sorted(task.generator_losses((a, b))), sorted(task.critic_losses((a, b)))
    (['adversarial', 'l1'], ['critic'])
    >>> tuple(task.translate(a).shape)
    (2, 1, 32, 32)
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from unpaired.distances import Distance
from unpaired.engine.task import Task
from unpaired.models.record import Export
from unpaired.translation.base import Direction, check_direction, image_export

__all__ = ["Pix2Pix"]


def _pair(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a, b)`` from a tuple (``TensorSampler(a, b)``) or a ``{"a", "b"}`` dict."""
    if isinstance(batch, dict):
        return batch["a"], batch["b"]
    a, b = batch
    return a, b


class Pix2Pix(Task):
    """Paired translation ``a -> b`` on the engine; batches ``(a, b)`` (or ``{"a", "b"}``)
    of aligned images (B, C_a, H, W), (B, C_b, H, W) in [-1, 1].

    ``generator``: ``a -> b`` (e.g. a U-Net); ``prior``: a distance on the concatenated
    pairs (B, C_a + C_b, H, W) (a critic with ``C_a + C_b`` input channels);
    ``l1_weight``: lambda_L1 (100). ``direction``: the direction ``generator`` translates
    (``"a2b"``; ``"b2a"`` when trained on ``(b, a)`` pairs), the only one
    :meth:`translate` accepts. ``eval_a``, ``eval_b``: held-out pairs for
    :meth:`evaluate` (``eval/l1``, mean absolute error).
    """

    def __init__(
        self,
        generator: nn.Module,
        prior: Distance,
        *,
        l1_weight: float = 100.0,
        direction: Direction = "a2b",
        eval_a: torch.Tensor | None = None,
        eval_b: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if not l1_weight >= 0:
            raise ValueError(f"l1_weight must be >= 0, got {l1_weight}")
        check_direction(direction)
        if (eval_a is None) != (eval_b is None):
            raise ValueError("give both eval_a and eval_b, or neither")
        self.generator, self.prior = generator, prior
        self.l1_weight, self.direction = float(l1_weight), direction
        self.register_buffer("eval_a", eval_a, persistent=False)
        self.register_buffer("eval_b", eval_b, persistent=False)

    def translate(
        self, x: torch.Tensor, direction: Direction | None = None, guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``G(x)``: (N, C_a, H, W) -> (N, C_b, H, W). pix2pix is one-directional and has no
        style: ``direction`` must be the trained one (or ``None``); a ``guide`` is ignored
        (the interface's rule for deterministic translators). Batch norm and dropout
        follow the module's mode (``eval()`` for a frozen ``pix``)."""
        if direction is not None and direction != self.direction:
            raise ValueError(
                f"this pix2pix translates {self.direction} only, asked for {direction!r}"
            )
        return self.generator(x)

    def exports(self) -> dict[str, Export]:
        """The generator (kind ``"image"``, [-1, 1]) under its direction."""
        return {self.direction: image_export(self.generator)}

    def critic_parameters(self) -> list[nn.Parameter]:
        return list(self.prior.parameters()) if self.prior.learned else []

    def generator_losses(self, batch: Any) -> dict[str, torch.Tensor]:
        a, b = _pair(batch)
        fake = self.generator(a)
        return {
            "adversarial": self.prior.generator_loss(torch.cat([a, fake], 1), torch.cat([a, b], 1)),
            "l1": self.l1_weight * F.l1_loss(fake, b),
        }

    def critic_losses(self, batch: Any) -> dict[str, torch.Tensor]:
        a, b = _pair(batch)
        with torch.no_grad():
            fake = self.generator(a)
        loss = self.prior.critic_loss(torch.cat([a, fake], 1), torch.cat([a, b], 1))
        return {} if loss is None else {"critic": loss}

    def evaluate(self) -> dict[str, float]:
        if self.eval_a is None:
            return {}
        chunks = [
            (self.generator(a) - b).abs().mean((1, 2, 3))
            for a, b in zip(self.eval_a.split(64), self.eval_b.split(64), strict=True)
        ]
        return {"l1": float(torch.cat(chunks).mean())}
