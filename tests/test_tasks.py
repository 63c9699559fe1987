"""Contract of the ``Task`` interface (engine/task.py), checked on every task of the library.

For every task, on a tiny batch:

* ``generator_losses`` (and ``critic_losses`` for a two-player task) are a non-empty dict
  of named, finite, 0-dim tensors;
* the players are disjoint, the generator player has parameters, and each loss reaches
  its own player: the generator's total has a gradient on some generator parameter, the
  critic's total on some critic parameter and on *no* generator parameter (the critic
  sees the generator's outputs detached; the generator's loss may flow through the
  critic, whose parameters the engine leaves to the critic's own step);
* one engine step (:func:`unpaired.engine.fit`: a critic update, then a generator
  update) moves both players' parameters;
* the losses are a function of the batch and torch's global RNG (which the engine
  reseeds every step, for exact resume): reseeding gives the same values;
* ``evaluate`` returns finite floats that do not depend on the global RNG.

The AIGN families' builders live in ``tests/aign/_tiny.py`` (``TASKS``); the alignment
ones are below.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from unpaired.alignment import (
    AlignTask,
    AutoencoderTask,
    DensityTask,
    KnownMapReplicas,
    Replicas,
    ScoredAlignTask,
)
from unpaired.distances import (
    AdversarialDistance,
    DualAdversarialDistance,
    FlowLRMF,
    MeanDistance,
    density_flow,
    mlp_critic,
)
from unpaired.engine import Task, TrainConfig, fit
from unpaired.evaluation import ClassifierTask
from unpaired.evaluation.attributes import FactorTask
from unpaired.models.attributes import FactorClassifier
from unpaired.models.autoencoder import Autoencoder
from unpaired.models.guided import AdaINGenerator, StyleEncoder
from unpaired.models.images import ImageClassifier, PatchCritic
from unpaired.models.munit import MUNITAutoencoder
from unpaired.models.pose import LiftingGenerator, PoseBasis
from unpaired.models.puppet import SplitDecoder, SplitEncoder
from unpaired.models.transforms import (
    Affine,
    ConvResidual,
    FlowTransform,
    ImageWarp,
    MLPTransform,
    Shift,
)
from unpaired.models.translation import PatchCritic as TranslationPatchCritic
from unpaired.models.translation import ResnetGenerator
from unpaired.models.unet import UNetGenerator
from unpaired.multiview.metapose import MetaPoseS2, MetaPoseTask, s1
from unpaired.multiview.weak import project_weak, rot6d_to_matrix
from unpaired.translation import MUNIT, Pix2Pix
from unpaired.translation.cyclevae import CycleVAE
from unpaired.translation.puppetgan import PuppetGAN
from unpaired.translation.rift import RIFT
from unpaired.translation.stargan import StarGANv2

sys.path.insert(0, str(Path(__file__).parent / "aign"))
from _tiny import TASKS as AIGN_TASKS

sys.path.insert(0, str(Path(__file__).parent / "translation"))
from _tiny_translation import tiny_batch, tiny_cyclegan

Builder = Callable[[], tuple[Task, Any]]


def _sets(n: int = 32, dim: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(n, dim, generator=g), "b": torch.randn(n, dim, generator=g) + 1}


def _align(transform: Callable[[int], torch.nn.Module], distance: Callable[[], Any]) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        batch = _sets()
        task = AlignTask(transform(2), distance(), eval_a=batch["a"], eval_b=batch["b"])
        return task, batch

    return build


def _flow_lrmf() -> tuple[Task, Any]:
    torch.manual_seed(0)
    dist = FlowLRMF(2, transforms=1, hidden=(8, 8))
    dist.private_loglik.fill_(0.0)  # c(A, B): fit by the private densities in real use
    batch = _sets()
    return AlignTask(FlowTransform(2, transforms=1, hidden=(8, 8)), dist), batch


def _image_align(warp: bool) -> Builder:
    """Image transforms on 4x4 digits-like images (D = 16): the warp with flow LRMF
    (it has a log-determinant), the residual convolution with the RBF dual."""

    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        g = torch.Generator().manual_seed(0)
        batch = {"a": torch.rand(16, 16, generator=g), "b": torch.rand(16, 16, generator=g)}
        if warp:
            dist = FlowLRMF(16, transforms=1, hidden=(8, 8))
            dist.private_loglik.fill_(0.0)
            t: Any = ImageWarp(4, knots=3, control=2, center=torch.full((16,), 0.5), scale=0.5)
            return AlignTask(t, dist, eval_a=batch["a"], eval_b=batch["b"]), batch
        t = ConvResidual(4, width=4, layers=2)
        dual = DualAdversarialDistance(kernel="rbf")
        return AlignTask(t, dual, eval_a=batch["a"], eval_b=batch["b"]), batch

    return build


def _scored() -> tuple[Task, Any]:
    torch.manual_seed(0)
    batch = _sets()
    critic = AdversarialDistance(mlp_critic(2, hidden=8))
    score = lambda moved: float(moved.mean())  # noqa: E731
    task = ScoredAlignTask(Affine(2), critic, holdout=batch["a"][:8], score=score)
    return task, batch


def _replicas(known: bool) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        tasks = [AlignTask(Affine(2), AdversarialDistance(mlp_critic(2, hidden=8))) for _ in "ab"]
        batch = {"r0": _sets(), "r1": _sets(16)}
        if not known:
            return Replicas(tasks), batch
        truth = [(batch[r]["a"], batch[r]["a"] + 1, batch[r]["b"]) for r in ("r0", "r1")]
        return KnownMapReplicas(tasks, truth), batch

    return build


def _density() -> tuple[Task, Any]:
    torch.manual_seed(0)
    x = _sets()["a"]
    return DensityTask(density_flow(2, transforms=1, hidden=(8, 8)), eval_x=x), x


def _autoencoder() -> tuple[Task, Any]:
    torch.manual_seed(0)
    x = torch.rand(4, 1, 16, 16)
    return AutoencoderTask(Autoencoder(latent=4, width=4), x), {"usps": x[:2], "mnist": x[2:]}


def _classifier() -> tuple[Task, Any]:
    torch.manual_seed(0)
    x, y = torch.rand(8, 1, 16, 16), torch.arange(8) % 3
    net = ImageClassifier(1, num_classes=3, width=4, stages=2)
    return ClassifierTask(net, x, y), (x, y)


def _triplets(n: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {k: torch.rand(n, 1, 16, 16, generator=g) * 2 - 1 for k in ("a", "b1", "b2", "b3")}


def _puppetgan(attribute_cycle: bool) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        dec = [SplitDecoder(4, 4, size=16, width=4) for _ in "ab"]
        priors = [
            AdversarialDistance(mlp_critic(256, hidden=8), loss="least-squares") for _ in "ab"
        ]
        batch = _triplets()
        enc = SplitEncoder(size=16, attr_dim=4, rest_dim=4, width=4)
        task = PuppetGAN(enc, *dec, *priors, attribute_cycle=attribute_cycle, held_out=batch)
        return task, batch

    return build


def _munit(cycle_weight: float) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        net = lambda: MUNITAutoencoder(1, width=4, blocks=1, mlp_dim=8, style_dim=4)  # noqa: E731
        critic = lambda: AdversarialDistance(PatchCritic(1, width=4, layers=2))  # noqa: E731
        x = torch.rand(4, 1, 16, 16) * 2 - 1
        task = MUNIT(
            net(), net(), critic(), critic(), cycle_weight=cycle_weight, eval_a=x[:2], eval_b=x[2:]
        )
        return task, {"a": x[:2], "b": x[2:].flip(-1)}

    return build


def _cyclevae() -> tuple[Task, Any]:
    torch.manual_seed(0)
    enc = SplitEncoder(size=16, attr_dim=4, rest_dim=8, width=4)
    dec = [SplitDecoder(4, 4, size=16, width=4) for _ in "ab"]
    return CycleVAE(enc, *dec), _triplets()


def _pix2pix() -> tuple[Task, Any]:
    torch.manual_seed(0)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 1, 32, 32) * 2 - 1
    gen = UNetGenerator(3, 1, downs=5, width=4)
    task = Pix2Pix(gen, AdversarialDistance(PatchCritic(4, width=4, layers=2)), eval_a=a, eval_b=b)
    return task, (a, b)


TRANSLATION_TASKS: dict[str, Builder] = {
    "munit": _munit(0.0),
    "munit-cycle": _munit(10.0),
    "pix2pix": _pix2pix,
}


def _metapose(stage: int, *, lifter: bool = False) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        pose = torch.randn(6, 17, 3)
        rot = rot6d_to_matrix(torch.randn(6, 3, 6))
        x2d = project_weak(pose, rot, torch.full((6, 3), 0.4), torch.full((6, 3, 2), 0.5))
        mono = pose[:, None] @ rot.transpose(-1, -2) + 0.05 * torch.randn(6, 3, 17, 3)
        batch = {"x2d": x2d, "target": x2d + 0.01, **s1(mono, x2d).as_batch()}
        model = MetaPoseS2(hidden=8)
        for _ in range(stage + 1):
            model.add_stage()
        mono_lifter = None
        if lifter:  # the monocular lifter of the S1 inputs: the task exports the whole chain
            basis = PoseBasis.fit(torch.randn(40, 17, 3), num_components=4)
            mono_lifter = LiftingGenerator(basis, hidden=8, blocks=1)
        val = {k: v[:3] for k, v in batch.items()}
        return MetaPoseTask(model, stage, val, lifter=mono_lifter), batch

    return build


ALIGNMENT_TASKS: dict[str, Builder] = {
    "align-mean": _align(Shift, MeanDistance),
    "align-mlp-dual": _align(MLPTransform, lambda: DualAdversarialDistance(kernel="rbf")),
    "align-adversarial": _align(Affine, lambda: AdversarialDistance(mlp_critic(2, hidden=8))),
    "align-wgan-gp": _align(
        Affine,
        lambda: AdversarialDistance(
            mlp_critic(2, hidden=8), loss="wasserstein", gradient_penalty=10.0
        ),
    ),
    "align-flow-lrmf": _flow_lrmf,
    "align-image-warp-flow-lrmf": _image_align(warp=True),
    "align-conv-residual-dual": _image_align(warp=False),
    "align-scored": _scored,
    "align-replicas": _replicas(known=False),
    "align-known-map-replicas": _replicas(known=True),
    "density": _density,
    "autoencoder": _autoencoder,
    "classifier": _classifier,
}


def _translation_batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "a": torch.rand(4, 3, 16, 16, generator=g) * 2 - 1,
        "b": torch.rand(4, 3, 16, 16, generator=g) * 2 - 1,
    }


def _lsgan() -> AdversarialDistance:
    return AdversarialDistance(TranslationPatchCritic(3, width=4, n_layers=2), loss="least-squares")


def _rift(honest: bool) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        gen = lambda: ResnetGenerator(4, 4, width=4, n_blocks=1)  # noqa: E731
        guess = (
            (
                TranslationPatchCritic(6, width=4, n_layers=2),
                TranslationPatchCritic(6, width=4, n_layers=2),
            )
            if honest
            else (None, None)
        )
        task = RIFT(gen(), gen(), _lsgan(), _lsgan(), *guess, guess=0.05 if honest else 0.0)
        return task, _translation_batch()

    return build


def _cyclegan(**kw: float) -> Builder:
    def build() -> tuple[Task, Any]:
        torch.manual_seed(0)
        return tiny_cyclegan(**kw), tiny_batch()

    return build


def _stargan() -> tuple[Task, Any]:
    torch.manual_seed(0)
    task = StarGANv2(
        AdaINGenerator(3, 4, width=4, n_blocks=1), StyleEncoder(3, 4, width=4), _lsgan(), _lsgan()
    )
    return task, _translation_batch()


def _factor_classifier() -> tuple[Task, Any]:
    torch.manual_seed(0)
    x, f = torch.rand(6, 3, 16, 16), torch.stack([torch.arange(6) % 3, torch.arange(6) % 2], 1)
    return FactorTask(FactorClassifier((3, 2), size=16, width=4), x, f, names=("u", "v")), (x, f)


GUIDED_TASKS: dict[str, Builder] = {
    "rift": _rift(honest=True),
    "rift-no-honesty": _rift(honest=False),
    "stargan-v2": _stargan,
    "factor-classifier": _factor_classifier,
}
TRANSLATION_TASKS["cyclegan"] = _cyclegan()
TRANSLATION_TASKS["cyclegan-guess-noise"] = _cyclegan(noise_std=0.1, guess_weight=2.0)
MULTIVIEW_TASKS: dict[str, Builder] = {
    "metapose-s2-first-stage": _metapose(0),
    "metapose-s2-second-stage": _metapose(1),
    "metapose-s2-with-lifter": _metapose(1, lifter=True),
}
#: Attribute manipulation (PuppetGAN and its Cycle-VAE baseline): guided exports.
MANIPULATION_TASKS: dict[str, Builder] = {
    "puppetgan": _puppetgan(True),
    "puppetgan-no-attribute-cycle": _puppetgan(False),
    "cycle-vae": _cyclevae,
}
TASKS: dict[str, Builder] = {
    **MANIPULATION_TASKS,
    **ALIGNMENT_TASKS,
    **AIGN_TASKS,
    **TRANSLATION_TASKS,
    **MULTIVIEW_TASKS,
    **GUIDED_TASKS,
}


def _grads(loss: torch.Tensor, params: list[torch.nn.Parameter]) -> list[torch.Tensor | None]:
    return list(torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True))


def _reached(grads: list[torch.Tensor | None]) -> bool:
    return any(g is not None and bool(g.abs().sum() > 0) for g in grads)


def _check_losses(losses: dict[str, torch.Tensor], what: str) -> torch.Tensor:
    assert losses, f"{what}: no losses"
    for key, value in losses.items():
        assert isinstance(key, str) and key, what
        assert isinstance(value, torch.Tensor) and value.dim() == 0, (what, key)
        assert torch.isfinite(value), (what, key, value)
    return sum(losses.values())  # type: ignore[return-value]


@pytest.mark.parametrize("name", list(TASKS))
def test_losses_are_named_finite_scalars_and_reach_only_their_player(name: str) -> None:
    task, batch = TASKS[name]()
    _check_players(task, batch)


class _Leaky(AlignTask):
    """A broken task: its critic loss does not detach the generator's output."""

    def critic_losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"critic": self.distance.critic_loss(self.transform(batch["a"]), batch["b"])}


def test_the_contract_catches_a_critic_loss_that_reaches_the_generator() -> None:
    task = _Leaky(Affine(2), AdversarialDistance(mlp_critic(2, hidden=8)))
    with pytest.raises(AssertionError, match="the critic's loss reaches the generator"):
        _check_players(task, _sets())


def _check_players(task: Task, batch: Any) -> None:
    task.train()
    gen, critic = task.generator_parameters(), task.critic_parameters()
    assert gen, "the generator player has no parameters"
    assert not {id(p) for p in gen} & {id(p) for p in critic}, "a parameter in both players"
    total = _check_losses(task.generator_losses(batch), "generator_losses")
    assert _reached(_grads(total, gen)), "the generator's loss reaches none of its parameters"
    if critic:
        critic_total = _check_losses(task.critic_losses(batch), "critic_losses")
        assert _reached(_grads(critic_total, critic)), "the critic's loss misses the critic"
        assert not _reached(_grads(critic_total, gen)), "the critic's loss reaches the generator"


def _snapshot(params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
    return [p.detach().clone() for p in params]


def _moved(before: list[torch.Tensor], params: list[torch.nn.Parameter]) -> bool:
    return any(not torch.equal(b, p.detach()) for b, p in zip(before, params, strict=True))


class _Fixed:
    """The same batch every step."""

    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.batch


@pytest.mark.parametrize("name", list(TASKS))
def test_one_engine_step_moves_each_player(name: str) -> None:
    task, batch = TASKS[name]()
    gen, critic = task.generator_parameters(), task.critic_parameters()
    before_gen, before_critic = _snapshot(gen), _snapshot(critic)
    fit(task, _Fixed(batch), TrainConfig(steps=1, lr=1e-2, log_every=1), progress=False)
    assert _moved(before_gen, gen), "a training step left the generator where it was"
    if critic:
        assert _moved(before_critic, critic), "a training step left the critic where it was"


@pytest.mark.parametrize("name", list(TASKS))
def test_losses_depend_only_on_the_batch_and_the_global_seed(name: str) -> None:
    task, batch = TASKS[name]()
    task.train()
    values = []
    for _ in range(2):
        torch.manual_seed(7)
        losses = task.generator_losses(batch)
        if task.critic_parameters():
            losses |= {f"critic/{k}": v for k, v in task.critic_losses(batch).items()}
        values.append({k: float(v.detach()) for k, v in losses.items()})
    assert values[0] == values[1]


@pytest.mark.parametrize("name", list(TASKS))
def test_evaluate_gives_finite_floats_independent_of_the_global_rng(name: str) -> None:
    task, _ = TASKS[name]()
    task.eval()
    runs = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        with torch.no_grad():
            runs.append(task.evaluate())
    assert runs[0] == runs[1]
    assert all(isinstance(v, float) and math.isfinite(v) for v in runs[0].values()), runs[0]


#: Tasks whose networks a run keeps (``Task.exports``); every other task exports nothing.
EXPORTING = {
    "align-mean", "align-mlp-dual", "align-adversarial", "align-wgan-gp", "align-flow-lrmf",
    "align-scored", "align-image-warp-flow-lrmf", "align-conv-residual-dual", "classifier",
    *TRANSLATION_TASKS, "rift", "rift-no-honesty", "stargan-v2", *MANIPULATION_TASKS,
    "metapose-s2-with-lifter",
}  # fmt: skip


@pytest.mark.parametrize("name", list(TASKS))
def test_exports_round_trip_through_a_model_record(name: str, tmp_path: Path) -> None:
    """What ``Task.exports`` names is written by the engine's record writer and rebuilt
    by ``unpaired.load`` with the same class and weights; each kind is one predict knows."""
    from unpaired.engine.records import load, write_models
    from unpaired.inference import PREDICTORS

    task, _ = TASKS[name]()
    exports = task.exports()
    aign = name in AIGN_TASKS and name != "aign"
    assert bool(exports) == (name in EXPORTING or aign), sorted(exports)
    if not exports:
        return
    write_models(tmp_path, "m", task, exports, step=1, finished=True)
    loaded = load(tmp_path, "m")
    assert list(loaded.networks) == list(exports)
    for key, ex in exports.items():
        net = loaded.networks[key]
        assert type(net) is type(ex.network) and not net.training
        assert loaded.kinds[key] == ex.kind and ex.kind in PREDICTORS
        want = ex.network.state_dict()
        got = net.state_dict()
        assert list(got) == list(want)
        assert all(torch.equal(got[k], want[k]) for k in want), key
