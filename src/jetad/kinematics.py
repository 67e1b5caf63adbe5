"""Kinematics shared by every stage: four-momenta, invariant masses, Δφ wrapped into
(−π, π], and ΔR, in GeV and radians, in float64; on scikit-hep ``vector`` where it is as fast.

``python bench/observables.py --kinematics-only`` times each function on vector against the
same formula in numpy ufuncs on 11,790 generated AK8 jets and their 561k constituents (README,
Measurements): vector's invariant mass of Cartesian sums is 1.1–1.5× faster and used here;
building float64 four-momenta, (pt, η, φ) of sums, Δφ and ΔR through vector's records is
0.4–0.9× as fast, so those are written in ufuncs with vector's formulas. Vector in
NanoAOD's float32 would be about twice as fast but differs by up to 0.36 GeV in the jet mass,
so inputs are cast to float64, the precision the observables are tested at against fjcontrib.

The functions take eager awkward arrays, dask-awkward collections or numpy arrays (then the
formulas run on numpy directly) and return the same kind.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import vector

from jetad._dask import is_dask

# vector's behaviours registered in awkward's global table rather than attached to each
# array: an attached behaviour holds lambdas, and arrays that carry it cannot be pickled to
# the generation's worker processes or to Dask workers (each imports this module)
vector.register_awkward()

__all__ = [
    "cartesian",
    "delta_phi",
    "delta_r",
    "four_momenta",
    "invariant_mass",
    "mass_squared",
    "ptetaphim",
    "summed",
    "vectors",
]


def vectors(name: str, **components) -> ak.Array:
    """Records of ``vector``'s behaviour ``name`` (``"Momentum4D"``, ``"Vector2D"``, …) from
    its ``components`` (arrays that broadcast), eager or dask-awkward like the inputs."""
    if any(is_dask(c) for c in components.values()):
        import dask_awkward as dak

        return dak.zip(components, with_name=name)
    return ak.zip(components, with_name=name)


def _numpy(*inputs) -> bool:
    """Whether every input is numpy (or a number): the processors' per-event columns, where
    the formula runs directly (vector has no plain-array path: wrapping costs 1.3 ms a call
    against 8 µs for 2000 events)."""
    return all(isinstance(x, np.ndarray | float | int) for x in inputs)


def cartesian(pt, eta, phi, mass) -> tuple:
    """``(px, py, pz, E)`` (GeV) from ``pt, eta, phi, mass`` in the inputs' precision (give it
    float64): awkward or numpy columns alike. Written in ufuncs: vector's conversion, with the
    records it needs, is 0.8–0.9× as fast."""
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + mass**2)


def four_momenta(particles: ak.Array) -> ak.Array:
    """Cartesian ``px, py, pz, E`` (float64, GeV) of records with ``pt, eta, phi, mass``, as
    ``Momentum4D`` records (:func:`cartesian`)."""
    px, py, pz, energy = cartesian(
        *(ak.values_astype(particles[f], np.float64) for f in ("pt", "eta", "phi", "mass"))
    )
    return vectors("Momentum4D", px=px, py=py, pz=pz, E=energy)


def summed(p4: ak.Array, axis: int = -1) -> tuple[ak.Array, ak.Array, ak.Array, ak.Array]:
    """``(px, py, pz, E)`` of the sum of the four-momenta ``p4`` along ``axis`` (GeV)."""
    return tuple(ak.sum(p4[c], axis=axis) for c in ("px", "py", "pz", "E"))


def mass_squared(px, py, pz, energy):
    """m² = E² − p² (GeV²), negative values (rounding) clipped to 0; vector's ``mass2``
    (1.1–1.5× the ufuncs on awkward arrays)."""
    if _numpy(px, py, pz, energy):
        return np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0)
    return np.maximum(vectors("Momentum4D", px=px, py=py, pz=pz, E=energy).mass2, 0.0)


def invariant_mass(px, py, pz, energy):
    """m = √(E² − p²) (GeV), 0 where rounding makes m² negative (``vector`` alone would
    return −√|m²| there)."""
    return np.sqrt(mass_squared(px, py, pz, energy))


def ptetaphim(px, py, pz, energy) -> dict[str, ak.Array]:
    """``pt, eta, phi, mass`` (GeV) from Cartesian components; negative m² is clipped to 0.
    pt, η, φ in ufuncs (vector's 0.4× as fast), the mass on vector."""
    pt = np.hypot(px, py)
    return {
        "pt": pt,
        "eta": np.arcsinh(pz / pt),
        "phi": np.arctan2(py, px),
        "mass": invariant_mass(px, py, pz, energy),
    }


def delta_phi(phi1, phi2) -> ak.Array:
    """φ1 − φ2 wrapped into (−π, π] (radians), for arrays that broadcast. vector's formula
    (whose wrap is [−π, π)) in ufuncs: vector's ``deltaphi``, with the records it needs, is
    0.8× as fast."""
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    where = np.where if _numpy(phi1, phi2) else ak.where
    return where(dphi == -np.pi, np.pi, dphi)


def delta_r(eta1, phi1, eta2, phi2) -> ak.Array:
    """ΔR = √(Δη² + Δφ²) with Δφ wrapped; vector's formula in ufuncs (its ``deltaR`` 0.8–0.9×)."""
    return np.sqrt((eta1 - eta2) ** 2 + delta_phi(phi1, phi2) ** 2)
