"""Missing transverse momentum relative to a reference object (a lepton or a jet).

p⃗T^miss is decomposed along the reference's transverse direction p̂T:

- ``parallel`` = p⃗T^miss · p̂T (GeV)
- ``perpendicular`` = (p̂T × p⃗T^miss)_z, signed (GeV)
- ``mt`` = √(2 pT E_T^miss (1 − cos Δφ)) (GeV)
- ``dphi`` = φ_miss − φ_ref wrapped into (−π, π]
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetad.kinematics import delta_phi

__all__ = ["met_decomposition", "missing_et"]

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
