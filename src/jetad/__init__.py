"""jetad: a coffea plugin for unsupervised new-physics searches with jets.

Stages, in the order data flows through them:

- :mod:`jetad.generate`: Pythia 8 and a parametric detector write PFNano-like ROOT files.
"""

from importlib.metadata import version

__version__ = version("jetad")
__all__ = ["__version__"]
