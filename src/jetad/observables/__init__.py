"""``jetad.observables``: jet substructure and event features, columnar over many jets.

One module per family; every function takes ``[events ×] jets × constituents`` arrays (or
event collections) and returns arrays aligned with the jets (or events).
"""

from jetad.observables.ecf import energy_correlation, energy_correlations
from jetad.observables.efp import efp, efp_names
from jetad.observables.efp_graphs import efp_graphs
from jetad.observables.grooming import soft_drop
from jetad.observables.met import met_decomposition, missing_et
from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32
from jetad.observables.shapes import axes, ptd

__all__ = [
    "axes",
    "energy_correlation",
    "energy_correlations",
    "efp",
    "efp_graphs",
    "efp_names",
    "met_decomposition",
    "missing_et",
    "nsubjettiness",
    "ptd",
    "soft_drop",
    "tau21",
    "tau32",
]
