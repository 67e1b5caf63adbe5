"""``jetad.observables``: jet substructure and event features, columnar over many jets.

One module per family; every function takes ``[events ×] jets × constituents`` arrays (or
event collections) and returns arrays aligned with the jets (or events).
"""

from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32

__all__ = ["nsubjettiness", "tau21", "tau32"]
