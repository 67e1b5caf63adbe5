"""Missing transverse momentum relative to a reference object (a lepton or a jet).

p⃗T^miss is decomposed along the reference's transverse direction p̂T:

- ``parallel`` = p⃗T^miss · p̂T (GeV)
- ``perpendicular`` = (p̂T × p⃗T^miss)_z, signed (GeV)
- ``mt`` = √(2 pT E_T^miss (1 − cos Δφ)) (GeV)
- ``dphi`` = φ_miss − φ_ref wrapped into (−π, π]

:func:`dijet_met_mt` is the transverse mass of the two leading jets and p⃗T^miss together,
the discriminant of semivisible-jet searches.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetad.kinematics import delta_phi, mass_squared
from jetad.observables.dijet import dijet_momentum

__all__ = ["dijet_met_mt", "met_decomposition", "missing_et"]

#: NanoAOD v15 calls the PF MET ``PFMET``; earlier versions call it ``MET``.
MET_COLLECTIONS = ("PFMET", "MET")


def missing_et(events: ak.Array) -> ak.Array:
    """The PF missing-ET record of ``events``: ``PFMET`` (NanoAOD v15) or ``MET``.

    Raises:
        ValueError: naming both collections when neither is present.
    """
    for name in MET_COLLECTIONS:
        if name in events.fields:
            return events[name]
    raise ValueError(f"no missing ET in these events; looked for {' and '.join(MET_COLLECTIONS)}")


def met_decomposition(met: ak.Array, reference: ak.Array) -> ak.Array:
    """MET∥, MET⊥, M_T and Δφ of ``met`` (``pt``, ``phi``) relative to ``reference``.

    ``met`` is one record per event; ``reference`` is one object per event or a jagged
    collection (``events × objects``), which broadcasts. A missing reference (None) gives None.
    """
    met_pt = ak.values_astype(met.pt, np.float64)
    ref_pt = ak.values_astype(reference.pt, np.float64)
    dphi = delta_phi(met.phi, reference.phi)
    return ak.zip(
        {
            "parallel": met_pt * np.cos(dphi),
            "perpendicular": met_pt * np.sin(dphi),
            "mt": np.sqrt(np.maximum(2 * ref_pt * met_pt * (1 - np.cos(dphi)), 0.0)),
            "dphi": dphi,
        }
    )


def dijet_met_mt(jets: ak.Array, met: ak.Array) -> ak.Array:
    """M_T of the two leading jets and the missing transverse momentum (GeV), per event.

    With the dijet system's mass m_jj, transverse momentum p⃗T,jj and transverse energy
    E_T,jj = √(m_jj² + pT,jj²), and MET taken massless:

        M_T² = m_jj² + 2 (E_T,jj E_T^miss − p⃗T,jj · p⃗T^miss)

    so M_T = m_jj when E_T^miss = 0. Events with fewer than two jets get None.

    Args:
        jets: ``events × jets`` with ``pt, eta, phi, mass`` (GeV), ordered by decreasing pT.
        met: one record per event with ``pt, phi``.
    """
    px, py, pz, energy = dijet_momentum(jets)
    mjj2 = mass_squared(px, py, pz, energy)
    met_pt = ak.values_astype(met.pt, np.float64)
    met_phi = ak.values_astype(met.phi, np.float64)
    et_jj = np.sqrt(mjj2 + px**2 + py**2)
    dot = px * met_pt * np.cos(met_phi) + py * met_pt * np.sin(met_phi)
    mt = np.sqrt(np.maximum(mjj2 + 2 * (et_jj * met_pt - dot), 0.0))
    return ak.mask(mt, ak.num(jets, axis=1) >= 2)
