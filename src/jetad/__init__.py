"""jetad: a coffea plugin for unsupervised new-physics searches with jets.

Stages, in the order data flows through them:

- :mod:`jetad.generate`: Pythia 8 and a parametric detector write PFNano-like ROOT files.
- :mod:`jetad.constituents`: jet constituents from the file's links or from reclustering.
- :mod:`jetad.observables`: jet substructure and event features, columnar.
- :mod:`jetad.features`: the named feature sets the models train on.

numba's compiled-kernel cache goes to ``$XDG_CACHE_HOME/jetad/numba`` (``~/.cache`` by
default) unless ``NUMBA_CACHE_DIR`` is set: written beside an installed package, the cache
outlives ``pip uninstall`` and turns a later editable install of jetad into a namespace
package that cannot be imported.
"""

import os
from importlib.metadata import version

os.environ.setdefault(
    "NUMBA_CACHE_DIR",
    os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "jetad",
        "numba",
    ),
)

__version__ = version("jetad")
__all__ = ["__version__"]
