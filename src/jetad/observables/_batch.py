"""From jagged constituents to flat per-jet batches for numba kernels, and back.

Every observable takes ``jets × constituents`` or ``events × jets × constituents`` arrays of
records with ``pt, eta, phi, mass`` (GeV). :func:`jet_map` flattens them once into contiguous
float64 columns with per-jet offsets, runs a kernel over all jets, and restores the jagged
structure. On typetracers (dask-awkward graph building) it runs the kernel on a length-zero
array, so the output form is exact and nothing is computed.

Several observables of the same jets share one flattening: :func:`flatten_jets` returns a
:class:`FlatJets` that every observable taking constituents also accepts (a feature set such as
``svj8`` flattens once for τ_N, EFPs, ECFs and soft drop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import awkward as ak
import numba
import numpy as np

from jetad._dask import is_dask, on_length_zero

__all__ = ["FlatJets", "JetBatch", "flatten_jets", "jet_map", "wrap_phi"]

TWO_PI = 2.0 * np.pi
_COLUMNS = ("pt", "eta", "phi", "mass")


@dataclass(frozen=True)
class JetBatch:
    """Flat constituent columns of many jets: jet ``j`` is ``offsets[j]:offsets[j+1]``.

    ``phi`` is in [0, 2π) and ``rap`` is the true rapidity, as in fastjet.
    """

    offsets: np.ndarray
    pt: np.ndarray
    rap: np.ndarray
    phi: np.ndarray
    eta: np.ndarray
    mass: np.ndarray

    @property
    def n_jets(self) -> int:
        return len(self.offsets) - 1


def _batch(jets: ak.Array) -> JetBatch:
    counts = ak.to_numpy(ak.num(jets, axis=1))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = ak.flatten(jets, axis=1)

    def column(name):
        return np.ascontiguousarray(ak.to_numpy(flat[name]), dtype=np.float64)

    pt, eta, phi, mass = (column(n) for n in _COLUMNS)
    mt = np.sqrt(pt * pt + mass * mass)
    rap = np.arcsinh(pt * np.sinh(eta) / np.where(mt > 0, mt, 1.0))
    return JetBatch(offsets, pt, rap, np.mod(phi, TWO_PI), eta, mass)


@dataclass(frozen=True)
class FlatJets:
    """Jets flattened once for several observables: the :class:`JetBatch` and how to restore
    ``[events ×] jets`` (``jets_per_event`` is None for ``jets × constituents``)."""

    batch: JetBatch
    jets_per_event: ak.Array | None


def _levels(constituents: ak.Array) -> tuple[ak.Array, ak.Array | None]:
    """``(jets × constituents, jets per event or None)`` of a 2- or 3-level array."""
    depth = constituents.ndim
    if depth == 3:
        return ak.flatten(constituents, axis=1), ak.num(constituents, axis=1)
    if depth == 2:
        return constituents, None
    raise ValueError(
        "constituents must be jets × constituents or events × jets × constituents, "
        f"got {depth} levels: {constituents.type}"
    )


def flatten_jets(constituents: ak.Array) -> FlatJets | ak.Array:
    """Flatten eager ``[events ×] jets × constituents`` once, to be shared by several
    observables; dask collections and typetracers are returned as they are (each observable
    then maps them itself)."""
    if is_dask(constituents) or ak.backend(constituents) == "typetracer":
        return constituents
    jets, jets_per_event = _levels(constituents)
    return FlatJets(_batch(jets), jets_per_event)


def _restore(out, jets_per_event: ak.Array | None) -> ak.Array:
    if isinstance(out, dict):
        result = ak.zip({k: ak.Array(v) for k, v in out.items()})
    else:
        result = ak.Array(out)
    return result if jets_per_event is None else ak.unflatten(result, jets_per_event)


def jet_map(
    constituents: ak.Array | FlatJets,
    kernel: Callable[[JetBatch], np.ndarray | dict[str, np.ndarray]],
) -> ak.Array:
    """Apply ``kernel`` to every jet of ``constituents`` (2 or 3 levels of nesting, or
    already flattened by :func:`flatten_jets`).

    The kernel receives a :class:`JetBatch` and returns an ``(n_jets,)`` or
    ``(n_jets, k)`` array, or a dict of ``(n_jets,)`` arrays (a record per jet).
    A dask-awkward input is mapped partition by partition.
    """
    if isinstance(constituents, FlatJets):
        return _restore(kernel(constituents.batch), constituents.jets_per_event)
    if is_dask(constituents):
        import dask_awkward as dak

        return dak.map_partitions(jet_map, constituents, kernel)
    if ak.backend(constituents) == "typetracer":
        return on_length_zero(lambda zero: jet_map(zero, kernel), (constituents, _COLUMNS))
    jets, jets_per_event = _levels(constituents)
    return _restore(kernel(_batch(jets)), jets_per_event)


@numba.njit(cache=True, inline="always")
def wrap_phi(dphi: float) -> float:
    """|Δφ| folded into [0, π], for φ in [0, 2π)."""
    dphi = abs(dphi)
    return TWO_PI - dphi if dphi > np.pi else dphi
