from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unpaired.config import apply_overrides, load_yaml, parse_assignments, to_dict
from unpaired.engine import TrainConfig
from unpaired.errors import ConfigError


@dataclass(frozen=True)
class Cfg:
    n: int = 3
    rate: float = 0.5
    name: str = "a"
    flag: bool = False
    mode: Literal["x", "y"] = "x"
    cap: float | None = None
    shift: tuple[float, float] = (0.0, 0.0)
    files: tuple[str, ...] = ()
    train: TrainConfig = field(default_factory=TrainConfig)


def test_cli_strings_are_parsed_to_field_types() -> None:
    cfg = apply_overrides(
        Cfg(),
        parse_assignments(
            [
                "n=7",
                "rate=1e-3",
                "name=b",
                "flag=yes",
                "mode=y",
                "cap=none",
                "shift=1,-2.5",
                "files=a.amc,b.bvh",
                "train.lr=0.01",
                "train.clip_grad=2",
            ]
        ),
    )
    assert cfg == Cfg(
        n=7,
        rate=1e-3,
        name="b",
        flag=True,
        mode="y",
        cap=None,
        shift=(1.0, -2.5),
        files=("a.amc", "b.bvh"),
        train=TrainConfig(lr=0.01, clip_grad=2.0),
    )


def test_yaml_values_and_nested_mappings(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("n: 4\nshift: [1, 2]\ntrain:\n  steps: 9\n")
    cfg = apply_overrides(Cfg(), load_yaml(path))
    assert cfg.n == 4 and cfg.shift == (1.0, 2.0) and cfg.train.steps == 9
    assert apply_overrides(Cfg(), to_dict(cfg)) == cfg  # round trip


@pytest.mark.parametrize(
    "item,message",
    [
        ("nn=1", "unknown config key 'nn'; did you mean 'n'"),
        ("n=1.5", "bad value for 'n': expected int"),
        ("flag=maybe", "bad value for 'flag': expected bool"),
        ("mode=z", "expected one of 'x', 'y'"),
        ("shift=1", "bad value for 'shift'"),
        ("train.stepz=1", "unknown config key 'train.stepz'"),
        ("n.x=1", "has no sub-keys"),
        ("train.steps=-5", "steps must be >= 0"),
        ("novalue", "expects key=value"),
    ],
)
def test_bad_overrides_are_one_line_config_errors(item: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(Cfg(), parse_assignments([item]))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_yaml_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(tmp_path / "list.yaml")


@given(st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_numbers_round_trip_through_strings(n: int, x: float) -> None:
    cfg = apply_overrides(Cfg(), {"n": str(n), "rate": repr(x)})
    assert cfg.n == n and cfg.rate == pytest.approx(x)
