"""Optional dependencies: imported where they are used, with one line naming the extra.

``pip install jetad`` gives what a coffea analysis needs to *apply* a model (processors,
scoring, histograms, the bump hunt); generation, the training extras, Dask clusters, ONNX and
the LHC Olympics converter are extras (``pyproject.toml``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtra", "require"]

#: module → (distribution, extra)
EXTRAS = {
    "pythia8mc": ("pythia8mc", "generate"),
    "ot": ("pot", "train"),
    "zuko": ("zuko", "train"),
    "distributed": ("distributed", "dask"),
    "dask_jobqueue": ("dask-jobqueue", "jobqueue"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnxruntime", "onnx"),
    "pandas": ("pandas", "lhco"),
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (a key of :data:`EXTRAS`) for ``purpose``, or raise
    :class:`MissingExtra`: ``"<purpose> needs <dist>: pip install 'jetad[<extra>]'"``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        distribution, extra = EXTRAS[module]
        raise MissingExtra(
            f"{purpose} needs {distribution}, which is not installed: "
            f"pip install 'jetad[{extra}]'"
        ) from None
