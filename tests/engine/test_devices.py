from __future__ import annotations

import pytest
from lightning_fabric.strategies import DDPStrategy, SingleDeviceStrategy

from unpaired.engine.devices import check_device_options, launch, make_fabric
from unpaired.errors import ConfigError


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"devices": 0}, "devices must be >= 1, got 0"),
        ({"num_nodes": 0}, "num_nodes must be >= 1, got 0"),
        ({"precision": "8-bit"}, "precision must be one of 32-true, 64-true"),
        ({"strategy": "deepspeed"}, "strategy must be one of ddp, fsdp; got 'deepspeed'"),
        ({"precision": "16-mixed", "accelerator": "cpu"}, "16-mixed needs a GPU"),
    ],
)
def test_bad_device_options_are_one_line_config_errors(kwargs: dict, needle: str) -> None:
    args = {"devices": 1, "precision": "32-true", "accelerator": "cpu"} | kwargs
    devices, precision = args.pop("devices"), args.pop("precision")
    with pytest.raises(ConfigError, match=needle) as info:
        check_device_options(devices, precision, **args)
    assert "\n" not in str(info.value)


def test_num_nodes_and_strategy_reach_fabric() -> None:
    # Not launched: no process is started, Fabric only resolves its strategy.
    fabric = make_fabric(2, accelerator="cpu", num_nodes=3, strategy="ddp")
    assert isinstance(fabric.strategy, DDPStrategy)
    assert fabric.strategy.num_nodes == 3 and fabric.strategy.num_processes == 2
    assert fabric.world_size == 6
    single = make_fabric(1, accelerator="cpu", strategy="ddp")
    assert isinstance(single.strategy, SingleDeviceStrategy)


def test_a_mismatch_with_torchrun_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # What torchrun sets for a world of 4 processes; --devices 2 on one node does not match.
    env = {"TORCHELASTIC_RUN_ID": "t", "WORLD_SIZE": "4", "RANK": "0", "LOCAL_RANK": "0"}
    env |= {"GROUP_RANK": "0", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1"}
    for k, v in (env | {"MASTER_PORT": "29511"}).items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError, match=r"devices=2.*num_nodes=1.*world size \(4\)"):
        launch(make_fabric(2, accelerator="cpu"))
