"""Evaluating attribute manipulation (PuppetGAN's Table 2) for any model.

A *manipulator* is a callable ``(a, b) -> y``: real images ``a`` (N, 1, H, W) and
synthetic references ``b`` (same shape), both in [-1, 1], to outputs in [-1, 1] that
should show ``a`` with ``b``'s attribute of interest (AoI). PuppetGAN's and Cycle-VAE's
``manipulate`` are manipulators; a CycleGAN becomes one as ``(a, b) -> G_BA(b)`` (it can
only translate the reference: "CycleGAN translates all attributes"), a MUNIT as its
content of ``a`` decoded with the style of ``b``.

:class:`Probe` fixes the evaluation inputs once (held-out real digits with their labels,
references drawn with a fixed generator), so every model is measured on the same pairs.
:func:`evaluate_manipulation` returns the metrics of
:mod:`unpaired.metrics.manipulation` (``Acc``, ``r_attr``, ``r_rest``, ``V_rest``);
:func:`domain_discrepancy` the input domain discrepancy ``J_attr``, ``J_rest``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from unpaired._checks import check_shape
from unpaired.data.synthetic.font_digits import (
    AOIS,
    Ranges,
    render,
    sample_attributes,
    with_attribute,
)
from unpaired.metrics.manipulation import (
    MEASURES,
    acc,
    kde_js,
    manipulation_scores,
    v_rest,
)

Manipulator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Probe:
    """Fixed evaluation inputs, images in [-1, 1].

    ``real`` (N, 1, H, W) held-out real digits, ``labels`` (N,), ``refs`` (N, 1, H, W) one
    random reference per real digit; ``group_real`` (R, 1, H, W) and ``group_refs`` (R, K,
    1, H, W): for V_rest, K references per real digit sharing one AoI value (drawn per
    digit) with every other attribute random.
    """

    aoi: str
    real: torch.Tensor
    labels: torch.Tensor
    refs: torch.Tensor
    group_real: torch.Tensor
    group_refs: torch.Tensor


def make_probe(
    real: torch.Tensor,
    labels: torch.Tensor,
    aoi: str,
    *,
    generator: torch.Generator,
    ranges: Ranges = Ranges(),
    groups: int = 50,
    per_group: int = 8,
) -> Probe:
    """A :class:`Probe` for real digits (N, 1, H, W) in [-1, 1] with ``labels`` (N,)."""
    check_shape("real", real, ("N", 1, "H", "W"))
    check_shape("labels", labels, (real.shape[0],))
    if aoi not in AOIS:
        raise ValueError(f"aoi must be one of {AOIS}, got {aoi!r}")
    n, res = real.shape[0], real.shape[-1]
    refs = render(sample_attributes(n, generator=generator, ranges=ranges), resolution=res)
    r = min(groups, n)
    attrs = sample_attributes(r * per_group, generator=generator, ranges=ranges)
    shared = sample_attributes(r, generator=generator, ranges=ranges)[aoi]
    attrs = with_attribute(attrs, **{aoi: shared.repeat_interleave(per_group)})
    group = render(attrs, resolution=res).view(r, per_group, 1, res, res)
    return Probe(aoi, real, labels, refs * 2 - 1, real[:r], group * 2 - 1)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return ((x.float() + 1) / 2).clamp(0, 1)


@torch.no_grad()
def apply(manipulate: Manipulator, a: torch.Tensor, b: torch.Tensor, *, chunk: int = 250):
    """``manipulate`` over (N, ...) pairs in chunks, without gradients."""
    return torch.cat(
        [manipulate(a[s : s + chunk], b[s : s + chunk]) for s in range(0, a.shape[0], chunk)]
    )


@torch.no_grad()
def evaluate_manipulation(
    manipulate: Manipulator,
    classify: Callable[[torch.Tensor], torch.Tensor],
    probe: Probe,
) -> dict[str, float]:
    """``Acc``, ``r_attr``, ``r_rest``, ``V_rest`` of ``manipulate`` on ``probe``;
    ``classify`` maps images in [-1, 1] to logits (the real-data classifier)."""
    out = apply(manipulate, probe.real, probe.refs)
    check_shape("output", out, probe.real.shape)
    pred = torch.cat([classify(out[s : s + 500]).argmax(1) for s in range(0, len(out), 500)])
    scores = manipulation_scores(probe.aoi, _unit(probe.refs), _unit(out))
    r, k = probe.group_refs.shape[:2]
    reals = probe.group_real.repeat_interleave(k, dim=0)
    group = apply(manipulate, reals, probe.group_refs.flatten(0, 1))
    return {
        "Acc": acc(pred, probe.labels),
        "r_attr": scores["r_attr"],
        "r_rest": scores["r_rest"],
        "V_rest": v_rest(_unit(group).view(r, k, *group.shape[1:])),
    }


def domain_discrepancy(real: torch.Tensor, synthetic: torch.Tensor, aoi: str) -> dict[str, float]:
    """``J_attr``, ``J_rest``: :func:`~unpaired.metrics.manipulation.kde_js` of the AoI and
    of the other attribute measured on real vs synthetic images (both in [-1, 1])."""
    rest = next(k for k in MEASURES if k != aoi)
    x, y = _unit(real), _unit(synthetic)
    return {
        "J_attr": kde_js(MEASURES[aoi](x), MEASURES[aoi](y)),
        "J_rest": kde_js(MEASURES[rest](x), MEASURES[rest](y)),
    }
