"""Dispatch helpers between eager arrays and dask-awkward, which stays an optional import."""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = ["eager_numpy", "is_dask", "on_length_zero"]


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


def on_length_zero(function, *inputs: tuple[ak.Array | None, tuple[str, ...]]) -> ak.Array:
    """``function``'s output form for typetracer inputs (dask-awkward graph building), nothing
    computed. Each input is ``(array, fields)``: the ``fields`` it reads are touched (for
    dask-awkward's column optimisation), and ``function`` runs on a length-zero array of the
    same form (``None`` stays ``None``); its result becomes a typetracer of unknown length."""
    for array, fields in inputs:
        for field in fields if array is not None else ():
            if field in ak.fields(array):
                ak.typetracer.touch_data(array[field])
    zero = [
        None if a is None else ak.Array(a.layout.form.length_zero_array(), behavior=a.behavior)
        for a, _ in inputs
    ]
    result = function(*zero)
    return ak.Array(result.layout.to_typetracer(forget_length=True))
