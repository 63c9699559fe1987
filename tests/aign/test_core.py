from __future__ import annotations

import pytest
import torch
from torch import nn

from unpaired.aign import AIGN, Fixed, Paired, Prior, Rendered, reconstruction_loss
from unpaired.distances import MMD, AdversarialDistance
from unpaired.engine import TensorSampler, TrainConfig, Unpaired, fit


def _square(predictions, batch):
    """P(z) = z^2: a parameter-free renderer that cannot tell z from -z."""
    return predictions["z"].pow(2)


class _Gen(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x):
        return {"z": self.net(x)}


def _train(memory_sign: float, beta: float, seed: int = 0) -> AIGN:
    torch.manual_seed(seed)
    critic = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    model = AIGN(_Gen(), _square, {"z": Prior(AdversarialDistance(critic))}, beta=beta)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2000, 1, generator=g) * 0.8 + 0.2  # x = z^2 for |z| in [0.45, 1]
    memories = memory_sign * (torch.rand(2000, 1, generator=g) * 0.55 + 0.45)  # unrelated z's
    data = Unpaired(
        {
            "x": TensorSampler(x, batch_size=64),
            "memories": Unpaired({"z": TensorSampler(memories, batch_size=64)}),
        }
    )
    fit(model, data, TrainConfig(steps=400, lr=3e-3, betas=(0.5, 0.9)), progress=False)
    return model


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_memories_choose_the_branch_the_renderer_cannot(sign: float) -> None:
    model = _train(sign, beta=0.1)
    x = torch.linspace(0.25, 0.95, 50)[:, None]
    with torch.no_grad():
        z = model.predict(x)["z"]
    assert (torch.sign(z) == sign).float().mean() > 0.95  # the prior picked the sign
    torch.testing.assert_close(z.pow(2), x, atol=0.05, rtol=0)  # and reconstruction holds


def test_losses_are_named_and_weighted() -> None:
    torch.manual_seed(0)
    critic = nn.Linear(1, 1)
    model = AIGN(
        _Gen(), _square, {"z": AdversarialDistance(critic)}, beta=0.5, supervised={"z": 2.0}
    )
    batch = {
        "x": torch.rand(8, 1),
        "memories": {"z": torch.rand(8, 1)},
        "targets": {"z": torch.zeros(8, 1)},
    }
    losses = model.generator_losses(batch)
    assert set(losses) == {"reconstruction", "prior/z", "supervised/z"}
    z = model.predict(batch["x"])["z"]
    torch.testing.assert_close(losses["supervised/z"], 2.0 * z.pow(2).mean())
    torch.testing.assert_close(
        losses["prior/z"], 0.5 * model.priors["z"](z, batch["memories"]["z"])
    )
    assert set(model.critic_losses(batch)) == {"prior/z"}
    assert {id(p) for p in model.critic_parameters()} == {id(p) for p in critic.parameters()}
    assert not {id(p) for p in model.critic_parameters()} & {
        id(p) for p in model.generator_parameters()
    }


def test_parametric_renderer_is_rejected_and_bad_settings() -> None:
    with pytest.raises(ValueError, match="parameter-free"):
        AIGN(_Gen(), nn.Linear(1, 1))
    with pytest.raises(ValueError, match="beta"):
        AIGN(_Gen(), _square, beta=-1.0)
    with pytest.raises(ValueError, match="nothing to train"):
        AIGN(_Gen(), _square, recon_weight=0.0).generator_losses({"x": torch.rand(2, 1)})


def test_reconstruction_norms_and_mask() -> None:
    r, t = torch.tensor([[3.0, 4.0], [0.0, 0.0]]), torch.zeros(2, 2)
    assert reconstruction_loss(r, t, kind="l2").item() == pytest.approx(2.5)  # (5 + 0) / 2
    assert reconstruction_loss(r, t, kind="mse").item() == pytest.approx(25 / 4)
    assert reconstruction_loss(r, t, kind="l1").item() == pytest.approx(7 / 4)
    mask = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert reconstruction_loss(r, t, kind="l1", mask=mask).item() == pytest.approx(3 / 3)
    with pytest.raises(ValueError, match="does not match"):
        reconstruction_loss(r, torch.zeros(2, 3))


def test_rendered_with_target_and_mask() -> None:
    model = AIGN(_Gen(), lambda p, b: Rendered(p["z"], target=b["y"], mask=b["m"]))
    batch = {
        "x": torch.rand(4, 1),
        "y": torch.zeros(4, 1),
        "m": torch.tensor([[1.0], [0.0], [0.0], [0.0]]),
    }
    z = model.predict(batch["x"])["z"]
    torch.testing.assert_close(model.generator_losses(batch)["reconstruction"], z[0].pow(2).sum())


def test_paired_rows_share_indices_and_split_by_rank() -> None:
    x = torch.arange(10.0)[:, None]
    source = Paired(x, {"y": 2 * x}, batch_size=4, extras={"k": "fixed"})
    batch = source.sample(torch.Generator().manual_seed(0))
    assert batch["k"] == "fixed" and batch["x"].shape == (4, 1)
    torch.testing.assert_close(batch["targets"]["y"], 2 * batch["x"])
    both = source.sample(torch.Generator().manual_seed(0), world_size=2)
    second = source.sample(torch.Generator().manual_seed(0), rank=1, world_size=2)
    assert torch.equal(both["x"], batch["x"]) and not torch.equal(second["x"], batch["x"])
    with pytest.raises(ValueError, match=r"targets\['y'\] has 3 rows"):
        Paired(x, {"y": x[:3]}, batch_size=4)
    assert Fixed("k").sample(torch.Generator()) == "k"


def test_prediction_losses_equal_generator_losses_on_the_same_predictions() -> None:
    torch.manual_seed(0)
    gen = nn.Linear(3, 2)
    task = AIGN(gen, lambda p, b: p["output"] @ torch.ones(2, 3), {"output": MMD()}, beta=0.5)
    batch = {"x": torch.randn(6, 3), "memories": {"output": torch.randn(6, 2)}}
    direct = task.generator_losses(batch)
    again = task.prediction_losses(task.predict(batch["x"]), batch)
    assert list(direct) == list(again) == ["reconstruction", "prior/output"]
    for k in direct:
        torch.testing.assert_close(direct[k], again[k])
