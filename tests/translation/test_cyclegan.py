"""CycleGAN: losses, the noise and guess defenses, the image pool, resume, the schedule."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unpaired.distances import Distance
from unpaired.engine import Interrupted, TensorSampler, TrainConfig, Unpaired, fit
from unpaired.translation import CycleGAN, ImagePool, Translator, guess_pairs

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "engine"))
from _faults import fault_at
from _tiny_translation import tiny_batch, tiny_cyclegan


class _Shift(nn.Module):
    """x + 1, with a (fixed) parameter so that the generator player is not empty."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = nn.Parameter(torch.ones(()))
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x.detach().clone())
        return x + self.offset


class _Recorder(Distance):
    """Squared difference of means; remembers what the generator's side passed in."""

    symmetric = False

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        self.seen.append(a.detach().clone())
        return (a.mean() - b.mean()).square()


class _FirstMinusSecond(nn.Module):
    """A fixed guess critic: mean of the first image minus mean of the second, per sample."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.c = channels
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        first, second = pairs[:, : self.c], pairs[:, self.c :]
        return (first.mean((1, 2, 3)) - second.mean((1, 2, 3)) + self.dummy).view(-1, 1, 1, 1)


def _fixed(**kw) -> CycleGAN:  # type: ignore[no-untyped-def]
    return CycleGAN(_Shift(), _Shift(), _Recorder(), _Recorder(), identity=0.0, pool_size=0, **kw)


def test_guess_pairs_order_is_per_sample() -> None:
    orig, rec = torch.zeros(4, 3, 2, 2), torch.ones(4, 3, 2, 2)
    swap = torch.tensor([True, False, False, True])
    pairs, labels = guess_pairs(orig, rec, swap)
    assert pairs.shape == (4, 6, 2, 2)
    assert labels.tolist() == [1.0, 0.0, 0.0, 1.0]  # 1: the reconstruction comes first
    assert pairs[:, :3].mean((1, 2, 3)).tolist() == [1.0, 0.0, 0.0, 1.0]
    assert pairs[:, 3:].mean((1, 2, 3)).tolist() == [0.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"^reconstruction: "):
        guess_pairs(orig, rec[:3], swap)


def test_guess_losses_with_a_fixed_generator_and_critic() -> None:
    # g(x) = x + 1 both ways, so rec = a + 2; the critic says first - second = +2 when the
    # reconstruction is first (label 1) and -2 when it is second (label 0).
    n = 64
    task = _fixed(guess_weight=3.0, guess_a=_FirstMinusSecond(3), guess_b=_FirstMinusSecond(3))
    batch = {"a": torch.zeros(n, 3, 4, 4), "b": torch.zeros(n, 3, 4, 4)}
    torch.manual_seed(5)
    losses = task.critic_losses(batch)  # nothing pending: translates its own batch
    torch.manual_seed(5)
    swap_a = torch.rand(n) < 0.5
    assert 0 < int(swap_a.sum()) < n  # both orders occur within one batch
    want = torch.where(swap_a, 1.0, 4.0).mean()  # (2 - 1)^2 and (-2 - 0)^2
    torch.testing.assert_close(losses["guess_a"], want)
    # the generators are trained with flipped labels: (2 - 0)^2 and (-2 - 1)^2
    torch.manual_seed(6)
    g_losses = task.generator_losses(batch)
    torch.manual_seed(6)
    swap_a = torch.rand(n) < 0.5
    torch.testing.assert_close(g_losses["guess_a"], 3.0 * torch.where(swap_a, 4.0, 9.0).mean())


def test_the_guess_critic_sees_the_pending_paired_reconstructions() -> None:
    task = _fixed(guess_weight=1.0, guess_a=_FirstMinusSecond(3), guess_b=_FirstMinusSecond(3))
    gen_batch = {"a": torch.zeros(8, 3, 4, 4), "b": torch.zeros(8, 3, 4, 4)}
    task.train()
    task.generator_losses(gen_batch)
    # a different critic batch: the pairs still come from the generator's (originals 0,
    # reconstructions 2), so the loss is the one of test above
    other = {"a": torch.full((8, 3, 4, 4), 5.0), "b": torch.full((8, 3, 4, 4), 5.0)}
    torch.manual_seed(1)
    loss = task.critic_losses(other)["guess_a"]
    torch.manual_seed(1)
    assert float(loss.detach()) == pytest.approx(
        float(torch.where(torch.rand(8) < 0.5, 1.0, 4.0).mean())
    )
    assert task.pending.images is None  # consumed


def test_noise_reaches_only_the_backward_generator_in_training() -> None:
    task = _fixed(noise_std=0.1)
    batch = tiny_batch(n=16)
    task.train()
    torch.manual_seed(0)
    losses = task.generator_losses(batch)
    clean_b = batch["a"] + 1
    torch.testing.assert_close(task.prior_b.seen[-1], clean_b)  # the GAN term: clean
    # g_ba's inputs: fake_a = g_ba(b), then the noisy fake_b of the cycle a -> b -> a
    noisy_b = task.g_ba.inputs[1]  # type: ignore[index]
    noise = noisy_b - clean_b
    rec_a = noisy_b + 1
    assert 0.09 < float(noise.std()) < 0.11 and abs(float(noise.mean())) < 0.01
    assert float(losses["cycle_a"].detach()) == pytest.approx(
        10 * float((rec_a - batch["a"]).abs().mean())
    )
    task.eval()
    with torch.no_grad():
        loss = task.generator_losses(batch)["cycle_a"]
    assert float(loss) == pytest.approx(10 * 2.0)  # |a + 2 - a| = 2, no noise in eval


def test_losses_of_the_default_model() -> None:
    torch.manual_seed(0)
    task = tiny_cyclegan(guess_weight=2.0, noise_std=0.1)
    losses = task.generator_losses(tiny_batch())
    assert set(losses) == {
        "adversarial_ab", "adversarial_ba", "cycle_a", "cycle_b",
        "identity_a", "identity_b", "guess_a", "guess_b",
    }  # fmt: skip
    b = tiny_batch()["b"]
    with torch.no_grad():
        want = 0.5 * 10 * F.l1_loss(task.g_ab(b), b)
    torch.testing.assert_close(losses["identity_b"].detach(), want)
    assert set(task.critic_losses(tiny_batch())) == {"critic_a", "critic_b", "guess_a", "guess_b"}
    assert isinstance(task, Translator)
    x = tiny_batch()["a"]
    torch.testing.assert_close(task.translate(x, "a2b"), task.g_ab(x))
    torch.testing.assert_close(task.translate(x, "b2a"), task.g_ba(x))
    with pytest.raises(ValueError, match="direction"):
        task.translate(x, "ba")  # type: ignore[arg-type]


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="guess_a"):
        _fixed(guess_weight=1.0)
    with pytest.raises(ValueError, match="noise_std"):
        _fixed(noise_std=-1.0)
    with pytest.raises(ValueError, match="lr_decay"):
        _fixed(lr_decay=(5, 5))


def test_image_pool() -> None:
    pool = ImagePool(3)
    x = torch.arange(5.0).view(5, 1, 1, 1)
    torch.manual_seed(0)
    out = pool.query(x[:3])
    torch.testing.assert_close(out, x[:3])  # filling: returned as they are
    seen = set()
    for _ in range(40):
        out = pool.query(torch.full((1, 1, 1, 1), 9.0))
        seen.add(float(out))
    assert 9.0 in seen and seen - {9.0}  # sometimes an old image, sometimes the new one
    state = pool.get_extra_state()
    other = ImagePool(3)
    other.set_extra_state(state)
    torch.testing.assert_close(other.images, pool.images)
    torch.testing.assert_close(ImagePool(0).query(x), x)


def test_lr_decay_schedule() -> None:
    task = tiny_cyclegan(lr_decay=(10, 19))
    opts = task.configure_optimizers(TrainConfig(lr=2e-4))
    assert task.lr_factor(10) == 1.0 and task.lr_factor(15) == pytest.approx(0.5)
    task.on_step_start(20)
    assert all(g["lr"] == 0.0 for o in opts.values() for g in o.param_groups)
    task.on_step_start(1)
    assert all(g["lr"] == 2e-4 for o in opts.values() for g in o.param_groups)


def _data() -> Unpaired:
    b = tiny_batch(n=8, seed=3)
    return Unpaired(
        {"a": TensorSampler(b["a"], batch_size=1), "b": TensorSampler(b["b"], batch_size=1)}
    )


@pytest.mark.slow
def test_resume_is_exact(tmp_path: Path) -> None:
    cfg = TrainConfig(steps=6, lr=2e-4, checkpoint_every=2, log_every=1)

    def build() -> CycleGAN:
        torch.manual_seed(0)
        return tiny_cyclegan(guess_weight=2.0, noise_std=0.1, pool_size=2, lr_decay=(2, 6))

    ref = build()
    ref_fit = fit(ref, _data(), cfg, out=tmp_path / "ref", seed=3, progress=False)
    with fault_at(3, signal.SIGTERM), pytest.raises(Interrupted):
        fit(build(), _data(), cfg, out=tmp_path / "run", seed=3, progress=False)
    torch.manual_seed(1)
    resumed = tiny_cyclegan(guess_weight=2.0, noise_std=0.1, pool_size=2, lr_decay=(2, 6))
    res = fit(resumed, _data(), cfg, out=tmp_path / "run", seed=3, resume=True, progress=False)
    assert res.resumed_from == 3 and res.history == ref_fit.history
    for (k, v), (k2, v2) in zip(
        ref.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert k == k2
        if isinstance(v, torch.Tensor):
            assert torch.equal(v, v2), k
    torch.testing.assert_close(resumed.pool_a.images, ref.pool_a.images, rtol=0, atol=0)


def test_step_start_moves_the_priors_annealed_regularizers() -> None:
    # CycleGAN overrides on_step_start (learning-rate decay); the priors' schedules must
    # still move, as in every task (Task.on_step_start).
    from unpaired.distances import AdversarialDistance, Schedule

    def prior() -> AdversarialDistance:
        critic = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 1))
        return AdversarialDistance(critic, roth_gamma=Schedule(2.0, "exponential", steps=10))

    task = CycleGAN(_Shift(), _Shift(), prior(), prior(), identity=0.0, pool_size=0)
    task.on_step_start(10)
    assert task.prior_a.roth_gamma == pytest.approx(0.02)
    assert task.prior_b.roth_gamma == pytest.approx(0.02)
