"""Tiny trained runs written by the tests themselves (a few engine steps each)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from unpaired.engine import Task, TrainConfig
from unpaired.engine.session import Session

sys.path.insert(0, str(Path(__file__).parents[1] / "aign"))
from _tiny import image_task, lifting_task, sfm_task


class Fixed:
    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.batch


def train(
    out: Path, models: dict[str, tuple[Task, Any]], *, steps: int = 2, recipe: str = "tiny"
) -> Path:
    """Fit each ``{name: (task, batch)}`` for ``steps`` steps into the run ``out`` (with a
    ``config.yaml`` like a recipe's)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump({"recipe": recipe, "seed": 0, "config": {}}))
    with Session.open(out, progress=False) as s:
        for name, (task, batch) in models.items():
            s.fit(
                name, task, Fixed(batch), TrainConfig(steps=steps, log_every=1, checkpoint_every=1)
            )
    return out


def pose_run(out: Path) -> Path:
    return train(out, {"lifter": lifting_task(prior="mmd")})


def image_run(out: Path) -> Path:
    return train(out, {"sr": image_task("sr"), "inpaint": image_task("inpaint")})


def sfm_run(out: Path) -> Path:
    return train(out, {"sfm": sfm_task()})


def guided_tasks() -> dict[str, tuple[Task, Any]]:
    """Tiny guided translators: StarGAN v2, RIFT, MUNIT (3 channels) and PuppetGAN,
    Cycle-VAE (1 channel), all on 16x16 images, with a batch each."""
    from unpaired.distances import AdversarialDistance, MeanDistance, mlp_critic
    from unpaired.models.guided import AdaINGenerator, StyleEncoder
    from unpaired.models.munit import MUNITAutoencoder
    from unpaired.models.puppet import SplitDecoder, SplitEncoder
    from unpaired.models.translation import PatchCritic, ResnetGenerator
    from unpaired.translation import MUNIT
    from unpaired.translation.cyclevae import CycleVAE
    from unpaired.translation.puppetgan import PuppetGAN
    from unpaired.translation.rift import RIFT
    from unpaired.translation.stargan import StarGANv2

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    rgb = {k: torch.rand(4, 3, 16, 16, generator=g) * 2 - 1 for k in "ab"}
    grey = {k: torch.rand(4, 1, 16, 16, generator=g) * 2 - 1 for k in ("a", "b1", "b2", "b3")}

    def lsgan(c: int = 3) -> AdversarialDistance:
        return AdversarialDistance(PatchCritic(c, width=4, n_layers=2), loss="least-squares")

    def gen() -> ResnetGenerator:
        return ResnetGenerator(4, 4, width=4, n_blocks=1)

    def munit_net() -> MUNITAutoencoder:
        return MUNITAutoencoder(3, width=4, blocks=1, mlp_dim=8, style_dim=4)

    def puppet_priors() -> list[AdversarialDistance]:
        return [AdversarialDistance(mlp_critic(256, hidden=8), loss="least-squares") for _ in "ab"]

    return {
        "stargan": (
            StarGANv2(
                AdaINGenerator(3, 4, width=4, n_blocks=1), StyleEncoder(3, 4, width=4),
                lsgan(), lsgan(),
            ),
            rgb,
        ),
        "rift": (RIFT(gen(), gen(), lsgan(), lsgan(), guess=0.0), rgb),
        "munit": (MUNIT(munit_net(), munit_net(), MeanDistance(), MeanDistance()), rgb),
        "puppet": (
            PuppetGAN(
                SplitEncoder(size=16, attr_dim=4, rest_dim=4, width=4),
                *(SplitDecoder(4, 4, size=16, width=4) for _ in "ab"), *puppet_priors(),
            ),
            grey,
        ),
        "cyclevae": (
            CycleVAE(
                SplitEncoder(size=16, attr_dim=4, rest_dim=8, width=4),
                *(SplitDecoder(4, 4, size=16, width=4) for _ in "ab"),
            ),
            grey,
        ),
    }  # fmt: skip


def guided_run(out: Path) -> Path:
    return train(out, guided_tasks())


def multiview_run(
    out: Path, *, stages: int = 2, views: int = 3, prefix: str = "s2-stage", recipe: str = "tiny"
) -> Path:
    """A monocular lifter and ``stages`` MetaPose S2 stages trained on it with ``views``
    views (the recipe's layout: one fit per stage, ``<prefix><k>``, each exporting the
    lifter and the stages so far)."""
    from unpaired.data.synthetic.skeletons import sample_poses
    from unpaired.multiview.data import lift_views, make_views, views_state
    from unpaired.multiview.metapose import MetaPoseS2, MetaPoseTask
    from unpaired.multiview.rigs import Noise2D, RigDistribution

    lifter_task, lifter_batch = lifting_task(prior="mmd")
    train(out, {"lifter": (lifter_task, lifter_batch)}, recipe=recipe)
    lifter = lifter_task.generator.eval()
    g = torch.Generator().manual_seed(0)
    rigs = RigDistribution(views=max(views, 4))
    seen = make_views(sample_poses(12, generator=g), rigs, Noise2D(), generator=g)
    x2d, target = seen.box_2d("noisy", views)
    mono = lift_views(lifter, seen.pixels("noisy")[:, :views], seen.rig.principal[:, :views])
    batch = {**views_state(mono, x2d.float()), "target": target.float()}
    model = MetaPoseS2(hidden=8)
    for stage in range(stages):  # a task per stage, made when its turn comes (it freezes the rest)
        torch.manual_seed(stage)
        model.add_stage()
        task = MetaPoseTask(model, stage, batch, lifter=lifter)
        train(out, {f"{prefix}{stage}": (task, batch)}, recipe=recipe)
    return out
