"""The trained models of ``rift-shapes``, built from its config (same size class for all):
RIFT and its ablations, StarGAN v2-style, MUNIT and CycleGAN (no guide)."""

from __future__ import annotations

from typing import Any

from unpaired.engine.task import Task
from unpaired.models.guided import AdaINGenerator, StyleEncoder
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.translation import PatchCritic, ResnetGenerator, init_normal
from unpaired.recipes._names import make_distance
from unpaired.translation.cyclegan import CycleGAN
from unpaired.translation.munit import MUNIT
from unpaired.translation.rift import RIFT
from unpaired.translation.stargan import StarGANv2

#: methods with networks to train; the others (rand, chance, oracle) are references
TRAINED = ("rift", "rift-no-capacity", "rift-no-honesty", "stargan", "munit", "cyclegan")


def _critic(cfg: Any, channels: int) -> PatchCritic:
    return init_normal(PatchCritic(channels, width=cfg.width, n_layers=2))


def _prior(cfg: Any):
    return make_distance("lsgan", critic=lambda: _critic(cfg, 3))


def _generator(cfg: Any, channels: int) -> ResnetGenerator:
    return init_normal(ResnetGenerator(channels, channels, width=cfg.width, n_blocks=cfg.n_blocks))


def build(cfg: Any, method: str) -> Task:
    """The task of a trained ``method`` of :data:`TRAINED` (build under ``ctx.seeded``);
    ``cfg`` is a ``rift-shapes`` config."""
    if method == "munit":

        def ae() -> MUNITAutoencoder:
            return MUNITAutoencoder(
                3, width=cfg.width, blocks=cfg.n_blocks, style_dim=cfg.style_dim, mlp_dim=64
            )

        return MUNIT(ae(), ae(), _prior(cfg), _prior(cfg))
    if method == "stargan":
        g = AdaINGenerator(3, cfg.style_dim, width=cfg.width, n_blocks=cfg.n_blocks)
        e = StyleEncoder(3, cfg.style_dim, width=cfg.width)
        return StarGANv2(g, e, _prior(cfg), _prior(cfg))
    if method == "cyclegan":  # the one-to-one reference: no guide, the paper's weights
        return CycleGAN(_generator(cfg, 3), _generator(cfg, 3), _prior(cfg), _prior(cfg))
    if method not in TRAINED:
        raise ValueError(f"not a trained rift-shapes method: {method!r}")
    cap = method != "rift-no-capacity"
    hon = method != "rift-no-honesty"
    return RIFT(
        _generator(cfg, 4),
        _generator(cfg, 4),
        _prior(cfg),
        _prior(cfg),
        _critic(cfg, 6) if hon else None,
        _critic(cfg, 6) if hon else None,
        cycle=cfg.cycle,
        identity=cfg.identity,
        capacity=cfg.capacity if cap else 0.0,
        style_noise=cfg.style_noise if cap else 0.0,
        guess=cfg.guess if hon else 0.0,
        input_noise=cfg.input_noise if hon else 0.0,
    )
