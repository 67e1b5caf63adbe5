"""jetad: a coffea plugin for unsupervised new-physics searches with jets.

Stages, in the order data flows through them:

- :mod:`jetad.generate`: Pythia 8 and a parametric detector write PFNano-like ROOT files.
- :mod:`jetad.constituents`: jet constituents from the file's links or from reclustering.
- :mod:`jetad.observables`: jet substructure and event features, columnar.
- :mod:`jetad.features`: the named feature sets the models train on.
"""

from importlib.metadata import version

__version__ = version("jetad")
__all__ = ["__version__"]
