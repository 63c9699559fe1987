"""unpaired.alignment.tasks: AlignTask, DensityTask, replicas."""

from __future__ import annotations

import math

import pytest
import torch

from unpaired.alignment import (
    AlignTask,
    DensityTask,
    KnownMapReplicas,
    Replicas,
    ScoredAlignTask,
    set_private_loglik,
)
from unpaired.distances import (
    MMD,
    AdversarialDistance,
    DualAdversarialDistance,
    FlowLRMF,
    MeanDistance,
    density_flow,
    mlp_critic,
)
from unpaired.models.transforms import Affine, MLPTransform, Shift


def test_align_task_players_and_gradients() -> None:
    x, y = torch.randn(32, 2), torch.randn(32, 2) + 1
    task = AlignTask(Affine(2), AdversarialDistance(mlp_critic(2, hidden=8)))
    assert task.critic_parameters() and set(map(id, task.generator_parameters())) == {
        id(task.transform.weight),
        id(task.transform.bias),
    }
    gen = task.generator_losses({"a": x, "b": y})
    assert list(gen) == ["adversarial"]
    gen["adversarial"].backward()
    assert task.transform.weight.grad is not None
    crit = task.critic_losses({"a": x, "b": y})
    assert list(crit) == ["critic"] and crit["critic"].requires_grad
    closed = AlignTask(Shift(2), MMD())
    assert closed.critic_parameters() == [] and list(closed.generator_losses({"a": x, "b": y})) == [
        "mmd"
    ]


def test_identity_regularizer_is_the_mean_squared_displacement() -> None:
    x, y = torch.randn(16, 3), torch.randn(16, 3)
    task = AlignTask(Shift(3), MeanDistance(), identity_weight=2.0)
    with torch.no_grad():
        task.transform.bias.fill_(0.5)
    losses = task.generator_losses({"a": x, "b": y})
    assert set(losses) == {"meandistance", "identity"}
    assert float(losses["identity"].detach()) == pytest.approx(2.0 * 0.25)
    with pytest.raises(ValueError, match="identity_weight must be >= 0"):
        AlignTask(Shift(3), MeanDistance(), identity_weight=-1.0)


def test_flow_lrmf_task_uses_the_log_determinant() -> None:
    x, y = torch.randn(64, 2), torch.randn(64, 2)
    dist = FlowLRMF(2, transforms=1, hidden=(8, 8))
    dist.private_loglik.fill_(0.0)
    task = AlignTask(Affine(2), dist)
    with torch.no_grad():
        task.transform.weight.mul_(2.0)  # log|det| = 2 log 2 per sample
    loss = task.generator_losses({"a": x, "b": y})["lrmf"]
    expected = dist(x * 2, y, logdet=torch.full((64,), 2 * math.log(2.0)))
    torch.testing.assert_close(loss, expected)


def test_min_max_critic_with_critic_l2_reaches_the_dual_value() -> None:
    """With critic_l2 = lambda, the linear logistic critic's regularized objective at its
    optimum is exactly the dual adversarial distance (dual slides): the two methods of
    the align-toy comparison solve the same inner problem."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(60, 2, generator=g, dtype=torch.float64)
    b = torch.randn(50, 2, generator=g, dtype=torch.float64) + torch.tensor(
        [1.0, -0.5], dtype=torch.float64
    )
    lam = 0.5
    task = AlignTask(
        Shift(2).double(),
        AdversarialDistance(mlp_critic(2, layers=0).double(), loss="logistic"),
        critic_l2=lam,
    )
    opt = torch.optim.LBFGS(
        task.critic_parameters(), max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = task.critic_losses({"a": a, "b": b})["critic"]
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    dual = DualAdversarialDistance(kernel="linear", lam=lam, tol=1e-10)(a, b)
    assert task.distance_value(a, b) == pytest.approx(float(dual), abs=1e-7)


def test_density_task_and_private_loglik() -> None:
    x = torch.randn(50, 2)
    pa, pb = (DensityTask(density_flow(2, transforms=1, hidden=(8, 8))) for _ in range(2))
    dist = FlowLRMF(2, transforms=1, hidden=(8, 8))
    c = set_private_loglik(dist, pa, pb, x, x + 1)
    assert c == pytest.approx(pa.loglik(x) + pb.loglik(x + 1))
    assert float(dist.private_loglik) == pytest.approx(c)
    assert torch.equal(next(dist.shared.parameters()), next(pb.flow.parameters()))
    assert list(pa.generator_losses(x)) == ["nll"]


def test_flow_lrmf_needs_an_invertible_transform() -> None:
    with pytest.raises(ValueError, match="invertible"):
        AlignTask(MLPTransform(2), FlowLRMF(2))


def test_scored_task_adds_the_holdout_score() -> None:
    holdout = torch.zeros(5, 2)
    task = ScoredAlignTask(
        Shift(2),
        MeanDistance(),
        holdout=holdout,
        score=lambda moved: float(moved.mean()),
        eval_a=torch.zeros(4, 2),
        eval_b=torch.ones(4, 2),
    )
    with torch.no_grad():
        task.transform.bias.fill_(0.25)
        metrics = task.evaluate()  # the engine evaluates under no_grad
    assert metrics == {"distance": pytest.approx(0.75 * math.sqrt(2)), "holdout_accuracy": 0.25}
    assert "holdout" in task.state_dict()


def test_replicas_train_each_task_as_alone_and_know_the_true_map() -> None:
    x, y = torch.randn(8, 2), torch.randn(8, 2) + 1
    tasks = [AlignTask(Shift(2), MeanDistance()) for _ in range(2)]
    rep = Replicas(tasks)
    batch = {"r0": {"a": x, "b": y}, "r1": {"a": x + 1, "b": y}}
    loss = rep.generator_losses(batch)["meandistance"]
    alone = [t.generator_losses(batch[f"r{i}"])["meandistance"] for i, t in enumerate(tasks)]
    torch.testing.assert_close(loss, (alone[0] + alone[1]) / 2)
    with pytest.raises(ValueError, match="at least one task"):
        Replicas([])
    b = torch.tensor([[0.0, 0.0], [2.0, 0.0]])  # spread 1
    known = KnownMapReplicas(tasks, [(x, x + 1, b), (x, x, b)])
    metrics = known.evaluate()
    assert metrics["error_s0"] == pytest.approx(math.sqrt(2)) and metrics["error_s1"] == 0
    assert {"error", "T0", "T1"} <= set(metrics)
    assert {"held_a0", "held_t1"} <= set(known.state_dict())


def test_the_old_module_names_still_resolve_with_a_warning() -> None:
    import unpaired.alignment as old
    from unpaired.recipes import _names
    from unpaired.recipes.align_files import align_files

    with pytest.warns(DeprecationWarning, match="moved to unpaired.recipes._names"):
        assert old.make_distance is _names.alignment_distance
    with pytest.warns(DeprecationWarning):
        assert old.DISTANCES == _names.ALIGNMENT_DISTANCES and old.align_files is align_files
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        old.nope  # noqa: B018
