"""Frozen-dataclass configs: typed overrides from the CLI (``--set key=value``) and YAML.

Every recipe has one config dataclass. Overrides name a field (``steps``) or a nested
field with dots (``train.lr``); values are parsed to the field's declared type
(``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, ``X | None``, ``tuple[...]``),
and anything unknown or ill-typed is a :class:`~unpaired.errors.ConfigError` with one
clear line.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from unpaired.errors import ConfigError

C = TypeVar("C")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_NONE = {"none", "null", "~", ""}


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b.c=x"]`` -> ``{"a": "1", "b.c": "x"}``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        return "comma-separated " + ", ".join(
            _type_name(a) for a in typing.get_args(tp) if a is not Ellipsis
        )
    return getattr(tp, "__name__", str(tp))


def coerce(value: Any, tp: Any, key: str) -> Any:
    """Parse/validate ``value`` (a CLI string or a YAML scalar/list) as type ``tp``."""
    bad = ConfigError(f"bad value for '{key}': expected {_type_name(tp)}, got {value!r}")
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if type(None) in args and (
            value is None or (isinstance(value, str) and value.lower() in _NONE)
        ):
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce(value, a, key)
            except ConfigError:
                continue
        raise bad
    if origin is Literal:
        allowed = typing.get_args(tp)
        for a in allowed:
            if value == a or (
                isinstance(value, str) and not isinstance(a, str) and value == str(a)
            ):
                return a
        raise bad
    if origin is tuple:
        args = typing.get_args(tp)
        items = [s.strip() for s in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise bad
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0], key) for v in items if v != "")
        if len(items) != len(args):
            raise bad
        return tuple(coerce(v, a, key) for v, a in zip(items, args, strict=True))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise bad
    if tp is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                raise bad from None
        raise bad
    if tp is float:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    if dataclasses.is_dataclass(tp):
        if isinstance(value, Mapping):
            return apply_overrides(tp(), value, prefix=f"{key}.")
        raise bad
    raise ConfigError(f"config field '{key}' has a type the CLI cannot set: {tp}")


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _field_names(cfg: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(cfg) if f.init]


def apply_overrides(cfg: C, overrides: Mapping[str, Any], *, prefix: str = "") -> C:
    """Return a copy of dataclass ``cfg`` with ``overrides`` (dotted keys) applied."""
    hints = _hints(type(cfg))
    names = _field_names(cfg)
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        head, dot, rest = key.partition(".")
        if head not in names:
            close = difflib.get_close_matches(head, names, n=1)
            hint = (
                f"; did you mean '{prefix}{close[0]}'?"
                if close
                else f" (known: {', '.join(prefix + n for n in names)})"
            )
            raise ConfigError(f"unknown config key '{prefix}{key}'{hint}")
        if dot:
            if not dataclasses.is_dataclass(hints[head]):
                raise ConfigError(
                    f"config key '{prefix}{head}' has no sub-keys (got '{prefix}{key}')"
                )
            nested.setdefault(head, {})[rest] = value
        elif dataclasses.is_dataclass(hints[head]) and isinstance(value, Mapping):
            nested.setdefault(head, {}).update(value)
        else:
            direct[head] = coerce(value, hints[head], prefix + head)
    for head, sub in nested.items():
        direct[head] = apply_overrides(getattr(cfg, head), sub, prefix=f"{prefix}{head}.")
    try:
        return dataclasses.replace(cfg, **direct)  # type: ignore[type-var]
    except (ValueError, TypeError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"invalid config: {e}") from None


def to_dict(cfg: Any) -> dict[str, Any]:
    """A YAML/JSON-friendly dict of a (nested) config dataclass; tuples become lists."""

    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        if isinstance(v, Path):
            return str(v)
        return v

    return conv(cfg)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping of overrides (the format of a run's ``config.yaml`` ``config``)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {p} is not valid YAML: {str(e).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"config file {p} must hold a mapping of key: value")
    return dict(data)
