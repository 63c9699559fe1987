"""Statistical distances ``d(a, b)`` between sample sets; every prior is one."""

from unpaired.distances.adversarial import AdversarialDistance
from unpaired.distances.base import Distance, flatten_samples

__all__ = ["AdversarialDistance", "Distance", "flatten_samples"]
