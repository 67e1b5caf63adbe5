"""``jetad.observables``: jet substructure and event features, columnar over many jets.

One module per family; every function takes ``[events ×] jets × constituents`` arrays (or
event collections) and returns arrays aligned with the jets (or events).
"""

from jetad.observables.ecf import energy_correlation, energy_correlations
from jetad.observables.grooming import soft_drop
from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32

__all__ = [
    "energy_correlation",
    "energy_correlations",
    "nsubjettiness",
    "soft_drop",
    "tau21",
    "tau32",
]
