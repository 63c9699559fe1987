"""Statistical distances ``d(a, b)`` between sample sets; every prior is one.

Pure functions take ``a`` (N, *) and ``b`` (M, *) and return a scalar; the
:class:`Distance` modules only store hyperparameters (or, for the learned ones, the
critic / density model). See ``base.py`` for the interface.
"""

from unpaired.distances._utils import median_bandwidth
from unpaired.distances.adversarial import (
    AdversarialDistance,
    Schedule,
    mlp_critic,
    step_schedules,
)
from unpaired.distances.augment import Augment, leak_threshold, leaks
from unpaired.distances.base import Distance, flatten_samples
from unpaired.distances.dual import (
    DualAdversarialDistance,
    DualSolution,
    dual_adversarial_distance,
    dual_value,
    solve_dual_adversarial,
)
from unpaired.distances.lrmf import (
    FlowLRMF,
    GaussianLRMF,
    density_flow,
    fit_density,
    gaussian_lrmf,
    push_forward,
)
from unpaired.distances.mmd import MMD, Energy, energy, mmd
from unpaired.distances.moments import Coral, MeanDistance, coral, mean_distance
from unpaired.distances.transport import (
    EMD,
    Sinkhorn,
    SlicedWasserstein,
    emd,
    sinkhorn,
    sliced_wasserstein,
)

__all__ = [
    "EMD",
    "MMD",
    "AdversarialDistance",
    "Augment",
    "Coral",
    "Distance",
    "DualAdversarialDistance",
    "DualSolution",
    "Energy",
    "FlowLRMF",
    "GaussianLRMF",
    "MeanDistance",
    "Schedule",
    "Sinkhorn",
    "SlicedWasserstein",
    "coral",
    "density_flow",
    "dual_adversarial_distance",
    "dual_value",
    "emd",
    "energy",
    "fit_density",
    "flatten_samples",
    "gaussian_lrmf",
    "leak_threshold",
    "leaks",
    "mean_distance",
    "median_bandwidth",
    "mlp_critic",
    "mmd",
    "push_forward",
    "sinkhorn",
    "sliced_wasserstein",
    "solve_dual_adversarial",
    "step_schedules",
]
