"""unpaired: learning mappings from unpaired supervision.

Two source documents shape the library: the AIGN paper (inverse graphics with a
parameter-free renderer plus distribution-matching priors) and a thesis talk on
cross-domain manipulation (statistical distances for alignment). Both reduce to
``min_G  recon(P(G(x)), x) + beta * d(G(X), M)`` with ``d`` any statistical distance.
"""

__version__ = "0.1.0"
