"""What each recipe claims, as data: checked against the run's ``metrics.json``.

A recipe's entry in ``_claims_table.CLAIMS`` is a :class:`RecipeClaims`: one sentence saying what
it reproduces (paper, figure or table) and a few :class:`Claim` rows, each a number of
``metrics.json["metrics"]`` (a *path* of keys; an ``int`` indexes a list and ``"max"``,
``"min"``, ``"mean"`` reduce one) compared with a goal. :func:`evaluate` gives each a
:class:`Verdict`: ``met``, ``not met`` or ``n/a`` (the metric is absent, e.g. a setting
that ``--quick`` skips, or the run stopped early), with the numbers. The first claim is
the recipe's headline. A recipe without an entry is reported as "no claims declared".

Declaring the claims of a new recipe is one entry (see docs/REPORTS.md)::

    "my-recipe": RecipeClaims(
        "AIGN Table 3: self-supervised finetuning halves the translation error",
        (ratio("finetuned / pretrained trl err", ("test", "fine", "trl_err"),
               ("test", "pre", "trl_err"), at_most=0.5, paper=0.27, source="issue 5"),),
    ),

Example:
    >>> c = RecipeClaims("x beats y", (ratio("x / y error", ("x", "err"), ("y", "err"),
    ...                  at_most=0.9),))
    >>> [v.status for v in evaluate(c, {"status": "completed",
    ...                                 "metrics": {"x": {"err": 1.0}, "y": {"err": 2.0}}})]
    ['met']
    >>> evaluate(c, {"status": "completed", "metrics": {}})[0].detail
    'no metric x > err'
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from unpaired.report import fmt3

__all__ = [
    "Claim",
    "RecipeClaims",
    "Verdict",
    "at_least",
    "at_most",
    "claims_for",
    "evaluate",
    "holds",
    "less",
    "ratio",
    "summarize",
]

MetricPath = tuple[str | int, ...]
Goal = float | bool | MetricPath

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "is": operator.eq,
}
_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "max": max,
    "min": min,
    "mean": lambda xs: sum(xs) / len(xs),
}


@dataclass(frozen=True)
class Claim:
    """``value [/ over] op goal``: e.g. AIGN's error over the baseline's ``<=`` 0.89.

    ``goal`` is a number, ``True``/``False`` (``op="is"``) or another metric's path;
    ``paper`` the paper's figure for the same quantity (shown beside ours); ``source``
    where the goal comes from ("issue 5", "AIGN Table 1"; "ours" where we chose it)."""

    label: str
    value: MetricPath
    op: str
    goal: Goal
    over: MetricPath | None = None
    paper: float | bool | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"claim '{self.label}': op must be one of {list(_OPS)}")


def at_most(label: str, value: MetricPath, goal: Goal, **kw: Any) -> Claim:
    """The metric at ``value`` is ``<= goal``."""
    return Claim(label, value, "<=", goal, **kw)


def at_least(label: str, value: MetricPath, goal: Goal, **kw: Any) -> Claim:
    """The metric at ``value`` is ``>= goal``."""
    return Claim(label, value, ">=", goal, **kw)


def ratio(
    label: str,
    method: MetricPath,
    baseline: MetricPath,
    *,
    at_most: float | None = None,
    at_least: float | None = None,
    **kw: Any,
) -> Claim:
    """``method / baseline`` is ``<= at_most`` (lower is better) or ``>= at_least``."""
    if (at_most is None) == (at_least is None):
        raise ValueError(f"claim '{label}': give exactly one of at_most, at_least")
    if at_most is not None:
        return Claim(label, method, "<=", at_most, over=baseline, **kw)
    return Claim(label, method, ">=", at_least, over=baseline, **kw)  # type: ignore[arg-type]


def holds(label: str, value: MetricPath, **kw: Any) -> Claim:
    """The boolean metric at ``value`` is true."""
    return Claim(label, value, "is", True, **kw)


def less(label: str, value: MetricPath, than: MetricPath, **kw: Any) -> Claim:
    """The metric at ``value`` is below the metric at ``than``."""
    return Claim(label, value, "<", than, **kw)


@dataclass(frozen=True)
class RecipeClaims:
    """What a recipe reproduces (``claim``: paper, figure or table) and its checks.

    ``curve``: the history key (``eval/...``) of the headline metric over steps, drawn
    for every model in one comparison plot (``curve_label``: its axis label, with the
    unit); ``curve_ref`` names the paper's figure."""

    claim: str
    goals: tuple[Claim, ...]
    curve: str | None = None
    curve_ref: str = ""
    curve_label: str = ""


@dataclass(frozen=True)
class Verdict:
    """One claim checked: ``status`` is ``met``, ``not met`` or ``n/a`` (``detail`` why)."""

    label: str
    status: str
    value: float | bool | None
    goal: str
    paper: float | bool | None
    source: str
    detail: str
    shown: str = ""  # ``value`` as text, with the digits that tell it from the goal

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _path_text(path: MetricPath) -> str:
    return " > ".join(str(p) for p in path)


def lookup(metrics: Any, path: MetricPath) -> Any:
    """The value at ``path`` in ``metrics``; :class:`KeyError` naming the path if absent.

    Example:
        >>> lookup({"a": [1.0, 3.0, 2.0]}, ("a", "max")), lookup({"a": [1.0, 3.0]}, ("a", -1))
        (3.0, 3.0)
    """
    node = metrics
    for part in path:
        if isinstance(node, list) and isinstance(part, str) and part in _REDUCERS:
            nums = [x for x in node if isinstance(x, (int, float)) and not isinstance(x, bool)]
            if not nums:
                raise KeyError(_path_text(path))
            node = _REDUCERS[part](nums)
        elif isinstance(node, Mapping) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
        else:
            raise KeyError(_path_text(path))
    return node


def _number(x: Any) -> float | bool | None:
    if isinstance(x, bool):
        return x
    if isinstance(x, (int, float)) and math.isfinite(x):
        return float(x)
    return None


def _enough(value: Any, goal: Any) -> str:
    """``value`` to 3 significant digits, more (up to 7) while it reads like ``goal``:
    a rate of 1.0003 against a goal of > 1 shows as 1.0003, not 1.

    Example:
        >>> _enough(1.0003, 1.0), _enough(0.2345, 0.5), _enough(True, True)
        ('1.0003', '0.234', 'yes')
    """
    if not isinstance(value, float) or isinstance(goal, bool) or not isinstance(goal, float):
        return "" if value is None else fmt3(value)
    for digits in range(3, 8):
        if f"{value:.{digits}g}" != f"{goal:.{digits}g}":
            break
    return fmt3(value) if digits == 3 else f"{value:.{digits}g}"


def _check(claim: Claim, metrics: Mapping[str, Any]) -> Verdict:
    def verdict(status: str, value: Any, goal: str, detail: str) -> Verdict:
        shown = _enough(value, goal_value)
        return Verdict(claim.label, status, value, goal, claim.paper, claim.source, detail, shown)

    goal_value: Any = claim.goal

    goal_text = "" if isinstance(claim.goal, tuple) else f"{claim.op} {fmt3(claim.goal)}"
    if claim.op == "is":
        goal_text = fmt3(claim.goal)
    try:
        value = _number(lookup(metrics, claim.value))
        if claim.over is not None:
            den = _number(lookup(metrics, claim.over))
            value = value / den if isinstance(value, float) and den else None
        goal: Any = claim.goal
        if isinstance(goal, tuple):
            goal = goal_value = _number(lookup(metrics, goal))
            goal_text = f"{claim.op} {fmt3(goal)} ({_path_text(claim.goal)})"
    except KeyError as e:
        return verdict("n/a", None, goal_text, f"no metric {e.args[0]}")
    if value is None or goal is None or isinstance(value, bool) != isinstance(goal, bool):
        return verdict("n/a", value, goal_text, "not a finite number")
    held = bool(_OPS[claim.op](value, goal))
    shown = f"{_enough(value, goal)} {claim.op} {fmt3(goal)}" if claim.op != "is" else fmt3(value)
    return verdict("met" if held else "not met", value, goal_text, shown)


def evaluate(claims: RecipeClaims | None, metrics_json: Mapping[str, Any]) -> list[Verdict]:
    """Each claim of ``claims`` checked against a run's ``metrics.json`` (as a dict).

    A run that stopped early gets ``n/a`` throughout; ``claims=None`` (no declaration)
    gives no verdicts."""
    if claims is None:
        return []
    if metrics_json.get("status", "completed") != "completed":
        stopped = "the run stopped early"
        return [Verdict(c.label, "n/a", None, "", c.paper, c.source, stopped) for c in claims.goals]
    metrics = metrics_json.get("metrics") or {}
    return [_check(c, metrics) for c in claims.goals]


def summarize(verdicts: Sequence[Verdict]) -> str:
    """One word for a run: ``met`` (all checked claims), ``not met`` (any), ``n/a``;
    with the count, e.g. ``2/3 met``."""
    checked = [v for v in verdicts if v.status != "n/a"]
    if not verdicts:
        return "no claims declared"
    if not checked:
        return "n/a"
    met = sum(v.status == "met" for v in checked)
    return f"{met}/{len(checked)} met" + (
        f" ({len(verdicts) - len(checked)} n/a)" if len(checked) < len(verdicts) else ""
    )


def claims_for(name: str) -> RecipeClaims | None:
    """The declared claims of recipe ``name``, or ``None``."""
    from unpaired.recipes._claims_table import CLAIMS

    return CLAIMS.get(name)
