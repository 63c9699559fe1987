r"""Two-player toy games that show why adversarial distances oscillate, and what damps them.

Thesis talk: "Solving min-max with 1st order methods is hard! f(x, y) = xy" and the
backup slide "A toy GAN problem confirms it" (Mescheder et al., ICML'18): the
**Dirac-GAN**, generator ``p_theta = delta_theta``, data ``p_D = delta_0``, linear critic
``D_psi(x) = psi x``. The equilibrium is ``(theta, psi) = (0, 0)``.

A game is a vector field ``F(z)``: each player's negative gradient of its own loss.
:func:`play` runs it with one of the first-order methods (step ``h``):

* ``simultaneous``: ``z <- z + h F(z)``;
* ``alternating``: the players in ``players`` order, each seeing the others' new values
  (the engine's order for GANs: critic first, then generator);
* ``extragradient``: ``z <- z + h F(z + h F(z))`` (Korpelevich);
* ``optimistic``: ``z_{k+1} = z_k + 2h F(z_k) - h F(z_{k-1})`` (Daskalakis et al.).

For a linear field ``F(z) = J z`` (the linearisation at the equilibrium), each method is
a linear map (:func:`step_matrix`) whose spectral radius is the per-step contraction
rate: < 1 converges, > 1 spirals out. :func:`dirac_jacobian` gives ``J`` in closed form
for the library's regularizers (``f'(0) = 1/2`` for the logistic loss):

* plain logistic: ``[[0, 1/2], [-1/2, 0]]``: eigenvalues ``+- i/2``, a pure rotation;
* R1 (``r1 = gamma``): ``[[0, 1/2], [-1/2, -gamma]]``,
  ``lambda = -gamma/2 +- sqrt(gamma^2/4 - 1/4)``;
* instance noise ``sigma``: ``[[0, 1/2], [-1/2, -sigma^2/2]]``;
* Roth et al.'s ``Omega_JS`` (``roth_gamma = gamma``): ``[[0, 1/2], [-1/2, -gamma/2]]``
  (the closed form of noise: ``gamma = sigma^2`` has the same linearisation);
* WGAN: ``[[0, 1], [-1, 0]]`` (``+- i``); WGAN-GP is not differentiable at ``psi = 0``;
* dual adversarial (min-min, linear kernel, weight ``lam``): ``d(theta) ~ theta^2 / (8 lam)``,
  a plain minimization with ``J = [[-1 / (4 lam)]]``.

:func:`dirac_field` builds the field from the library's own
:class:`~unpaired.distances.AdversarialDistance` (losses, regularizers, noise) or
:class:`~unpaired.distances.DualAdversarialDistance`, so the tables test the library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

from unpaired.distances._utils import check_option, check_positive
from unpaired.distances.adversarial import AdversarialDistance, step_schedules
from unpaired.distances.dual import DualAdversarialDistance

Field = Callable[[torch.Tensor, int], torch.Tensor]
Method = Literal["simultaneous", "alternating", "extragradient", "optimistic"]
METHODS: tuple[str, ...] = ("simultaneous", "alternating", "extragradient", "optimistic")


def bilinear_field(z: torch.Tensor, step: int = 0) -> torch.Tensor:
    """``min_x max_y x y``: ``F(x, y) = (-y, x)``. z: (2,) -> (2,)."""
    return torch.stack([-z[1], z[0]])


def play(
    field: Field,
    z0: Sequence[float] | torch.Tensor,
    *,
    steps: int,
    lr: float,
    method: Method = "simultaneous",
    players: Sequence[Sequence[int]] | None = None,
) -> torch.Tensor:
    """Iterates of ``method`` on ``field`` from ``z0``: (steps + 1, D) float64.

    ``field(z, step)`` returns the descent directions (D,) at ``z`` (D,) for step
    ``step`` (1, 2, ...; it may drive schedules). ``players``: coordinate groups in
    update order for ``alternating`` (default: one coordinate per player, in order).

    Example:
        >>> z = play(bilinear_field, [1.0, 0.0], steps=100, lr=0.1, method="simultaneous")
        >>> bool(z[-1].norm() > 1.6)  # spirals out: |1 + i h| ** 100 = 1.64
        True
        >>> z = play(bilinear_field, [1.0, 0.0], steps=100, lr=0.1, method="extragradient")
        >>> bool(z[-1].norm() < 0.7)
        True
    """
    check_option("method", method, METHODS)
    check_positive("lr", lr)
    z = torch.as_tensor(z0, dtype=torch.float64).clone()
    groups = [list(g) for g in (players or [[i] for i in range(z.numel())])]
    out, previous = [z.clone()], None
    for k in range(1, steps + 1):
        if method == "simultaneous":
            z = z + lr * field(z, k)
        elif method == "alternating":
            for g in groups:
                z = z.clone()
                z[g] = z[g] + lr * field(z, k)[g]
        elif method == "extragradient":
            z = z + lr * field(z + lr * field(z, k), k)
        else:
            f = field(z, k)
            z = z + lr * (2 * f - (f if previous is None else previous))
            previous = f
        out.append(z.detach().clone())
    return torch.stack(out)


def step_matrix(
    jac: torch.Tensor,
    lr: float,
    method: Method = "simultaneous",
    players: Sequence[Sequence[int]] | None = None,
) -> torch.Tensor:
    """The linear map of one step of ``method`` on ``F(z) = jac z`` (D, D).

    ``optimistic`` acts on ``(z_k, z_{k-1})`` and returns a (2D, 2D) matrix.
    """
    check_option("method", method, METHODS)
    j = torch.as_tensor(jac, dtype=torch.complex128)
    d = j.shape[0]
    eye = torch.eye(d, dtype=j.dtype)
    if method == "simultaneous":
        return eye + lr * j
    if method == "extragradient":
        return eye + lr * j + lr**2 * j @ j
    if method == "optimistic":
        top = torch.cat([eye + 2 * lr * j, -lr * j], dim=1)
        return torch.cat([top, torch.cat([eye, torch.zeros_like(eye)], dim=1)], dim=0)
    m = eye
    for g in players or [[i] for i in range(d)]:
        e = torch.zeros_like(eye)
        e[g, g] = 1
        m = (eye + lr * e @ j) @ m
    return m


def spectral_radius(matrix: torch.Tensor) -> float:
    """``max |eig(matrix)|``: the asymptotic per-step contraction rate of the linear map."""
    return float(torch.linalg.eigvals(matrix).abs().max())


def measured_rate(distances: torch.Tensor, *, start: int = 0, floor: float = 0.0) -> float:
    """Per-step rate ``exp(slope)`` of ``log distance`` against the step (least squares),
    over steps ``start..`` until the distance first falls to ``floor``."""
    d = distances.double()
    below = torch.nonzero(d <= floor)
    end = int(below[0]) if floor > 0 and below.numel() else d.numel()
    y = d[start:end].clamp_min(1e-300).log()
    if y.numel() < 3:
        raise ValueError(f"measured_rate: need >= 3 steps above the floor, got {y.numel()}")
    x = torch.arange(y.numel(), dtype=torch.float64)
    x = x - x.mean()
    return math.exp(float((x * (y - y.mean())).sum() / x.square().sum()))


def dirac_critic(psi: float = 0.0) -> nn.Linear:
    """The Dirac-GAN's linear critic ``D_psi(x) = psi x`` (no bias), float64."""
    critic = nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        critic.weight.fill_(psi)
    return critic


def dirac_field(
    distance: AdversarialDistance | DualAdversarialDistance, *, samples: int = 1
) -> Field:
    """The Dirac-GAN's field ``F(theta, psi)`` under the library's ``distance``.

    Adversarial: ``(-dL_G/dtheta, -dL_D/dpsi)`` with ``L_G = distance(a, b)`` and
    ``L_D = distance.critic_loss(a, b)``, ``a`` = ``samples`` copies of ``theta``, ``b``
    as many zeros (more samples average the instance noise); the critic must be
    :func:`dirac_critic`. Its schedules follow the step. Dual (min-min): ``theta``
    descends ``d(theta)`` and the second component is 0 (the inner problem is solved
    exactly; :func:`dual_psi` reads the optimal critic's slope off a trajectory).
    """

    def field(z: torch.Tensor, step: int) -> torch.Tensor:
        theta = z[0].detach().clone().requires_grad_(True)
        a = theta.reshape(1, 1).expand(samples, 1)
        b = torch.zeros(samples, 1, dtype=torch.float64)
        if isinstance(distance, DualAdversarialDistance):
            (g,) = torch.autograd.grad(distance(a, b), theta)
            return torch.stack([-g, torch.zeros_like(g)])
        step_schedules(distance, step)
        weight = distance.critic.weight
        with torch.no_grad():
            weight.fill_(float(z[1]))
        (g_theta,) = torch.autograd.grad(distance(a, b), theta)
        (g_psi,) = torch.autograd.grad(distance.critic_loss(a.detach(), b), weight)
        return torch.stack([-g_theta, -g_psi.reshape(())]).detach()

    return field


def dual_psi(distance: DualAdversarialDistance, theta: torch.Tensor) -> torch.Tensor:
    """The optimal linear critic's slope along a dual trajectory ``theta`` (K,) -> (K,)."""
    out = []
    for t in theta.tolist():
        a, b = torch.tensor([[t]], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
        distance(a, b)
        sol = distance.last_solution
        assert sol is not None
        out.append(-float(sol.alpha_a.sum() + sol.alpha_b.sum()) * t / (2 * distance.lam))
    return torch.tensor(out, dtype=torch.float64)


def dirac_jacobian(kind: str, value: float = 0.0) -> torch.Tensor:
    """Closed-form Jacobian of the Dirac-GAN field at the equilibrium (module docstring).

    ``kind``: ``plain``, ``r1`` (value = gamma), ``noise`` (sigma), ``roth`` (gamma),
    ``wgan``, ``dual`` (lam; a (1, 1) matrix for ``theta`` alone).
    """
    if kind == "dual":
        return torch.tensor([[-1.0 / (4 * check_positive("lam", value))]], dtype=torch.float64)
    if kind == "wgan":
        return torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    damping = {"plain": 0.0, "r1": value, "noise": value**2 / 2, "roth": value / 2}
    if kind not in damping:
        raise ValueError(f"kind must be one of {(*damping, 'wgan', 'dual')}, got {kind!r}")
    return torch.tensor([[0.0, 0.5], [-0.5, -damping[kind]]], dtype=torch.float64)


def numerical_jacobian(field: Field, z: torch.Tensor, *, eps: float = 1e-6) -> torch.Tensor:
    """Central finite differences of ``field`` at ``z``: (D, D) (row i: component i)."""
    z = torch.as_tensor(z, dtype=torch.float64)
    cols = []
    for i in range(z.numel()):
        e = torch.zeros_like(z)
        e[i] = eps
        cols.append((field(z + e, 0) - field(z - e, 0)) / (2 * eps))
    return torch.stack(cols, dim=1)
