"""Adversarial Inverse Graphics Networks (AIGN paper, Eq. 1).

    min_G max_D  E_x ||P(G(x)) - x||  +  beta * sum_i [ log D_i(M_i) + log(1 - D_i(G_i(x))) ]

Generators ``G`` map an input ``x`` to named predictions; a parameter-free renderer
``P`` maps the predictions back to the input space (reconstruction); each prior
compares one prediction with *memories*: an unrelated collection of examples of that
quantity, sampled every step and never paired with ``x``. The paper's priors are
logistic discriminators; here every prior is a :class:`~unpaired.distances.Distance`
(MMD, Sinkhorn, dual adversarial, LRMF, ... or the paper's critic), so that
``beta * sum_i w_i d_i(G_i(X), M_i)`` is one interface.

Batches are mappings with:

* ``"x"``: the inputs (any shape, batch first);
* ``"memories"``: ``{prior name: (M, *) memories}``, drawn independently of ``x``;
* ``"targets"`` (optional): ``{prediction name: paired ground truth}`` for the
  supervised terms ("Our model can also benefit from strong supervision", Sec. 2);
* anything else the renderer needs (masks, intrinsics, the second frame).

:class:`Paired` and :class:`Fixed` are the batch sources of the supervised parts (paired
``"x"``/``"targets"`` rows, a constant such as the camera intrinsics); the unpaired parts
are :class:`~unpaired.engine.TensorSampler` and :class:`~unpaired.engine.Unpaired`.
Subclasses that add terms computed from the same predictions (the SfM smoothness term)
override :meth:`AIGN.generator_losses` and call :meth:`AIGN.prediction_losses` with the
predictions they made, so that nothing is cached between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import torch
from torch import nn

from unpaired.distances.base import Distance
from unpaired.engine.task import Task

Reconstruction = Literal["mse", "l2", "l1"]


class Rendered(NamedTuple):
    """What a renderer may return instead of a plain tensor.

    ``rendered`` is compared with ``target`` (default: the batch's ``"x"``) where
    ``mask`` (broadcastable, 1 = valid) is set; e.g. the SfM renderer masks pixels that
    leave the image.
    """

    rendered: torch.Tensor
    target: torch.Tensor | None = None
    mask: torch.Tensor | None = None


Renderer = Callable[[Mapping[str, torch.Tensor], Mapping[str, Any]], "torch.Tensor | Rendered"]


@dataclass
class Prior:
    """A distance between one prediction and its memories, with a weight.

    ``prediction`` names the generator output it applies to (default: the prior's own
    name); ``transform`` maps that prediction (and the memories) to the space the
    distance compares, e.g. log depth or root-centred poses.
    """

    distance: Distance
    weight: float = 1.0
    prediction: str | None = None
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None


def reconstruction_loss(
    rendered: torch.Tensor,
    target: torch.Tensor,
    *,
    kind: Reconstruction = "mse",
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """``||P(G(x)) - x||`` averaged over the batch (Eq. 1's first term).

    ``"mse"``: mean squared error; ``"l2"``: the per-sample Euclidean norm (Eq. 1 as
    written) averaged over samples; ``"l1"``: mean absolute error (Eq. 3). With a mask,
    means run over valid entries only.
    """
    if rendered.shape != target.shape:
        raise ValueError(
            f"renderer output {tuple(rendered.shape)} does not match the input {tuple(target.shape)}"
        )
    diff = rendered - target
    if kind == "l2":
        if mask is not None:
            diff = diff * mask
        return diff.flatten(1).norm(dim=1).mean()
    err = diff.pow(2) if kind == "mse" else diff.abs()
    if mask is None:
        return err.mean()
    mask = mask.expand_as(err).to(err.dtype)
    return (err * mask).sum() / mask.sum().clamp_min(1.0)


class AIGN(Task):
    """Generator + parameter-free renderer + priors, trained by the engine.

    Args:
        generator: ``x -> {name: prediction}`` (a tensor output is named ``"output"``).
        renderer: ``(predictions, batch) -> P(G(x))`` (a tensor the shape of ``x``, or a
            :class:`Rendered`). Owns no parameters.
        priors: ``{name: Prior}`` (a bare :class:`Distance` means weight 1 on the
            prediction of the same name).
        beta: relative weight of the priors (Eq. 1); ``0`` trains reconstruction only.
        reconstruction: the norm of the reconstruction term.
        recon_weight: weight of the reconstruction term (``0`` for purely supervised
            training, e.g. the paper's Forward2Dto3D baseline).
        supervised: ``{prediction name: weight}`` of paired MSE terms against
            ``batch["targets"][name]``, used when the batch carries targets.
    """

    def __init__(
        self,
        generator: nn.Module,
        renderer: Renderer,
        priors: Mapping[str, Prior | Distance] | None = None,
        *,
        beta: float = 1.0,
        reconstruction: Reconstruction = "mse",
        recon_weight: float = 1.0,
        supervised: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        if isinstance(renderer, nn.Module) and any(True for _ in renderer.parameters()):
            raise ValueError("the renderer must be parameter-free (AIGN uses no learned decoder)")
        if beta < 0 or recon_weight < 0:
            raise ValueError(f"beta and recon_weight must be >= 0, got {beta} and {recon_weight}")
        if reconstruction not in ("mse", "l2", "l1"):
            raise ValueError(f"reconstruction must be 'mse', 'l2' or 'l1', got {reconstruction!r}")
        self.generator = generator
        self.renderer = renderer
        resolved = {k: p if isinstance(p, Prior) else Prior(p) for k, p in (priors or {}).items()}
        self.prior_specs = resolved
        self.priors = nn.ModuleDict({k: p.distance for k, p in resolved.items()})
        self.beta = beta
        self.reconstruction = reconstruction
        self.recon_weight = recon_weight
        self.supervised = dict(supervised or {})

    # -- forward ----------------------------------------------------------------------
    def predict(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named predictions ``G(x)``."""
        out = self.generator(x)
        return out if isinstance(out, Mapping) else {"output": out}

    def render(self, predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]) -> Rendered:
        out = self.renderer(predictions, batch)
        return out if isinstance(out, Rendered) else Rendered(out)

    def _prior_inputs(
        self, name: str, predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        spec = self.prior_specs[name]
        key = spec.prediction or name
        if key not in predictions:
            raise KeyError(
                f"prior '{name}' needs prediction '{key}', the generator returned {sorted(predictions)}"
            )
        memories = batch["memories"][name]
        pred = predictions[key]
        if spec.transform is not None:
            pred, memories = spec.transform(pred), spec.transform(memories)
        return pred, memories

    # -- Task -------------------------------------------------------------------------
    def critic_parameters(self) -> list[nn.Parameter]:
        return [p for d in self.priors.values() if d.learned for p in d.parameters()]

    def generator_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Eq. 1's generator side on ``batch``: :meth:`prediction_losses` of ``G(batch["x"])``."""
        return self.prediction_losses(self.predict(batch["x"]), batch)

    def prediction_losses(
        self, predictions: Mapping[str, torch.Tensor], batch: Mapping[str, Any]
    ) -> dict[str, torch.Tensor]:
        """The weighted terms for predictions already made on ``batch["x"]``:
        ``reconstruction`` (``recon_weight * ||P(G(x)) - x||``), ``prior/<name>``
        (``beta * w_i * d_i(G_i(x), M_i)``) and, with paired targets, ``supervised/<name>``."""
        losses: dict[str, torch.Tensor] = {}
        if self.recon_weight > 0:
            r = self.render(predictions, batch)
            target = batch["x"] if r.target is None else r.target
            losses["reconstruction"] = self.recon_weight * reconstruction_loss(
                r.rendered, target, kind=self.reconstruction, mask=r.mask
            )
        if self.beta > 0:
            for name, spec in self.prior_specs.items():
                pred, memories = self._prior_inputs(name, predictions, batch)
                losses[f"prior/{name}"] = (
                    self.beta * spec.weight * self.priors[name].generator_loss(pred, memories)
                )
        targets = batch.get("targets") if isinstance(batch, Mapping) else None
        if targets:
            for name, weight in self.supervised.items():
                if name in targets:
                    losses[f"supervised/{name}"] = (
                        weight * (predictions[name] - targets[name]).pow(2).mean()
                    )
        if not losses:
            raise ValueError(
                "AIGN has nothing to train: recon_weight is 0, no active prior and no paired targets"
            )
        return losses

    def critic_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            predictions = self.predict(batch["x"])
        losses = {}
        for name, distance in self.priors.items():
            if distance.learned:
                pred, memories = self._prior_inputs(name, predictions, batch)
                loss = distance.critic_loss(pred.detach(), memories)
                if loss is not None:
                    losses[f"prior/{name}"] = loss
        return losses


class Paired:
    """Paired rows for the supervised terms: ``{"x": inputs[i], "targets": {name: t[i]}}``
    with shared random indices ``i`` (with replacement), plus fixed ``extras`` (e.g. the
    intrinsics). A :class:`~unpaired.engine.BatchSource`."""

    def __init__(
        self,
        inputs: torch.Tensor,
        targets: Mapping[str, torch.Tensor],
        *,
        batch_size: int,
        extras: Mapping[str, Any] | None = None,
    ) -> None:
        for name, t in targets.items():
            if t.shape[0] != inputs.shape[0]:
                raise ValueError(
                    f"targets[{name!r}] has {t.shape[0]} rows, the inputs {inputs.shape[0]}"
                )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.inputs, self.targets = inputs, dict(targets)
        self.batch_size, self.extras = batch_size, dict(extras or {})

    def sample(
        self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1
    ) -> dict[str, Any]:
        idx = torch.randint(len(self.inputs), (self.batch_size * world_size,), generator=generator)
        idx = idx[rank * self.batch_size : (rank + 1) * self.batch_size]
        return {
            "x": self.inputs[idx],
            "targets": {k: v[idx] for k, v in self.targets.items()},
            **self.extras,
        }


class Fixed:
    """A batch source that always returns ``value`` (e.g. the intrinsics (3, 3))."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def sample(self, generator: torch.Generator, *, rank: int = 0, world_size: int = 1) -> Any:
        return self.value
