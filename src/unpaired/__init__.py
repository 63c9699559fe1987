"""unpaired: learning mappings from unpaired supervision.

Two source documents shape the library: the AIGN paper (inverse graphics with a
parameter-free renderer plus distribution-matching priors) and a thesis talk on
cross-domain manipulation (statistical distances for alignment). Both reduce to
``min_G  recon(P(G(x)), x) + beta * d(G(X), M)`` with ``d`` any statistical distance.
"""

__version__ = "0.1.0"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``unpaired.load`` (:func:`unpaired.engine.records.load`), imported when first used."""
    if name == "load":
        from unpaired.engine.records import load

        return load
    raise AttributeError(f"module 'unpaired' has no attribute {name!r}")
