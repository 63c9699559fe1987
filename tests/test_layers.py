"""The floors of the package (DESIGN.md, "Layout"), checked on the source.

* a module imports nothing from a higher floor (every ``import`` statement anywhere in
  the module, function bodies included, and every ``"unpaired.x"`` module-path string,
  which is how a lazy import names its target);
* a recipe module defines no ``nn.Module`` (hence no ``Task``) subclass, imports no
  plotting library and stays under 300 lines;
* no function in ``src/`` is longer than 120 lines;
* nothing in ``src/`` selects a matplotlib backend or uses ``pyplot`` (the object API
  needs neither).

``PENDING`` lists the modules still waiting for their move out of the recipes (issue 11):
the list only shrinks, and the integrator empties it when the moves land. ``SHIMS`` are
the deliberate exceptions, each with its reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
from torch import nn

SRC = Path(__file__).resolve().parents[1] / "src" / "unpaired"

#: Floor of each top-level module or package of ``unpaired``; a module may import its
#: own floor and the floors below.
FLOORS: dict[str, int] = {
    "__init__": 0,
    "_checks": 0,
    "errors": 0,
    "geometry": 0,
    "config": 0,  # frozen-dataclass overrides: imports only errors
    "distances": 1,
    "renderers": 1,
    "metrics": 1,
    "models": 2,
    "data": 2,
    "engine": 3,
    "aign": 4,
    "alignment": 4,
    "translation": 4,
    "multiview": 4,
    "evaluation": 4,
    "inference": 4,  # predict, export, runs: reads files, applies loaded models, viz figures
    "viz": 4,
    "recipes": 5,
    "report": 5,
    "cli": 6,
}
MAX_RECIPE_LINES = 300
MAX_FUNCTION_LINES = 120

#: (module, what it may import above its floor): reasons in the comments.
SHIMS: dict[str, set[str]] = {
    # deprecated names of the old alignment module (make_distance, align_files, ...),
    # resolved from the edge only when accessed, with a DeprecationWarning
    "unpaired/alignment/__init__.py": {"recipes"},
    # ``unpaired.load`` (engine.records.load): the public entry point to a run's models,
    # imported lazily on first access so that ``import unpaired`` stays free
    "unpaired/__init__.py": {"engine"},
}

#: Not yet moved (issue 11). Shrinks only; each entry says what is left and where it goes.
PENDING: dict[str, set[str]] = {}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _rel(path: Path) -> str:
    return "unpaired/" + path.relative_to(SRC).as_posix()


def _top(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0].removesuffix(".py")


def _pending(path: Path, rule: str) -> bool:
    return rule in PENDING.get(_rel(path), set())


def _package(path: Path) -> tuple[str, ...]:
    """``("unpaired", "models")`` for ``unpaired/models/x.py`` and ``models/__init__.py``."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return parts[:-1]


def _imported_tops(source: str, package: tuple[str, ...]) -> set[str]:
    """Top-level ``unpaired`` packages a module of ``package`` imports (or names as a
    module path) in ``source``."""
    tree = ast.parse(source)
    tops: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package[: len(package) - node.level + 1]
                names = [".".join([*base, node.module or ""]).rstrip(".")]
            else:
                names = [node.module or ""]
            names += [f"{names[0]}.{a.name}" for a in node.names if names[0] == "unpaired"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if re.fullmatch(r"unpaired(\.\w+)+", node.value):
                names = [node.value]
        for name in names:
            parts = name.split(".")
            if parts[0] == "unpaired" and len(parts) > 1:
                tops.add(parts[1])
    return tops


def test_every_top_level_module_has_a_floor() -> None:
    tops = {_top(p) for p in _modules()}
    assert tops <= set(FLOORS), f"give these a floor in FLOORS: {sorted(tops - set(FLOORS))}"


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_no_module_imports_a_higher_floor(path: Path) -> None:
    own = FLOORS[_top(path)]
    allowed = SHIMS.get(_rel(path), set())
    higher = sorted(
        t
        for t in _imported_tops(path.read_text(), _package(path))
        if t in FLOORS and FLOORS[t] > own and t not in allowed
    )
    assert not higher, f"{_rel(path)} (floor {own}) imports a higher floor: {higher}"


def test_the_import_scan_sees_lazy_and_relative_imports() -> None:
    """The checker itself: imports inside functions, relative imports and module-path
    strings all count (a check that cannot fail checks nothing)."""
    code = (
        "from ..engine import Task\n"
        "from . import transforms\n"
        "from unpaired import report\n"
        "def f():\n    import unpaired.recipes.base\n"
        "X = {'a': 'unpaired.cli', 'doc': 'see unpaired.viz for plots'}\n"
    )
    tops = _imported_tops(code, ("unpaired", "models"))
    assert tops == {"engine", "models", "report", "recipes", "cli"}


def _recipe_modules() -> list[Path]:
    return sorted((SRC / "recipes").glob("*.py"))


def _module_subclasses(path: Path) -> list[str]:
    """The ``nn.Module`` subclasses (``Task`` included) the module at ``path`` defines."""
    name = "unpaired." + ".".join(path.relative_to(SRC).with_suffix("").parts)
    module = importlib.import_module(name.removesuffix(".__init__"))
    return [
        c.__name__
        for _, c in inspect.getmembers(module, inspect.isclass)
        if c.__module__ == module.__name__ and issubclass(c, nn.Module)
    ]


@pytest.mark.parametrize("path", _recipe_modules(), ids=_rel)
def test_recipe_modules_are_config_wiring_and_tables(path: Path) -> None:
    if not _pending(path, "module"):
        defined = _module_subclasses(path)
        assert not defined, f"{_rel(path)} defines nn.Module/Task subclasses {defined}"
    if not _pending(path, "lines"):
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_RECIPE_LINES, f"{_rel(path)} has {lines} lines"
    if not _pending(path, "plot"):
        tree = ast.parse(path.read_text())
        plots = [
            n.lineno
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            and any(
                (getattr(n, "module", None) or a.name).startswith("matplotlib") for a in n.names
            )
        ]
        assert not plots, f"{_rel(path)} imports matplotlib (lines {plots}): plots go to viz/"


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_no_function_is_longer_than_120_lines(path: Path) -> None:
    if _pending(path, "function"):
        return
    tree = ast.parse(path.read_text())
    long = [
        f"{n.name} ({n.end_lineno - n.lineno + 1} lines)"
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{_rel(path)}: {long}"


def _backend_or_pyplot(source: str) -> list[str]:
    """``matplotlib.use(...)`` calls and ``pyplot`` imports in ``source``."""
    found = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Import):
            found += [f"import {a.name}" for a in n.names if a.name == "matplotlib.pyplot"]
        elif isinstance(n, ast.ImportFrom) and (n.module or "").startswith("matplotlib"):
            names = [a.name for a in n.names]
            if n.module == "matplotlib.pyplot" or "pyplot" in names:
                found.append(f"from {n.module} import {', '.join(names)}")
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "use"
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "matplotlib"
        ):
            found.append("matplotlib.use(...)")
    return found


def test_the_plot_scan_finds_backends_and_pyplot() -> None:
    code = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    assert sorted(_backend_or_pyplot(code)) == ["import matplotlib.pyplot", "matplotlib.use(...)"]
    assert _backend_or_pyplot('"""no pyplot here"""\nfrom matplotlib.figure import Figure') == []


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_no_backend_selection_or_pyplot(path: Path) -> None:
    if _pending(path, "plot"):
        return
    found = _backend_or_pyplot(path.read_text())
    assert not found, f"{_rel(path)}: {found} (use matplotlib.figure.Figure, no backend)"


def test_pending_only_lists_what_still_fails() -> None:
    """An entry whose rule already passes must leave PENDING (the list only shrinks)."""
    stale = []
    for rel, rules in PENDING.items():
        path = SRC.parent / rel
        if not path.exists():
            stale.append(f"{rel} (gone)")
            continue
        text = path.read_text()
        tree = ast.parse(text)
        if "lines" in rules and len(text.splitlines()) <= MAX_RECIPE_LINES:
            stale.append(f"{rel}: lines")
        if "plot" in rules and "matplotlib" not in text:
            stale.append(f"{rel}: plot")
        if "module" in rules and not _module_subclasses(path):
            stale.append(f"{rel}: module")
        if "function" in rules and not any(
            isinstance(n, ast.FunctionDef) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES
            for n in ast.walk(tree)
        ):
            stale.append(f"{rel}: function")
    assert not stale, f"remove from PENDING: {stale}"
