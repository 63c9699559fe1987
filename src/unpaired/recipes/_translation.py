"""Wiring shared by the translation recipes (``cyclegan-digits``, ``cyclegan``): the
table's rows (CycleGAN and its self-defended variants, MUNIT + cycle) built from one
frozen :class:`Nets` config, and the rows of the honesty table.

Rows (``ROWS``): ``cyclegan`` (no defense), ``noise`` (``noise_std``), ``guess``
(``guess_weight``), ``guess-noise`` (both), ``munit-cycle`` (MUNIT with its cycle term,
``munit_cycle``). The CycleGAN rows share generators, priors and weights; only the
defenses differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from unpaired.data.synthetic.maps import PALETTE, render_ids
from unpaired.distances import AdversarialDistance
from unpaired.engine import BatchSource, Task, TensorSampler, Unpaired
from unpaired.errors import ConfigError
from unpaired.metrics.honesty import p2p_scores, segm_scores, translated_labels
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.translation import PatchCritic, ResnetGenerator, init_normal
from unpaired.models.unet import UNetGenerator
from unpaired.translation import Translator, as_callable
from unpaired.translation.cyclegan import CycleGAN, default_prior, guess_critic
from unpaired.translation.munit import MUNIT
from unpaired.translation.pix2pix import Pix2Pix

#: row name -> table label
ROWS: dict[str, str] = {
    "cyclegan": "CycleGAN",
    "noise": "CycleGAN + noise",
    "guess": "CycleGAN + guess",
    "guess-noise": "CycleGAN + guess + noise",
    "munit-cycle": "MUNIT + cycle",
}
DEFENDED = ("noise", "guess", "guess-noise")


@dataclass(frozen=True)
class Nets:
    """Networks and loss weights of every row (defaults: the reference code's at 256 px)."""

    width: int = 64  # ResNet generator's first width
    blocks: int = 9  # residual blocks (9 at 256 px, 6 at 128 px and below)
    down: int = 2
    critic_width: int = 64
    critic_layers: int = 3  # PatchGAN n_layers (70x70 at 3)
    lambda_cycle: float = 10.0  # lambda_a = lambda_b
    identity: float = 0.5  # fraction of lambda (needs equal channel counts)
    noise_std: float = 0.1  # the noise defense's sigma ([-1, 1] units)
    guess_weight: float = 2.0  # the guess defense's weight (reference default)
    pool_size: int = 50
    munit_width: int = 64
    munit_blocks: int = 4
    munit_mlp: int = 256
    style_dim: int = 8
    munit_cycle: float = 10.0  # MUNIT + cycle's cycle weight


def check_rows(rows: Sequence[str]) -> None:
    bad = [r for r in rows if r not in ROWS]
    if bad or not rows:
        raise ConfigError(f"unknown or no rows {list(bad)}; choose from {', '.join(ROWS)}")


def munit_prior(channels: int, nets: Nets) -> AdversarialDistance:
    """MUNIT's domain prior: the same LSGAN PatchGAN as CycleGAN's."""
    return default_prior(channels, width=nets.critic_width, n_layers=nets.critic_layers)


def make_translator(
    row: str,
    nets: Nets,
    channels_a: int,
    channels_b: int,
    *,
    lr_decay: tuple[int, int] | None = None,
) -> Task:
    """The task of ``row`` (a key of ``ROWS``), freshly initialised from torch's global RNG
    (build it under ``ctx.seeded(row)``)."""
    check_rows([row])
    if row == "munit-cycle":

        def auto(c: int) -> MUNITAutoencoder:
            net = MUNITAutoencoder(
                c,
                width=nets.munit_width,
                down=nets.down,
                blocks=nets.munit_blocks,
                style_dim=nets.style_dim,
                mlp_dim=nets.munit_mlp,
            )
            return init_normal(net)

        return MUNIT(
            auto(channels_a),
            auto(channels_b),
            munit_prior(channels_a, nets),
            munit_prior(channels_b, nets),
            cycle_weight=nets.munit_cycle,
        )

    def gen(c_in: int, c_out: int) -> ResnetGenerator:
        net = ResnetGenerator(c_in, c_out, width=nets.width, n_blocks=nets.blocks, n_down=nets.down)
        return init_normal(net)

    def prior(c: int) -> AdversarialDistance:
        return default_prior(c, width=nets.critic_width, n_layers=nets.critic_layers)

    guess = row in ("guess", "guess-noise")
    return CycleGAN(
        gen(channels_a, channels_b),
        gen(channels_b, channels_a),
        prior(channels_a),
        prior(channels_b),
        lambda_a=nets.lambda_cycle,
        lambda_b=nets.lambda_cycle,
        identity=nets.identity if channels_a == channels_b else 0.0,
        noise_std=nets.noise_std if row in ("noise", "guess-noise") else 0.0,
        guess_weight=nets.guess_weight if guess else 0.0,
        guess_a=guess_critic(channels_a, width=nets.critic_width, n_layers=nets.critic_layers)
        if guess
        else None,
        guess_b=guess_critic(channels_b, width=nets.critic_width, n_layers=nets.critic_layers)
        if guess
        else None,
        pool_size=nets.pool_size,
        lr_decay=lr_decay,
    )


# ------------------------------------------------------------------------ maps rows
# Builders ``(cfg, data) -> (task, batches)`` of cyclegan-maps' extra rows; ``cfg`` is
# that recipe's Config (``size``, ``batch_size``, ``nets.gen_width``, ``nets.n_blocks``,
# ``nets.critic_width``, ``nets.critic_layers``), ``data`` a ``MapSplits``.


def maps_munit(cfg: Any, data: Any) -> tuple[Task, BatchSource]:
    """MUNIT + cycle on the unpaired photos and maps, the CycleGAN rows' widths and priors."""
    n = cfg.nets

    def auto() -> MUNITAutoencoder:
        net = MUNITAutoencoder(3, width=n.gen_width, blocks=n.n_blocks, mlp_dim=4 * n.gen_width)
        return init_normal(net)

    def prior() -> AdversarialDistance:
        return default_prior(3, width=n.critic_width, n_layers=n.critic_layers)

    task = MUNIT(auto(), auto(), prior(), prior(), cycle_weight=Nets.munit_cycle)
    batches = Unpaired(
        {
            "a": TensorSampler(data.photos, batch_size=cfg.batch_size),
            "b": TensorSampler(data.maps, batch_size=cfg.batch_size),
        }
    )
    return task, batches


def maps_pix2pix(cfg: Any, data: Any) -> tuple[Task, BatchSource]:
    """pix2pix photo -> map on the training photos and *their own* maps (the supervised
    upper bound; also the frozen ``pix`` of IoU p2p): a U-Net down to 1x1 for power-of-two sizes (batch norm,
    dropout), a conditional PatchGAN on (photo, map) pairs with the logistic loss, L1 100."""
    n = cfg.nets
    downs = max(2, (cfg.size & -cfg.size).bit_length() - 1)  # the largest 2^k dividing size
    gen = init_normal(UNetGenerator(3, 3, downs=downs, width=n.gen_width))
    critic = init_normal(PatchCritic(6, width=n.critic_width, n_layers=n.critic_layers))
    pairs = render_ids(data.photo_ids, size=cfg.size)
    return Pix2Pix(gen, AdversarialDistance(critic)), TensorSampler(
        pairs.photo, pairs.map, batch_size=cfg.batch_size
    )


@torch.no_grad()
def iou_p2p(
    pix: Translator, translator: Translator, maps: torch.Tensor, photos: torch.Tensor
) -> float:
    """IoU p2p: mean IoU of ``q(pix(b2a(map_i)))`` against ``q(pix(photo_i))`` (the slide's
    ``IoU(pix(G_A(B_i)), pix(A_i))``; ``pix`` a frozen photo -> map network)."""
    p = as_callable(pix, "a2b")
    reference = translated_labels(p, photos, PALETTE)
    return p2p_scores(p, as_callable(translator, "b2a"), maps, reference, PALETTE).mean_iou


@torch.no_grad()
def pix2pix_scores(pix: Translator, photos: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """acc segm / IoU segm of the supervised photo -> map network (it has no way back, so
    no RH, SN or IoU p2p)."""
    s = segm_scores(as_callable(pix, "a2b"), photos, labels, PALETTE)
    return {"acc_segm": s.pixel_accuracy, "iou_segm": s.mean_iou}
