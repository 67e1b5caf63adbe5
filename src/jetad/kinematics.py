"""Kinematics shared by every stage: four-momenta, invariant masses, Δφ wrapped into (−π, π],
and ΔR, in GeV and radians.

Written with numpy ufuncs on awkward arrays in float64 rather than through ``vector``'s
behaviours: ``python bench/observables.py --svj8-only`` times the jet mass of the constituent
sum both ways on 11,790 generated AK8 jets: vector is 1.7× faster on NanoAOD's float32 columns
because it stays in float32, and differs by up to 0.36 GeV; float64 is the precision the
observables are tested at against fjcontrib. The ufuncs also keep the processors' histograms
bit-identical to those before this module (``tests/test_processor_reference.py``) and run
unchanged on dask-awkward.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = [
    "delta_phi",
    "delta_r",
    "four_momenta",
    "invariant_mass",
    "mass_squared",
    "ptetaphim",
    "summed",
]


def four_momenta(particles: ak.Array) -> ak.Array:
    """Cartesian ``px, py, pz, E`` (float64, GeV) of records with ``pt, eta, phi, mass``."""
    pt, eta, phi, mass = (
        ak.values_astype(particles[f], np.float64) for f in ("pt", "eta", "phi", "mass")
    )
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return ak.zip({"px": px, "py": py, "pz": pz, "E": energy}, with_name="Momentum4D")


def summed(p4: ak.Array, axis: int = -1) -> tuple[ak.Array, ak.Array, ak.Array, ak.Array]:
    """``(px, py, pz, E)`` of the sum of the four-momenta ``p4`` along ``axis`` (GeV)."""
    return tuple(ak.sum(p4[c], axis=axis) for c in ("px", "py", "pz", "E"))


def mass_squared(px, py, pz, energy):
    """m² = E² − p² (GeV²), negative values (rounding) clipped to 0."""
    return np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0)


def invariant_mass(px, py, pz, energy):
    """m = √(E² − p²) (GeV), 0 where rounding makes m² negative."""
    return np.sqrt(mass_squared(px, py, pz, energy))


def ptetaphim(px, py, pz, energy) -> dict[str, ak.Array]:
    """``pt, eta, phi, mass`` (GeV) from Cartesian components; negative m² is clipped to 0."""
    pt = np.hypot(px, py)
    return {
        "pt": pt,
        "eta": np.arcsinh(pz / pt),
        "phi": np.arctan2(py, px),
        "mass": invariant_mass(px, py, pz, energy),
    }


def delta_phi(phi1, phi2) -> ak.Array:
    """φ1 − φ2 wrapped into (−π, π] (radians), for awkward arrays that broadcast."""
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return ak.where(dphi == -np.pi, np.pi, dphi)


def delta_r(eta1, phi1, eta2, phi2) -> ak.Array:
    """ΔR = √(Δη² + Δφ²) with Δφ wrapped."""
    return np.hypot(eta1 - eta2, delta_phi(phi1, phi2))
