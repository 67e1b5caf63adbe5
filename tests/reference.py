"""Reference implementations for the observable tests: fjcontrib through scikit-hep fastjet,
and brute-force numpy formulas written straight from ../shared/REFERENCE.md."""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np


def four_momenta(jets: ak.Array) -> ak.Array:
    """float64 Cartesian momenta of ``jets × constituents`` with pt, eta, phi, mass."""
    pt, eta, phi, mass = (
        ak.values_astype(jets[f], np.float64) for f in ("pt", "eta", "phi", "mass")
    )
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return ak.zip({"px": px, "py": py, "pz": pz, "E": energy}, with_name="Momentum4D")


def cluster_sequence(
    jets: ak.Array, algorithm=fastjet.cambridge_algorithm
) -> fastjet.ClusterSequence:
    """One fastjet 'event' per jet, so that each exclusive 1-jet is the whole jet."""
    return fastjet.ClusterSequence(four_momenta(jets), fastjet.JetDefinition(algorithm, 100.0))


def numpy_jets(jets: ak.Array):
    """Per-jet (z, rapidity, phi) numpy arrays."""
    out = []
    for jet in ak.to_list(jets):
        pt = np.array([c["pt"] for c in jet], dtype=np.float64)
        eta = np.array([c["eta"] for c in jet], dtype=np.float64)
        phi = np.array([c["phi"] for c in jet], dtype=np.float64)
        mass = np.array([c["mass"] for c in jet], dtype=np.float64)
        mt = np.sqrt(pt**2 + mass**2)
        rap = np.arcsinh(pt * np.sinh(eta) / mt)
        out.append((pt / pt.sum(), rap, phi))
    return out


def theta_matrix(rap: np.ndarray, phi: np.ndarray, beta: float) -> np.ndarray:
    """θ_ij^β = ΔR_ij^β with Δφ wrapped into (−π, π]."""
    drap = rap[:, None] - rap[None, :]
    dphi = (phi[:, None] - phi[None, :] + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(drap, dphi) ** beta


def toy_jets(*jets: list[tuple[float, float, float, float]]) -> ak.Array:
    """``jets × constituents`` from explicit (pt, eta, phi, mass) tuples, for analytic cases."""
    return ak.Array(
        [
            [{"pt": pt, "eta": eta, "phi": phi, "mass": m} for pt, eta, phi, m in jet]
            for jet in jets
        ],
        with_name="Momentum4D",
    )
