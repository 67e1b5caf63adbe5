"""Angular differences shared by every stage: Δφ wrapped into (−π, π], and ΔR."""

from __future__ import annotations

import awkward as ak
import numpy as np

__all__ = ["delta_phi", "delta_r"]


def delta_phi(phi1, phi2) -> ak.Array:
    """φ1 − φ2 wrapped into (−π, π] (radians), for awkward arrays that broadcast."""
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return ak.where(dphi == -np.pi, np.pi, dphi)


def delta_r(eta1, phi1, eta2, phi2) -> ak.Array:
    """ΔR = √(Δη² + Δφ²) with Δφ wrapped."""
    return np.hypot(eta1 - eta2, delta_phi(phi1, phi2))
