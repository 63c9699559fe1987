r"""Log-likelihood ratio minimizing flows (LRMF): alignment with an explicit failure signal.

Thesis talk, slides "Bounding Likelihood Ratios with Normalizing Flows" (Usman et al.,
NeurIPS'20). For a density family ``M`` the likelihood-ratio distance (Definition 1) is
the gap between two "private" models fit to each set alone and one "shared" model fit
to their union. With per-set mean log-likelihoods (so N and M do not matter):

.. math::

    d_{LR}(A', B) = \max_\theta \mathbb E_{A'}\log p_\theta
                  + \max_\theta \mathbb E_B \log p_\theta
                  - \max_\theta \big[\mathbb E_{A'}\log p_\theta + \mathbb E_B\log p_\theta\big]
                  \;\ge 0 ,

0 when the family cannot tell ``A'`` from ``B`` (Lemma 2.1). When ``A' = T(A)`` and ``T``
is a normalizing flow, the first term equals ``max E_A log p - E_A log|det dT/dx|`` up
to ``E_bias`` (Lemma 2.2; exact for a Gaussian family and affine ``T``), which gives
Theorem 2.3's objective, minimized jointly (min-min) over ``T`` and the shared model:

.. math::

    L(A, B; T, \theta_S) = -\mathbb E_A \log|\det \partial T/\partial x|
        - \mathbb E_A \log p(T(a); \theta_S) - \mathbb E_B \log p(b; \theta_S) + c(A, B),
    \qquad c(A, B) = \max_\theta \mathbb E_A \log p_\theta + \max_\theta \mathbb E_B \log p_\theta .

With ``c`` included, ``L`` at the optimal shared model is ``d_LR(T(A), B)``: about 0 at
alignment and clearly positive when the alignment failed (the talk's "explicit failure
signal": the final LRMF loss is not 0).

* :func:`gaussian_lrmf` / :class:`GaussianLRMF`: ``M`` = Gaussians fit by maximum
  likelihood in closed form, evaluated directly on ``T(A)`` (no log-determinant needed,
  usable with any transformation). Special case 1 of the talk: minimizing it matches
  the mean and the covariance.
* :class:`FlowLRMF`: ``M`` = a zuko flow (MAF, NSF or RealNVP). The shared model's
  parameters are trained by ``critic_loss`` (its NLL on ``T(A).detach()`` and ``B``);
  the transformation minimizes ``generator_loss(ta, b, logdet=...)``, which includes
  ``T``'s own ``-log|det|`` term (get both from :func:`push_forward`). ``c`` comes from
  :meth:`FlowLRMF.fit_private`, run once per dataset pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
import zuko

from unpaired.distances._utils import check_option, check_positive, sample_sets
from unpaired.distances.base import Distance, flatten_samples

FlowKind = Literal["maf", "nsf", "realnvp"]
FLOWS: tuple[str, ...] = ("maf", "nsf", "realnvp")


def _gaussian_mle(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (..., D) and maximum-likelihood covariance (..., D, D) of x (..., N, D)."""
    mu = x.mean(-2)
    xc = x - mu[..., None, :]
    return mu, xc.mT @ xc / x.shape[-2]


def _logdet_spd(c: torch.Tensor, eps: float) -> torch.Tensor:
    """log det(C + eps I) via Cholesky, (..., D, D) -> (...)."""
    eye = torch.eye(c.shape[-1], dtype=c.dtype, device=c.device)
    chol = torch.linalg.cholesky(c + eps * eye)
    return 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def gaussian_lrmf(
    a: torch.Tensor, b: torch.Tensor, *, eps: float = 1e-6, batched: bool = False
) -> torch.Tensor:
    """Gaussian likelihood-ratio distance ``d_LR(a, b)`` in closed form (nats, >= 0).

    With MLE fits ``N(mu_a, C_a)``, ``N(mu_b, C_b)`` (private) and the shared Gaussian
    fit to the equally weighted union, ``C_S = (C_a + C_b) / 2 + (mu_a - mu_b)(mu_a -
    mu_b)^T / 4``, the maximized log-likelihoods give

    ``d_LR = log det C_S - (log det C_a + log det C_b) / 2``,

    0 iff the means and covariances agree (concavity of log det). ``eps`` adds
    ``eps * I`` to every covariance (needed when N <= D). a: (N, *), b: (M, *) with N,
    M >= 2 -> scalar; batched: (B, N, *), (B, M, *) -> (B,).
    """
    check_positive("eps", eps, allow_zero=True)
    x, y = sample_sets(a, b, batched=batched, min_samples=2)
    mu_a, c_a = _gaussian_mle(x)
    mu_b, c_b = _gaussian_mle(y)
    delta = mu_a - mu_b
    c_s = (c_a + c_b) / 2 + delta[..., :, None] * delta[..., None, :] / 4
    return _logdet_spd(c_s, eps) - (_logdet_spd(c_a, eps) + _logdet_spd(c_b, eps)) / 2


class GaussianLRMF(Distance):
    """Module form of :func:`gaussian_lrmf`; ``forward(ta, b)``: (N, *), (M, *) -> scalar."""

    def __init__(self, *, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = check_positive("eps", eps, allow_zero=True)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return gaussian_lrmf(a, b, eps=self.eps)


def density_flow(
    features: int,
    *,
    flow: FlowKind = "maf",
    transforms: int = 3,
    hidden: Sequence[int] = (64, 64),
) -> zuko.flows.Flow:
    """A zuko density model over (N, ``features``) samples: MAF, NSF or RealNVP."""
    check_option("flow", flow, FLOWS)
    if features < 1 or transforms < 1:
        raise ValueError(f"need features >= 1 and transforms >= 1, got {features}, {transforms}")
    if flow == "realnvp" and features < 2:
        raise ValueError("flow='realnvp' (coupling layers) needs features >= 2")
    cls = {"maf": zuko.flows.MAF, "nsf": zuko.flows.NSF, "realnvp": zuko.flows.RealNVP}[flow]
    return cls(features, transforms=transforms, hidden_features=tuple(hidden))


def fit_density(
    flow: zuko.flows.Flow,
    x: torch.Tensor,
    *,
    steps: int = 500,
    lr: float = 1e-3,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fit ``flow`` to samples ``x`` (N, D) by maximum likelihood (Adam), in place.

    Uses full batches unless ``batch_size`` is given (then minibatches drawn with
    ``generator``). Returns the final mean log-likelihood of ``x`` (a detached scalar).
    This is a one-off preprocessing fit (the private models of :class:`FlowLRMF`), not
    part of the training loop.
    """
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    n = x.shape[0]
    for _ in range(int(steps)):
        batch = x
        if batch_size is not None and batch_size < n:
            batch = x[torch.randint(n, (batch_size,), generator=generator, device=x.device)]
        loss = -flow().log_prob(batch).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return flow().log_prob(x).mean()


def push_forward(
    transform: zuko.flows.LazyTransform | torch.distributions.Transform, a: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a bijection to samples ``a`` (N, D): returns ``T(a)`` (N, D) and ``log|det dT/dx|`` (N,).

    ``transform`` is a zuko lazy transform (e.g. ``zuko.flows.MAF(D).transform``, called
    with no context), a zuko transform (``call_and_ladj``) or any
    ``torch.distributions.Transform`` (``log_abs_det_jacobian``; per-dimension
    log-determinants are summed). Feed both to :meth:`FlowLRMF.generator_loss`.
    """
    if isinstance(transform, zuko.flows.LazyTransform):
        transform = transform()
    if hasattr(transform, "call_and_ladj"):
        ta, ladj = transform.call_and_ladj(a)
    else:
        ta = transform(a)
        ladj = transform.log_abs_det_jacobian(a, ta)
    if ladj.dim() > 1:
        ladj = ladj.reshape(ladj.shape[0], -1).sum(1)
    return ta, ladj


class FlowLRMF(Distance):
    """Theorem 2.3's LRMF objective with a shared zuko flow density (module docstring).

    ``forward(ta, b, *, logdet)`` / ``generator_loss``: ``ta`` = T(A) (N, *), ``b`` (M, *),
    ``logdet`` (N,) = ``log|det dT/dx|`` at each ``a`` (from :func:`push_forward`; zeros
    if T is the identity). Returns ``L`` in nats, which approximates ``d_LR(T(A), B)``
    (~0 at alignment) once the shared model is fit. ``critic_loss(ta, b)`` trains the
    shared model (``ta`` is detached inside). :meth:`fit_private` must run once before
    ``forward`` to set ``c(A, B)``; ``private_loglik`` holds it.
    """

    symmetric: ClassVar[bool] = False
    learned: ClassVar[bool] = True

    def __init__(
        self,
        features: int,
        *,
        flow: FlowKind = "maf",
        transforms: int = 3,
        hidden: Sequence[int] = (64, 64),
    ) -> None:
        super().__init__()
        self.features, self.flow, self.transforms = int(features), flow, int(transforms)
        self.hidden = tuple(int(h) for h in hidden)
        self.shared = self._new_flow()
        self.register_buffer("private_loglik", torch.tensor(float("nan")))

    def _new_flow(self) -> zuko.flows.Flow:
        return density_flow(
            self.features, flow=self.flow, transforms=self.transforms, hidden=self.hidden
        )

    def _flat(self, name: str, x: torch.Tensor) -> torch.Tensor:
        z = flatten_samples(x)
        if z.shape[1] != self.features:
            raise ValueError(
                f"{name}: expected samples with {self.features} features, got shape {tuple(x.shape)}"
            )
        return z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Shared-model log-density of samples x (N, *) -> (N,)."""
        return self.shared().log_prob(self._flat("x", x))

    def fit_private(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        *,
        steps: int = 500,
        lr: float = 1e-3,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
        init_shared: bool = True,
    ) -> torch.Tensor:
        """Fit fresh private flows to ``a`` (N, *) (the *untransformed* source) and
        ``b`` (M, *); store ``c = E_a log p_A + E_b log p_B`` in ``private_loglik`` and return it.

        With ``init_shared`` the shared model starts from the private fit of ``b``
        (where it ends up at alignment). Run once per dataset pair.
        """
        x, y = sample_sets(a, b, min_samples=2)
        x, y = self._flat("a", x), self._flat("b", y)
        ref = self.private_loglik
        total = torch.zeros((), dtype=torch.float64)
        for z in (x, y):
            model = self._new_flow().to(device=ref.device, dtype=ref.dtype)
            ll = fit_density(
                model, z, steps=steps, lr=lr, batch_size=batch_size, generator=generator
            )
            total += ll.double()
        if init_shared:
            self.shared.load_state_dict(model.state_dict())
        self.private_loglik.fill_(total.item())
        return self.private_loglik.clone()

    def forward(self, ta: torch.Tensor, b: torch.Tensor, *, logdet: torch.Tensor) -> torch.Tensor:
        """``L = -E logdet - E_A log p_S(T(a)) - E_B log p_S(b) + c`` (nats)."""
        x, y = sample_sets(ta, b)
        x, y = self._flat("ta", x), self._flat("b", y)
        if not isinstance(logdet, torch.Tensor) or logdet.shape != (x.shape[0],):
            shape = (
                tuple(logdet.shape) if isinstance(logdet, torch.Tensor) else type(logdet).__name__
            )
            raise ValueError(
                f"logdet: expected shape ({x.shape[0]},) (one per row of ta), got {shape}"
            )
        if torch.isnan(self.private_loglik):
            raise RuntimeError("FlowLRMF: call fit_private(a, b) once before computing the loss")
        shared = self.shared()
        return (
            -logdet.mean()
            - shared.log_prob(x).mean()
            - shared.log_prob(y).mean()
            + self.private_loglik.to(x.dtype)
        )

    def generator_loss(
        self, ta: torch.Tensor, b: torch.Tensor, *, logdet: torch.Tensor
    ) -> torch.Tensor:  # type: ignore[override]
        """What the transformation minimizes: :meth:`forward` (it includes ``-log|det|``)."""
        return self(ta, b, logdet=logdet)

    def critic_loss(self, ta: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """NLL of the shared model on ``T(A)`` (detached) and ``B``: ``-E log p_S(ta) - E log p_S(b)``."""
        x, y = sample_sets(ta, b)
        shared = self.shared()
        return (
            -shared.log_prob(self._flat("ta", x.detach())).mean()
            - shared.log_prob(self._flat("b", y)).mean()
        )

    def extra_repr(self) -> str:
        return f"features={self.features}, flow={self.flow!r}, transforms={self.transforms}"
