"""Guided (many-to-many) translation metrics: manipulation accuracy ACC and relative
discrepancy RD (thesis talk, "Metrics and Qualitative Results"; RIFT, Usman, Bashkirova &
Saenko).

A guided translation ``t = F_A2B(a, b)`` should keep the factors **shared** by both domains
from the source ``a`` and take the factors specific to the target domain from the guide
``b``; a factor specific to the *source* domain must take the target domain's frozen
value, which is ``b``'s value too. So the correct level is ``y*_k = a_k`` for shared
factors and ``y*_k = b_k`` otherwise, and ``y'_k`` is the other input's level.

* **ACC_k** (categorical factor): ``p(f_k(t) = y*_k | a_k != b_k)``.
* **ACC_k** (ordinal factor, e.g. scale, orientation):
  ``p(|f_k(t) - y*_k| <= |f_k(t) - y'_k| | a_k != b_k)`` (closer to the right input than
  to the wrong one; ties count as right).
* **RD** = ``100 * sum_k |ACC_k^S - ACC_k^C| / sum_k (ACC_k^S + ACC_k^C)``, where
  ``ACC_k^S`` is factor k's accuracy where it is domain-specific (source or target role)
  and ``ACC_k^C`` where it is common (shared). 0: every factor is handled alike whatever
  its role; a model that copies the source (or the guide) scores 100.

Reading used here (the slide's wording of RD and the conditioning are all that is
known): ``a_k``, ``b_k`` are the inputs' *true* levels (the procedural data has them
exactly; the slide writes ``f_k(a)``, which a >= 99% classifier makes nearly the same),
``f_k(t)`` is the measuring classifier's prediction; ``ACC_k^S`` is the mean of factor
k's ACC over every (split, direction) where it is specific, ``ACC_k^C`` over those where
it is shared; AVG is the mean over every (split, direction, factor).

Example:
    >>> src = torch.tensor([[0, 3], [1, 5]]); guide = torch.tensor([[2, 3], [1, 0]])
    >>> manipulation_accuracy(src, src, guide, ("shared", "target"), (False, True)).tolist()
    [1.0, 0.0]
    >>> relative_discrepancy([0.5, 1.0], [0.5, 1.0])
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape

ROLES = ("shared", "source", "target")


def manipulation_accuracy(
    pred: torch.Tensor,
    source: torch.Tensor,
    guide: torch.Tensor,
    roles: Sequence[str],
    ordinal: Sequence[bool],
) -> torch.Tensor:
    """ACC_k (K,) of predicted levels ``pred`` (N, K) of translations F(source, guide),
    given the inputs' levels ``source``, ``guide`` (N, K), each factor's role (``"shared"``
    / ``"source"`` / ``"target"``) and whether it is ordinal. NaN where no pair has
    ``source_k != guide_k``."""
    check_shape("pred", pred, ("N", "K"))
    check_shape("source", source, pred.shape)
    check_shape("guide", guide, pred.shape)
    k = pred.shape[1]
    if len(roles) != k or len(ordinal) != k:
        raise ValueError(f"need {k} roles and ordinal flags, got {len(roles)} and {len(ordinal)}")
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValueError(f"roles must be among {ROLES}, got {bad}")
    shared = torch.tensor([r == "shared" for r in roles])
    right = torch.where(shared, source, guide)
    wrong = torch.where(shared, guide, source)
    exact = pred == right
    closer = (pred - right).abs() <= (pred - wrong).abs()
    hit = torch.where(torch.tensor(list(ordinal)), closer, exact).float()
    mask = (source != guide).float()
    n = mask.sum(0)
    return torch.where(n > 0, (hit * mask).sum(0) / n.clamp(min=1), float("nan"))


def relative_discrepancy(specific: Sequence[float], common: Sequence[float]) -> float:
    """RD = 100 * sum_k |S_k - C_k| / sum_k (S_k + C_k) of per-factor accuracies."""
    s, c = (
        torch.tensor(list(specific), dtype=torch.float64),
        torch.tensor(list(common), dtype=torch.float64),
    )
    if s.shape != c.shape or s.numel() == 0:
        raise ValueError(
            f"need as many specific as common accuracies, got {s.numel()}, {c.numel()}"
        )
    den = float((s + c).sum())
    return 100.0 * float((s - c).abs().sum()) / den if den > 0 else 0.0


@dataclass(frozen=True)
class Record:
    """One ACC_k: factor ``factor`` of split ``split`` translated in ``direction``."""

    split: str
    direction: str
    factor: str
    role: str
    acc: float


def summarize(records: Iterable[Record]) -> dict[str, float]:
    """AVG (mean ACC, in %), AVG per split (``acc_<split>``), per role (``acc_<role>``),
    each factor's ACC^S / ACC^C (``<factor>_S`` / ``<factor>_C``) and RD (over the factors
    measured in both roles). NaN accuracies (no informative pair) are left out."""
    rows = [r for r in records if not math.isnan(r.acc)]
    if not rows:
        raise ValueError("no finite ACC records to summarize")

    def mean(xs: list[float]) -> float:
        return 100.0 * sum(xs) / len(xs) if xs else float("nan")

    out = {"acc": mean([r.acc for r in rows])}
    for split in sorted({r.split for r in rows}):
        out[f"acc_{split}"] = mean([r.acc for r in rows if r.split == split])
    for role in ROLES:
        out[f"acc_{role}"] = mean([r.acc for r in rows if r.role == role])
    spec, comm = [], []
    for factor in dict.fromkeys(r.factor for r in rows):
        s = mean([r.acc for r in rows if r.factor == factor and r.role != "shared"])
        c = mean([r.acc for r in rows if r.factor == factor and r.role == "shared"])
        out[f"{factor}_S"], out[f"{factor}_C"] = s, c
        if not (math.isnan(s) or math.isnan(c)):
            spec.append(s)
            comm.append(c)
    out["rd"] = relative_discrepancy(spec, comm) if spec else float("nan")
    return out
