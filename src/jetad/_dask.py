"""Dispatch helpers between eager arrays and dask-awkward, which stays an optional import."""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = ["eager_numpy", "is_dask"]


def is_dask(array) -> bool:
    """Whether ``array`` is a dask-awkward collection (without importing dask if unused)."""
    return type(array).__module__.startswith("dask_awkward")


def eager_numpy(values):
    """A one-dimensional eager (or virtual) awkward array as numpy, NaN where it is None;
    anything else (numbers, numpy, dask collections) as it is. Where a chunk's arrays hold one
    number per event, numpy avoids awkward's per-call cost (``bench/pipeline.py``)."""
    if not isinstance(values, ak.Array) or ak.backend(values) != "cpu":
        return values
    array = ak.to_numpy(values, allow_missing=True)
    return np.ma.filled(array, np.nan) if np.ma.isMaskedArray(array) else array
