"""``gan-dirac``: the toy games of the thesis talk, with the library's own distances.

Slides "Solving min-max with 1st order methods is hard! f(x, y) = xy" and "A toy GAN
problem confirms it" (Mescheder et al. 2018): the bilinear game ``min_x max_y xy``
under simultaneous, alternating, extragradient and optimistic steps, and the
**Dirac-GAN** (``p_theta = delta_theta``, data ``delta_0``, critic ``D_psi(x) = psi x``)
trained with :class:`~unpaired.distances.AdversarialDistance` (plain logistic,
simultaneous and alternating; instance noise; R1; Roth et al.'s ``Omega_JS`` with and
without exponential annealing; WGAN; WGAN-GP) and with the dual adversarial distance
(min-min). All by plain gradient steps of size ``lr``.

Per game: the analytic per-step rate (spectral radius of the step's linear map at the
equilibrium, from the closed-form Jacobian of :mod:`unpaired.distances.games`), the rate
measured on a *probe* run started at ``probe_start`` (least-squares slope of
log-distance), and the distance to the equilibrium after ``steps`` from ``start``. A
wrong loss, regularizer or noise in the library moves the measured rate off the
analytic one; plain simultaneous GD must spiral out and the regularised games converge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from unpaired.distances import AdversarialDistance, DualAdversarialDistance, Schedule
from unpaired.distances import games as g
from unpaired.recipes.base import RunContext
from unpaired.report import Figure, Report, Table
from unpaired.viz.stability import plot_trajectories


@dataclass(frozen=True)
class Config:
    lr: float = 0.1  # step size of every player in every game
    steps: int = 600  # trajectory length (and probe length)
    start: float = 1.0  # trajectories start at (start, start)
    probe_start: float = 1e-3  # probes start at (probe_start, probe_start): linear regime
    r1: float = 0.3  # R1 gamma
    noise: float = 1.0  # instance noise sigma
    noise_samples: int = 4000  # samples averaging the instance noise per step
    noise_probe_start: float = 0.2  # the noisy probe starts above its noise floor ...
    noise_floor: float = 0.02  # ... and its rate is fit until the distance reaches this
    roth_gamma: float = 1.0  # Omega_JS gamma (= sigma^2: same linearisation as the noise)
    gp: float = 1.0  # WGAN-GP lambda
    dual_lam: float = 0.5  # dual adversarial distance: L2 weight of the linear critic
    seed: int = 0  # instance-noise generator

    QUICK: ClassVar[dict] = {"steps": 200}  # demo size

    def __post_init__(self) -> None:
        from unpaired.errors import ConfigError

        if self.lr <= 0 or self.steps < 20 or self.noise_samples < 1:
            raise ConfigError("gan-dirac needs lr > 0, steps >= 20 and noise_samples >= 1")


@dataclass
class Game:
    label: str
    field: Callable[[], g.Field]  # a fresh field (its distance) per run
    method: str
    jac: torch.Tensor | None  # closed-form Jacobian at the equilibrium; None: not smooth
    jac_end: torch.Tensor | None = None  # annealed games: the Jacobian at the last step
    noisy: bool = False
    dual: bool = False


def _adv(cfg: Config, **kw: Any) -> Callable[[], g.Field]:
    def make() -> g.Field:
        gen = torch.Generator().manual_seed(cfg.seed)
        dist = AdversarialDistance(g.dirac_critic(), generator=gen, **kw)
        return g.dirac_field(dist, samples=cfg.noise_samples if "instance_noise" in kw else 1)

    return make


def games(cfg: Config) -> dict[str, Game]:
    """The Dirac-GAN games of the table, by key."""
    J = g.dirac_jacobian
    anneal = Schedule(cfg.roth_gamma, "exponential", steps=cfg.steps)
    dual = DualAdversarialDistance(kernel="linear", lam=cfg.dual_lam, tol=1e-14)
    return {
        "plain-sim": Game("logistic, simultaneous", _adv(cfg), "simultaneous", J("plain")),
        "plain-alt": Game("logistic, alternating", _adv(cfg), "alternating", J("plain")),
        "noise": Game(
            f"instance noise sigma={cfg.noise}",
            _adv(cfg, instance_noise=cfg.noise),
            "simultaneous",
            J("noise", cfg.noise),
            noisy=True,
        ),
        "r1": Game(f"R1 gamma={cfg.r1}", _adv(cfg, r1=cfg.r1), "simultaneous", J("r1", cfg.r1)),
        "roth": Game(
            f"Roth Omega_JS gamma={cfg.roth_gamma}",
            _adv(cfg, roth_gamma=cfg.roth_gamma),
            "simultaneous",
            J("roth", cfg.roth_gamma),
        ),
        "roth-annealed": Game(
            f"Roth gamma={cfg.roth_gamma}*0.01^(t/T)",
            _adv(cfg, roth_gamma=anneal),
            "simultaneous",
            J("roth", cfg.roth_gamma),
            jac_end=J("roth", anneal.value(cfg.steps)),
        ),
        "wgan": Game("WGAN", _adv(cfg, loss="wasserstein"), "simultaneous", J("wgan")),
        "wgan-gp": Game(
            f"WGAN-GP lambda={cfg.gp}",
            _adv(cfg, loss="wasserstein", gradient_penalty=cfg.gp),
            "simultaneous",
            None,
        ),
        "dual": Game(
            f"dual adversarial (min-min), lam={cfg.dual_lam}",
            lambda: g.dirac_field(dual),
            "simultaneous",
            J("dual", cfg.dual_lam),
            dual=True,
        ),
    }


BILINEAR = ("simultaneous", "alternating", "extragradient", "optimistic")
PLAYERS = [[1], [0]]  # critic (psi) first, then the generator: the engine's order


def _rate(jac: torch.Tensor | None, cfg: Config, method: str) -> float | None:
    if jac is None:
        return None
    players = PLAYERS if jac.shape[0] == 2 else None
    return g.spectral_radius(g.step_matrix(jac, cfg.lr, method, players))  # type: ignore[arg-type]


def _distance(z: torch.Tensor, dual: bool) -> torch.Tensor:
    return z[:, 0].abs() if dual else z.norm(dim=1)


def _run_game(cfg: Config, game: Game) -> dict[str, Any]:
    kw: dict[str, Any] = {"steps": cfg.steps, "lr": cfg.lr, "method": game.method}
    kw["players"] = PLAYERS
    z0 = cfg.noise_probe_start if game.noisy else cfg.probe_start
    probe = g.play(game.field(), [z0, 0.0 if game.dual else z0], **kw)
    traj = g.play(game.field(), [cfg.start, 0.0 if game.dual else cfg.start], **kw)
    if game.dual:
        traj[:, 1] = g.dual_psi(DualAdversarialDistance(lam=cfg.dual_lam, tol=1e-14), traj[:, 0])
    start, floor = (0, cfg.noise_floor) if game.noisy else (cfg.steps // 4, 1e-13)
    measured = g.measured_rate(_distance(probe, game.dual), start=start, floor=floor)
    return {
        "analytic": _rate(game.jac, cfg, game.method),
        "analytic_end": _rate(game.jac_end, cfg, game.method),
        "measured": measured,
        "final": float(_distance(traj, game.dual)[-1]),
        "traj": traj,
        "eig": None if game.jac is None else torch.linalg.eigvals(game.jac),
    }


def _eig_text(eig: torch.Tensor | None) -> str:
    if eig is None:
        return "not differentiable at psi=0"
    return ", ".join(f"{complex(e).real:.3g}{complex(e).imag:+.3g}i" for e in eig)


def _verdict(rate: float, final: float, start: float) -> str:
    if abs(rate - 1) < 1e-3:
        return "cycles (rate 1)" if final > 0.1 * start else "stalls"
    return "converges" if rate < 1 else "spirals out"


def run(cfg: Config, ctx: RunContext) -> Report:
    bil = {
        m: g.play(g.bilinear_field, [cfg.start, cfg.start], steps=cfg.steps, lr=cfg.lr, method=m)
        for m in BILINEAR
    }
    bil_jac = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    bil_rows = []
    for m, z in bil.items():
        rate = g.spectral_radius(g.step_matrix(bil_jac, cfg.lr, m))  # type: ignore[arg-type]
        measured = g.measured_rate(z.norm(dim=1), start=cfg.steps // 4)
        bil_rows.append([m, rate, measured, float(z[-1].norm())])
    results = {k: _run_game(cfg, game) for k, game in games(cfg).items()}
    labels = {k: game.label for k, game in games(cfg).items()}
    rows = []
    for k, r in results.items():
        analytic = r["analytic"]
        if r["analytic_end"] is not None:
            analytic = f"{r['analytic']:.5f} -> {r['analytic_end']:.5f}"
        verdict = _verdict(r["measured"], r["final"], cfg.start)
        rows.append([labels[k], _eig_text(r["eig"]), analytic, r["measured"], r["final"], verdict])
    figures = []
    if ctx.is_main:
        plot_trajectories(
            {f"xy: {m}": z for m, z in bil.items()},
            ctx.path("figures/bilinear.png"),
            axes_labels=("x", "y"),
            title=f"min_x max_y xy, step {cfg.lr}",
        )
        plot_trajectories(
            {labels[k]: r["traj"] for k, r in results.items()},
            ctx.path("figures/dirac_gan.png"),
            title=f"Dirac-GAN with AdversarialDistance, step {cfg.lr}",
        )
        figures = [
            Figure("figures/bilinear.png", "the bilinear game: trajectories and distance"),
            Figure("figures/dirac_gan.png", "Dirac-GAN: trajectories in (theta, psi)"),
        ]
    conv = [k for k in ("noise", "r1", "roth", "dual") if results[k]["measured"] < 1]
    goals = {
        "plain_simultaneous_spirals_out": results["plain-sim"]["measured"] > 1,
        "regularised_converge": len(conv) == 4,
        "measured_matches_analytic_2e-3": all(
            abs(r["measured"] / r["analytic"] - 1) < (5e-3 if k == "noise" else 2e-3)
            for k, r in results.items()
            if r["analytic"] is not None and r["analytic_end"] is None
        ),
    }
    return Report(
        title="gan-dirac: the bilinear game and the Dirac-GAN, measured against theory",
        summary=(
            f"Step size {cfg.lr}, {cfg.steps} steps from ({cfg.start}, {cfg.start}); rates "
            f"measured on probes from {cfg.probe_start} (noisy game: from "
            f"{cfg.noise_probe_start}, {cfg.noise_samples} samples, fit down to "
            f"{cfg.noise_floor}). Rate = per-step factor of the distance to the equilibrium."
        ),
        tables=[
            Table(
                "Bilinear game min_x max_y xy",
                ["method", "analytic rate", "measured rate", "final distance"],
                bil_rows,
            ),
            Table(
                "Dirac-GAN (library AdversarialDistance, linear critic)",
                [
                    "game",
                    "eigenvalues of J",
                    "analytic rate",
                    "measured rate",
                    "final distance",
                    "verdict",
                ],
                rows,
                note=(
                    "Analytic rate: spectral radius of the step's linear map I + lr J "
                    "(alternating: critic then generator). Annealed: at t=0 -> t=T."
                ),
            ),
        ],
        figures=figures,
        metrics={
            "goals": goals,
            "rates": {
                k: {"analytic": r["analytic"], "measured": r["measured"]}
                for k, r in results.items()
            },
            "final_distance": {k: r["final"] for k, r in results.items()},
        },
    )
