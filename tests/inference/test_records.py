"""Model records: blueprints, the engine's models/<name>.pt, unpaired.load."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import unpaired
from unpaired.engine import Task, TrainConfig
from unpaired.engine.records import FORMAT, list_models, load, model_path
from unpaired.engine.session import Session
from unpaired.errors import DataError
from unpaired.models.images import InpaintingGenerator, MaskedGenerator
from unpaired.models.pose import LiftingGenerator, PoseBasis
from unpaired.models.record import Export, RecordError, blueprint, rebuild, record

sys.path.insert(0, str(Path(__file__).parent))
from _runs import Fixed, lifting_task, pose_run, train


def test_a_nested_network_rebuilds_with_its_arguments_and_weights() -> None:
    basis = PoseBasis(torch.zeros(17, 3), torch.eye(8, 51), torch.ones(8))
    net = LiftingGenerator(basis, hidden=8, blocks=1)
    torch.nn.init.normal_(net.head.weight)
    bp = blueprint(net)
    assert bp["class"] == "unpaired.models.pose:LiftingGenerator"
    assert bp["kwargs"]["basis"]["__blueprint__"]["class"] == "unpaired.models.pose:PoseBasis"
    copy = rebuild(record(net))
    x = torch.rand(3, 17, 2) * 200 + 400
    assert torch.equal(copy(x)["pose_3d"], net.eval()(x)["pose_3d"])
    mask = torch.ones(1, 1, 8, 8)
    masked = MaskedGenerator(InpaintingGenerator(1, width=4, depth=1), mask)
    assert torch.equal(rebuild(record(masked)).mask, mask)


def test_only_recordable_classes_are_recorded_and_rebuilt() -> None:
    with pytest.raises(RecordError, match="Sequential is not @recordable"):
        blueprint(nn.Sequential(nn.Linear(2, 2)))

    class Sub(LiftingGenerator):  # a subclass must be decorated itself
        pass

    basis = PoseBasis(torch.zeros(17, 3), torch.eye(8, 51), torch.ones(8))
    with pytest.raises(RecordError, match="Sub is not @recordable"):
        blueprint(Sub(basis, hidden=8, blocks=1))
    rec = record(LiftingGenerator(basis, hidden=8, blocks=1))
    rec["blueprint"]["class"] = "os:system"
    with pytest.raises(RecordError, match="not a @recordable class"):
        rebuild(rec)
    rec["blueprint"]["class"] = "unpaired.models.pose:Gone"
    with pytest.raises(RecordError, match="renamed or moved"):
        rebuild(rec)


def test_the_engine_writes_records_with_every_checkpoint_and_load_lists_models(
    tmp_path: Path,
) -> None:
    run = pose_run(tmp_path / "run")
    assert list_models(run) == ["lifter"]
    payload = torch.load(model_path(run, "lifter"), weights_only=True)  # plain data only
    assert payload["format"] == FORMAT and payload["finished"] and payload["step"] == 2
    model = unpaired.load(run)  # the only model
    assert model.name == "lifter" and model.kind == "pose" and model.config["recipe"] == "tiny"
    assert model.meta["lifter"]["joints"][0] == "pelvis"
    ckpt = torch.load(run / "checkpoints/lifter/last.pt", weights_only=False)["task"]
    weights = {
        k.removeprefix("generator."): v for k, v in ckpt.items() if k.startswith("generator.")
    }
    got = model.network.state_dict()
    assert got.keys() == weights.keys() and all(torch.equal(got[k], weights[k]) for k in got)
    assert load(model_path(run, "lifter")).name == "lifter"  # the file alone
    with pytest.raises(DataError, match="has no model 'aign'; its models: lifter"):
        load(run, "aign")
    with pytest.raises(DataError, match="holds no models"):
        load(tmp_path)


def test_a_newer_record_format_is_refused_with_the_version(tmp_path: Path) -> None:
    run = pose_run(tmp_path / "run")
    path = model_path(run, "lifter")
    payload = torch.load(path, weights_only=True)
    payload["format"] = FORMAT + 1
    torch.save(payload, path)
    with pytest.raises(
        DataError, match=f"record format {FORMAT + 1}.*reads formats up to {FORMAT}"
    ):
        load(run)
    path.write_bytes(b"not a model")
    with pytest.raises(DataError, match="cannot read model file"):
        load(run)


class _Mean(Task):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(2, 2)

    def generator_losses(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"mse": (self.net(batch) - 1).square().mean()}


def test_tasks_without_exports_write_no_model_and_resume_fills_old_runs(tmp_path: Path) -> None:
    train(tmp_path / "a", {"plain": (_Mean(), torch.ones(4, 2))})
    assert list_models(tmp_path / "a") == []
    run = pose_run(tmp_path / "b")
    path = model_path(run, "lifter")
    before = torch.load(path, weights_only=True)["networks"]["lifter"]["state_dict"]
    path.unlink()  # as a run made before records existed
    task, batch = lifting_task(prior="mmd")
    with Session.open(run, resume=True, progress=False) as s:
        s.fit("lifter", task, Fixed(batch), TrainConfig(steps=2, log_every=1, checkpoint_every=1))
    after = torch.load(path, weights_only=True)["networks"]["lifter"]["state_dict"]
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_an_export_must_be_an_export(tmp_path: Path) -> None:
    from unpaired.engine.records import write_models

    task = _Mean()
    with pytest.raises(TypeError, match="must be an Export"):
        write_models(tmp_path, "m", task, {"net": task.net}, step=1, finished=True)  # type: ignore[dict-item]
    assert Export(task.net, "transform").meta == {}
