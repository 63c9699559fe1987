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

from unpaired.distances import AdversarialDistance
from unpaired.engine import Task
from unpaired.errors import ConfigError
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.translation import ResnetGenerator, init_normal
from unpaired.translation.cyclegan import CycleGAN, default_prior, guess_critic
from unpaired.translation.munit import MUNIT

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
