"""Every recipe of the registry trains something ``unpaired predict`` can apply.

For each recipe the tasks it fits are read from its code: the names of ``Task`` classes
(and of the library functions that build and fit one, :data:`FITTING_FUNCTIONS`) that
the recipe module and the private ``unpaired.recipes._*`` modules it imports refer to
(identifiers in the syntax tree, not words in strings). Each such class's exports are
taken from its contract builders in ``tests/test_tasks.py`` (``TASKS``), so:

* a recipe whose tasks export no network of a kind ``predict`` knows fails, unless it is
  in :data:`NOTHING_TO_APPLY` with the reason;
* a task class that exports nothing must be in :data:`EXPORTS_NOTHING` with the reason
  (and the list is checked: a listed class that starts exporting fails too);
* a task class a recipe uses without a contract builder fails (add one to ``TASKS``).

A new recipe that forgets its exports, or a new task that has none, fails here.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import sys
from functools import cache
from pathlib import Path

import pytest

import unpaired
from unpaired.engine.task import Task
from unpaired.inference import PREDICTORS
from unpaired.recipes import RECIPES

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_tasks import TASKS

#: Library functions that build a task and fit it (a recipe calls them, not the class).
FITTING_FUNCTIONS: dict[str, str] = {
    "align": "AlignTask",  # unpaired.alignment.align
    "fit_private_densities": "DensityTask",  # flow LRMF's private densities
    "train_stages": "MetaPoseTask",  # MetaPose's S2 stages
}

#: Task classes with nothing to apply to a user's files, and why.
EXPORTS_NOTHING: dict[str, str] = {
    "AIGN": "the generic AIGN (gan-augment's DCGAN) maps latent noise, not user data",
    "DensityTask": "a density of one set (flow LRMF's private densities): a measurement",
    "AutoencoderTask": "the embedding align-digits aligns in: a step of the measurement",
    "Replicas": "several alignments fitted together to measure their spread",
    "KnownMapReplicas": "replicas scored against a known map: a measurement",
    "FactorTask": "the factor classifier that scores rift-shapes' translations",
}

#: Recipes that fit no network at all, and why.
NOTHING_TO_APPLY: dict[str, str] = {
    "gan-dirac": "min-max toy games on a few scalars: measured convergence rates, no network",
}

_IGNORED_MODULES = {"unpaired.recipes.base", "unpaired.recipes.runner", "unpaired.recipes"}


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # ``from package.module import name``: not a module
        return False


@cache
def _task_classes() -> dict[str, type]:
    """Every ``Task`` subclass of the library, by name."""
    for info in pkgutil.walk_packages(unpaired.__path__, "unpaired."):
        if not info.name.startswith("unpaired.recipes."):
            importlib.import_module(info.name)
    found: dict[str, type] = {}
    stack = list(Task.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("unpaired."):
            found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def _names_and_imports(module: str) -> tuple[set[str], set[str]]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    tree = ast.parse(Path(spec.origin).read_text())
    names: set[str] = set()
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module)
            imports |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imports |= {a.name for a in node.names}
    return names, imports


def recipe_tasks(recipe: str) -> set[str]:
    """The task classes a recipe fits (module docstring)."""
    seen: set[str] = set()
    todo = [RECIPES[recipe].module]
    names: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        found, imports = _names_and_imports(module)
        names |= found
        todo += [
            m
            for m in imports
            if m.startswith("unpaired.recipes.") and m not in _IGNORED_MODULES and _is_module(m)
        ]
    classes = set(_task_classes())
    return (names & classes) | {FITTING_FUNCTIONS[n] for n in names & set(FITTING_FUNCTIONS)}


@cache
def _class_kinds() -> dict[str, set[str]]:
    """Task class name -> the kinds its contract builders export (union over builders)."""
    kinds: dict[str, set[str]] = {}
    for build in TASKS.values():
        task, _ = build()
        kinds.setdefault(type(task).__name__, set()).update(
            ex.kind for ex in task.exports().values()
        )
    return kinds


def _is_task_subclass_name(name: str) -> bool:
    return name in _task_classes()


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_every_recipe_trains_a_network_predict_applies(recipe: str) -> None:
    tasks = recipe_tasks(recipe)
    if recipe in NOTHING_TO_APPLY:
        exporting = {t for t in tasks if _class_kinds().get(t)}
        assert not exporting, f"{recipe} is listed as NOTHING_TO_APPLY but fits {exporting}"
        return
    assert tasks, (
        f"recipe {recipe}: no task found in its code; if it fits none, list it in "
        "NOTHING_TO_APPLY with the reason"
    )
    missing = sorted(t for t in tasks if t not in _class_kinds())
    assert not missing, f"recipe {recipe} fits {missing}, which have no builder in TASKS"
    kinds = set().union(*(_class_kinds()[t] for t in tasks))
    assert kinds, (
        f"recipe {recipe} fits {sorted(tasks)}, none of which exports a network "
        "(Task.exports): give one an export of a predict kind, or list the recipe in "
        "NOTHING_TO_APPLY with the reason"
    )
    assert kinds <= set(PREDICTORS), f"{recipe}: kinds {kinds - set(PREDICTORS)} unknown"


def test_every_task_a_recipe_fits_exports_or_says_why_not() -> None:
    used = set().union(*(recipe_tasks(r) for r in RECIPES))
    assert "MetaPoseTask" in used and "StarGANv2" in used and "PuppetGAN" in used  # found
    for name in sorted(used):
        assert name in _class_kinds(), f"{name} (fitted by a recipe) has no builder in TASKS"
        if name in EXPORTS_NOTHING:
            assert not _class_kinds()[name], f"{name} exports now: remove it from EXPORTS_NOTHING"
        else:
            assert _class_kinds()[name], (
                f"{name} is fitted by a recipe and exports nothing: add Task.exports, or "
                "list it in EXPORTS_NOTHING with the reason"
            )
    assert all(_is_task_subclass_name(n) for n in EXPORTS_NOTHING), "stale EXPORTS_NOTHING"


def test_the_scan_sees_through_private_modules_and_fitting_functions() -> None:
    assert recipe_tasks("sr-faces") >= {"ImageAIGN", "ClassifierTask"}  # via _images_run
    assert "MetaPoseTask" in recipe_tasks("metapose-synthetic")  # via train_stages
    assert "LiftingTask" in recipe_tasks("metapose-synthetic")
    assert recipe_tasks("gan-dirac") == set()
