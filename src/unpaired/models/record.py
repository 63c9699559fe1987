"""Model records: networks that say how to rebuild themselves.

A class decorated with :func:`recordable` remembers, per instance, the arguments its
constructor was called with. :func:`blueprint` turns them into plain data (the class's
import path and its keyword arguments: numbers, strings, tuples, lists, dicts, tensors
and, recursively, the blueprints of recordable networks passed as arguments);
:func:`rebuild` calls the constructor again from it. A record (:func:`record`) is a
blueprint plus the weights: what the engine writes to ``models/<name>.pt`` for each
network a task exports (:class:`Export`), readable with ``torch.load(weights_only=True)``.

Only ``@recordable`` classes are rebuilt (a record cannot name an arbitrary callable).

Example:
    >>> import torch
    >>> from torch import nn
    >>> @recordable
    ... class Net(nn.Module):
    ...     def __init__(self, dim: int, *, hidden: int = 8) -> None:
    ...         super().__init__()
    ...         self.f = nn.Sequential(nn.Linear(dim, hidden), nn.Linear(hidden, 1))
    ...     def forward(self, x):
    ...         return self.f(x)
    >>> net = Net(3, hidden=4)
    >>> blueprint(net)["kwargs"]
    {'dim': 3, 'hidden': 4}
    >>> copy = rebuild(record(net), classes={"Net": Net})
    >>> x = torch.randn(2, 3)
    >>> bool(torch.equal(copy(x), net(x)))
    True
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import nn

from unpaired.errors import UnpairedError

__all__ = ["Export", "RecordError", "blueprint", "rebuild", "record", "recordable"]

C = TypeVar("C", bound=type)

_ARGS = "_recorded_args"  # instance attribute: (class, {name: value})
_MARK = "__recordable__"  # class attribute set by the decorator
_NESTED = "__blueprint__"  # key of a nested blueprint inside kwargs


class RecordError(UnpairedError):
    """A network cannot be recorded or rebuilt (not ``@recordable``, unknown class, ...)."""


@dataclass(frozen=True)
class Export:
    """One network a task exports (``Task.exports()``): the module, its ``kind`` (how
    ``unpaired predict`` applies it: ``"pose"``, ``"image"``, ``"depth"``,
    ``"egomotion"``, ``"transform"``, ``"classifier"``, ...) and ``meta``: what applying
    it needs besides the weights (normalisation statistics, joint order, image size,
    intrinsics), as numbers, strings, tuples, lists, dicts and tensors."""

    network: nn.Module
    kind: str
    meta: Mapping[str, Any] = field(default_factory=dict)


def recordable(cls: C) -> C:
    """Class decorator: every instance remembers its constructor arguments (by name)."""
    init = cls.__init__
    signature = inspect.signature(init)
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            raise TypeError(f"@recordable {cls.__name__}: *args/positional-only parameters")

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if type(self) is cls:  # a subclass records its own arguments (or none)
            bound = signature.bind(self, *args, **kwargs)
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))
            for p in signature.parameters.values():
                if p.kind is p.VAR_KEYWORD:
                    arguments.update(arguments.pop(p.name, {}))
            object.__setattr__(self, _ARGS, (cls, arguments))

    cls.__init__ = __init__  # type: ignore[misc]
    setattr(cls, _MARK, True)
    return cls


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, tuple):
        return tuple(_encode(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, nn.Module):
        return {_NESTED: blueprint(value, where=where)}
    raise RecordError(
        f"cannot record argument {where} of type {type(value).__name__} "
        "(numbers, strings, tuples, lists, dicts, tensors and @recordable networks only)"
    )


def blueprint(module: nn.Module, *, where: str | None = None) -> dict[str, Any]:
    """``{"class": "module:Class", "kwargs": {...}}``: how to construct ``module`` again."""
    name = type(module).__name__
    recorded = getattr(module, _ARGS, None)
    if recorded is None or recorded[0] is not type(module):
        raise RecordError(
            f"{where or name}: {type(module).__module__}.{name} is not @recordable "
            "(decorate the class with unpaired.models.record.recordable)"
        )
    cls, arguments = recorded
    where = where or name
    kwargs = {k: _encode(v, f"{where}.{k}") for k, v in arguments.items()}
    return {"class": _class_path(cls), "kwargs": kwargs}


def record(module: nn.Module, state: Mapping[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Blueprint plus weights: ``{"blueprint": ..., "state_dict": ...}`` (``state``
    defaults to ``module.state_dict()``; the engine passes the slice of the task's full
    state dict, which is what a sharded run holds)."""
    weights = module.state_dict() if state is None else state
    return {
        "blueprint": blueprint(module),
        "state_dict": {k: v.detach().cpu() for k, v in weights.items()},
    }


def _resolve(path: str, classes: Mapping[str, type] | None) -> type:
    module, _, qualname = path.partition(":")
    if classes and qualname in classes:
        return classes[qualname]
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise RecordError(
            f"cannot rebuild {path}: {e} (was the network renamed or moved?)"
        ) from None
    if not (isinstance(obj, type) and getattr(obj, _MARK, False)):
        raise RecordError(f"cannot rebuild {path}: not a @recordable class")
    return obj


def _decode(value: Any, classes: Mapping[str, type] | None) -> Any:
    if isinstance(value, tuple):
        return tuple(_decode(v, classes) for v in value)
    if isinstance(value, list):
        return [_decode(v, classes) for v in value]
    if isinstance(value, dict):
        if set(value) == {_NESTED}:
            return _construct(value[_NESTED], classes)
        return {k: _decode(v, classes) for k, v in value.items()}
    return value


def _construct(bp: Mapping[str, Any], classes: Mapping[str, type] | None) -> nn.Module:
    cls = _resolve(bp["class"], classes)
    kwargs = {k: _decode(v, classes) for k, v in bp["kwargs"].items()}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise RecordError(
            f"cannot rebuild {bp['class']} with the recorded arguments {sorted(kwargs)}: {e}"
        ) from None


def rebuild(rec: Mapping[str, Any], *, classes: Mapping[str, type] | None = None) -> nn.Module:
    """The network of a :func:`record`, weights loaded, in eval mode (on CPU).

    ``classes`` maps class names to classes for networks defined outside an importable
    module (doctests, notebooks)."""
    net = _construct(rec["blueprint"], classes)
    try:
        net.load_state_dict(rec["state_dict"])
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise RecordError(f"the weights do not fit {rec['blueprint']['class']}: {first}") from None
    return net.eval()
