"""unpaired.alignment: transforms, distances by name, the align task, align(), file loading."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from unpaired.alignment import (
    DISTANCES,
    TRANSFORMS,
    Affine,
    AlignTask,
    DensityTask,
    FlowTransform,
    MLPTransform,
    Shift,
    Standardizer,
    align,
    check_pairing,
    load_array,
    load_samples,
    make_distance,
    make_transform,
    set_private_loglik,
)
from unpaired.distances import (
    AdversarialDistance,
    Distance,
    DualAdversarialDistance,
    FlowLRMF,
    density_flow,
    mlp_critic,
)
from unpaired.errors import ConfigError, DataError


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transforms_start_at_the_identity(name: str) -> None:
    t = make_transform(name, 3)
    x = torch.randn(7, 3)
    torch.testing.assert_close(t(x), x)
    if t.invertible:
        y, logdet = t.forward_and_log_det(x)
        torch.testing.assert_close(y, x)
        torch.testing.assert_close(logdet, torch.zeros(7))
    else:
        with pytest.raises(ValueError, match="not invertible"):
            t.forward_and_log_det(x)


@pytest.mark.parametrize("cls", [Affine, FlowTransform])
def test_log_det_matches_the_jacobian(cls: type) -> None:
    torch.manual_seed(1)
    t = cls(3).double()
    with torch.no_grad():  # move away from the identity
        for p in t.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(4, 3, dtype=torch.float64)
    _, logdet = t.forward_and_log_det(x)
    for i in range(4):
        jac = torch.autograd.functional.jacobian(lambda v: t(v[None])[0], x[i])
        torch.testing.assert_close(logdet[i], torch.linalg.slogdet(jac).logabsdet)


def test_mlp_transform_moves_once_trained() -> None:
    t = MLPTransform(2, hidden=8)
    x = torch.randn(16, 2)
    loss = (t(x) - 1).square().mean()
    loss.backward()
    assert t.net[-1].weight.grad is not None and t.net[-1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", DISTANCES)
def test_every_distance_name_builds_a_distance(name: str) -> None:
    d = make_distance(name, 4)  # type: ignore[arg-type]
    assert isinstance(d, Distance)
    assert d.learned == (name in ("adversarial", "wgan-gp", "flow-lrmf"))


def test_unknown_names_and_bad_pairs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown distance 'mmd2'"):
        make_distance("mmd2", 2)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown transform"):
        make_transform("rotation", 2)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--transform flow"):
        check_pairing("flow-lrmf", "mlp")
    check_pairing("flow-lrmf", "affine")
    with pytest.raises(ValueError, match="invertible"):
        AlignTask(MLPTransform(2), FlowLRMF(2))


def test_align_task_players_and_gradients() -> None:
    x, y = torch.randn(32, 2), torch.randn(32, 2) + 1
    task = AlignTask(Affine(2), make_distance("adversarial", 2, critic_hidden=8))
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
    closed = AlignTask(Shift(2), make_distance("mmd", 2))
    assert closed.critic_parameters() == [] and list(closed.generator_losses({"a": x, "b": y})) == [
        "mmd"
    ]


def test_identity_regularizer_is_the_mean_squared_displacement() -> None:
    x, y = torch.randn(16, 3), torch.randn(16, 3)
    task = AlignTask(Shift(3), make_distance("mean", 3), identity_weight=2.0)
    with torch.no_grad():
        task.transform.bias.fill_(0.5)
    losses = task.generator_losses({"a": x, "b": y})
    assert set(losses) == {"meandistance", "identity"}
    assert float(losses["identity"].detach()) == pytest.approx(2.0 * 0.25)
    with pytest.raises(ValueError, match="identity_weight must be >= 0"):
        AlignTask(Shift(3), make_distance("mean", 3), identity_weight=-1.0)


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


def test_standardizer_round_trip_and_units() -> None:
    a, b = 5 + 3 * torch.randn(100, 4), -2 + 3 * torch.randn(80, 4)
    std = Standardizer.fit(a, b)
    torch.testing.assert_close(std.inverse(std(a)), a)
    assert float(torch.cat([std(a), std(b)]).square().mean()) == pytest.approx(1.0, rel=0.2)


def test_align_recovers_a_shift_with_the_mean_distance(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(400, 2, generator=g)
    b = torch.randn(400, 2, generator=g) * 1.0 + torch.tensor([30.0, -10.0])
    res = align(a, b, distance="mean", transform="shift", steps=150, lr=0.05, out=tmp_path / "run")
    moved = res.aligned.mean(0)
    assert torch.allclose(moved, b.mean(0), atol=0.5), moved
    assert res.initial_distance is not None and res.final_distance < 0.05 * res.initial_distance
    assert (tmp_path / "run/checkpoints/align/last.pt").is_file()
    again = align(
        a,
        b,
        distance="mean",
        transform="shift",
        steps=150,
        lr=0.05,
        out=tmp_path / "run",
        resume=True,
    )
    assert torch.equal(again.aligned, res.aligned)  # finished fit: reloaded, not retrained


def test_density_task_and_private_loglik() -> None:
    x = torch.randn(50, 2)
    pa, pb = (DensityTask(density_flow(2, transforms=1, hidden=(8, 8))) for _ in range(2))
    dist = FlowLRMF(2, transforms=1, hidden=(8, 8))
    c = set_private_loglik(dist, pa, pb, x, x + 1)
    assert c == pytest.approx(pa.loglik(x) + pb.loglik(x + 1))
    assert float(dist.private_loglik) == pytest.approx(c)
    assert torch.equal(next(dist.shared.parameters()), next(pb.flow.parameters()))
    assert list(pa.generator_losses(x)) == ["nll"]


# -- files ---------------------------------------------------------------------------


def test_load_array_formats(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "x.npz", samples=x)
    (tmp_path / "x.csv").write_text("a,b,c\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    for name in ("x.npy", "x.npz", "x.csv"):
        np.testing.assert_array_equal(load_array(tmp_path / name), x)
    np.save(tmp_path / "v.npy", np.arange(5.0))
    assert load_array(tmp_path / "v.npy").shape == (5, 1)
    np.save(tmp_path / "img.npy", np.zeros((3, 4, 4)))
    arr, shape = load_samples(tmp_path / "img.npy")
    assert arr.shape == (3, 16) and shape == (3, 4, 4)


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("bad.csv", "1,2\n3,x\n", "bad.csv:2: cannot read 'x' as a number"),
        ("ragged.csv", "1,2\n3,4,5\n", "ragged.csv:2: 3 values, but the first data row has 2"),
        ("empty.csv", "a,b\n", "no numeric rows"),
        ("nan.csv", "1,2\nnan,4\n", "non-finite value (nan or inf) in sample 1"),
        ("junk.npy", "not numpy", "not a readable .npy array"),
        ("junk.npz", "not a zip", "not a readable .npz array"),
        ("x.txt", "1,2", "unsupported file type '.txt'"),
    ],
)
def test_load_array_errors_are_one_line(
    tmp_path: Path, name: str, content: str, needle: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError) as e:
        load_array(tmp_path / name)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_load_array_npz_needs_one_array_and_numbers(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)), b=np.ones((2, 2)))
    with pytest.raises(DataError, match=r"exactly one array .* found 2 \(a, b\)"):
        load_array(tmp_path / "two.npz")
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="expected a numeric array"):
        load_array(tmp_path / "s.npy")
    with pytest.raises(DataError, match="no such file"):
        load_array(tmp_path / "missing.npy")


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=st.floats(-1e6, 1e6)
    )
)
def test_csv_round_trip(tmp_path_factory: pytest.TempPathFactory, x: np.ndarray) -> None:
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    np.savetxt(path, x, delimiter=",")
    np.testing.assert_array_equal(load_array(path), x)
