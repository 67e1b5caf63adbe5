"""``jetad.observables``: jet substructure and event features, columnar over many jets.

One module per family; every function takes ``[events ×] jets × constituents`` arrays (or
event collections) and returns arrays aligned with the jets (or events).
"""

from jetad.observables._batch import FlatJets, flatten_jets
from jetad.observables.constituent_images import leading_constituents
from jetad.observables.dijet import dijet_features, dijet_kinematics, dijet_mass
from jetad.observables.ecf import energy_correlation, energy_correlations
from jetad.observables.efp import efp, efp_names
from jetad.observables.efp_graphs import efp_graphs
from jetad.observables.grooming import soft_drop
from jetad.observables.lepton_trigger import lepton_trigger_features
from jetad.observables.met import dijet_met_mt, met_decomposition, missing_et
from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32, tau43
from jetad.observables.shapes import axes, jet_shapes, ptd

__all__ = [
    "FlatJets",
    "axes",
    "dijet_features",
    "dijet_kinematics",
    "dijet_mass",
    "dijet_met_mt",
    "energy_correlation",
    "energy_correlations",
    "efp",
    "efp_graphs",
    "efp_names",
    "flatten_jets",
    "leading_constituents",
    "lepton_trigger_features",
    "met_decomposition",
    "missing_et",
    "nsubjettiness",
    "jet_shapes",
    "ptd",
    "soft_drop",
    "tau21",
    "tau32",
    "tau43",
]
