"""Jet shapes of the CMS quark–gluon likelihood: pTD and the axis major/minor.

Columnar awkward expressions, so they run unchanged on eager, virtual and dask arrays.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetad.kinematics import delta_phi

__all__ = ["axes", "ptd"]


def _f64(array: ak.Array) -> ak.Array:
    return ak.values_astype(array, np.float64)


def ptd(constituents: ak.Array) -> ak.Array:
    """pTD = √(Σ pT_i²) / Σ pT_i per jet; NaN for a jet without constituents."""
    pt = _f64(constituents.pt)
    total = ak.sum(pt, axis=-1)
    return ak.where(
        total > 0, np.sqrt(ak.sum(pt**2, axis=-1)) / ak.where(total > 0, total, 1), np.nan
    )


def axes(constituents: ak.Array) -> ak.Array:
    """The axis major and minor of every jet (radians), a record with ``major`` and ``minor``.

    With weights w_i = pT_i², take the weighted covariance matrix of (Δη, Δφ) about the
    weighted centroid, with eigenvalues λ1 ≥ λ2: major = √λ1 and minor = √λ2. Δφ is taken
    relative to the pT-weighted jet direction, so jets across φ = ±π are handled. A jet
    without constituents gives NaN; a single constituent gives 0.
    """
    pt, eta, phi = (_f64(constituents[f]) for f in ("pt", "eta", "phi"))
    reference_phi = np.arctan2(ak.sum(pt * np.sin(phi), axis=-1), ak.sum(pt * np.cos(phi), axis=-1))
    dphi = delta_phi(phi, reference_phi)
    weight = pt**2
    total = ak.sum(weight, axis=-1)
    valid = total > 0
    norm = ak.where(valid, total, 1)

    def mean(x):
        return ak.sum(weight * x, axis=-1) / norm

    mean_eta, mean_phi = mean(eta), mean(dphi)
    var_eta = mean(eta**2) - mean_eta**2
    var_phi = mean(dphi**2) - mean_phi**2
    cov = mean(eta * dphi) - mean_eta * mean_phi
    half_trace = 0.5 * (var_eta + var_phi)
    root = np.sqrt(0.25 * (var_eta - var_phi) ** 2 + cov**2)
    major = np.sqrt(np.maximum(half_trace + root, 0.0))
    minor = np.sqrt(np.maximum(half_trace - root, 0.0))
    return ak.zip(
        {"major": ak.where(valid, major, np.nan), "minor": ak.where(valid, minor, np.nan)}
    )
