"""Jet shapes of the CMS quark–gluon likelihood: pTD and the axis major/minor.

One numba pass over each jet's constituents gives both (through :func:`jet_map`, so they run
on eager, virtual and dask arrays, and take a :func:`~jetad.observables.flatten_jets` shared
with other observables). Written as awkward expressions before, they were about a fifth of
the semivisible-jet processor's time (``bench/pipeline.py``): some twenty reductions over
``events × jets × constituents`` per chunk.
"""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np

from jetad.observables._batch import FlatJets, JetBatch, jet_map

__all__ = ["axes", "jet_shapes", "ptd"]


@numba.njit(cache=True, error_model="numpy")
def _shapes_kernel(offsets, pt, eta, phi):
    """Per jet: pTD, axis major, axis minor (NaN without constituents), the constituent sum's
    pT (GeV, 0 without constituents)."""
    n_jets = len(offsets) - 1
    out = np.full((n_jets, 4), np.nan)
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        sum_pt = sum_pt2 = sum_sin = sum_cos = 0.0
        for i in range(lo, hi):
            sum_pt += pt[i]
            sum_pt2 += pt[i] * pt[i]
            sum_sin += pt[i] * np.sin(phi[i])
            sum_cos += pt[i] * np.cos(phi[i])
        out[j, 3] = np.hypot(sum_cos, sum_sin)  # |Σ px, Σ py|
        if sum_pt > 0:
            out[j, 0] = np.sqrt(sum_pt2) / sum_pt
        if sum_pt2 <= 0:
            continue
        reference = np.arctan2(sum_sin, sum_cos)  # the pT-weighted jet direction in φ
        s_eta = s_phi = s_eta2 = s_phi2 = s_cross = 0.0
        for i in range(lo, hi):
            w = pt[i] * pt[i]
            dphi = (phi[i] - reference + np.pi) % (2 * np.pi) - np.pi
            if dphi == -np.pi:
                dphi = np.pi
            s_eta += w * eta[i]
            s_phi += w * dphi
            s_eta2 += w * eta[i] * eta[i]
            s_phi2 += w * dphi * dphi
            s_cross += w * eta[i] * dphi
        mean_eta, mean_phi = s_eta / sum_pt2, s_phi / sum_pt2
        var_eta = s_eta2 / sum_pt2 - mean_eta**2
        var_phi = s_phi2 / sum_pt2 - mean_phi**2
        cov = s_cross / sum_pt2 - mean_eta * mean_phi
        half_trace = 0.5 * (var_eta + var_phi)
        root = np.sqrt(0.25 * (var_eta - var_phi) ** 2 + cov**2)
        out[j, 1] = np.sqrt(max(half_trace + root, 0.0))
        out[j, 2] = np.sqrt(max(half_trace - root, 0.0))
    return out


def _kernel(batch: JetBatch) -> dict[str, np.ndarray]:
    values = _shapes_kernel(batch.offsets, batch.pt, batch.eta, batch.phi)
    return {"ptd": values[:, 0], "major": values[:, 1], "minor": values[:, 2], "pt": values[:, 3]}


def jet_shapes(constituents: ak.Array | FlatJets) -> ak.Array:
    """pTD and the axis major and minor of every jet in one pass, a record with ``ptd``,
    ``major``, ``minor`` (see :func:`ptd` and :func:`axes`) and ``pt``, the transverse
    momentum of the constituents' sum (GeV)."""
    return jet_map(constituents, _kernel)


def ptd(constituents: ak.Array | FlatJets) -> ak.Array:
    """pTD = √(Σ pT_i²) / Σ pT_i per jet; NaN for a jet without constituents.

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi`` (GeV), or
            their :func:`~jetad.observables.flatten_jets`.
    """
    return jet_shapes(constituents).ptd


def axes(constituents: ak.Array | FlatJets) -> ak.Array:
    """The axis major and minor of every jet (radians), a record with ``major`` and ``minor``.

    With weights w_i = pT_i², take the weighted covariance matrix of (Δη, Δφ) about the
    weighted centroid, with eigenvalues λ1 ≥ λ2: major = √λ1 and minor = √λ2. Δφ is taken
    relative to the pT-weighted jet direction, so jets across φ = ±π are handled. A jet
    without constituents gives NaN; a single constituent gives 0.

    Args:
        constituents: as for :func:`ptd`.
    """
    shapes = jet_shapes(constituents)
    return ak.zip({"major": shapes.major, "minor": shapes.minor})
