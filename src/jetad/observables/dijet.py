"""Mass-ordered dijet features of the LHC-Olympics analysis (Bortolato et al.).

The two highest-pT jets of each event are ordered by mass, j1 the heavier:

- ``mj1``, ``mj2``: jet masses (GeV)
- ``tau21_j1``, ``tau21_j2``, ``tau32_j1``, ``tau32_j2``: N-subjettiness ratios (β = 1,
  R0 = 0.8, OnePass-kT axes; NaN where the denominator is 0)
- ``mjj``: the dijet invariant mass (GeV) — never a model input, it is what the bump hunt fits
- ``deta``: |η_j1 − η_j2|
- ``ptj1``, ``ptj2`` (GeV)

Events with fewer than two jets get None.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.clustering import four_momenta
from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32

__all__ = ["dijet_features"]


def dijet_features(jets: ak.Array, constituents: ak.Array) -> ak.Array:
    """The mass-ordered dijet features of every event (one record per event, None if < 2 jets).

    Args:
        jets: ``events × jets`` with ``pt, eta, phi, mass`` (GeV), ordered by decreasing pT.
        constituents: ``events × jets × constituents`` aligned with ``jets``.
    """
    if is_dask(jets):
        import dask_awkward as dak

        return dak.map_partitions(dijet_features, jets, constituents)
    has_two = ak.num(jets, axis=1) >= 2
    taus = nsubjettiness(constituents[:, :2], nmax=3)
    r21, r32 = tau21(taus), tau32(taus)
    first, second = (
        {
            "jet": ak.firsts(jets[:, k : k + 1]),
            "tau21": ak.firsts(r21[:, k : k + 1]),
            "tau32": ak.firsts(r32[:, k : k + 1]),
        }
        for k in (0, 1)
    )
    swap = first["jet"].mass < second["jet"].mass
    j1 = {key: ak.where(swap, second[key], first[key]) for key in first}
    j2 = {key: ak.where(swap, first[key], second[key]) for key in first}
    p1, p2 = four_momenta(j1["jet"]), four_momenta(j2["jet"])
    px, py, pz, energy = (p1[c] + p2[c] for c in ("px", "py", "pz", "E"))
    features = ak.zip(
        {
            "mj1": ak.values_astype(j1["jet"].mass, np.float64),
            "mj2": ak.values_astype(j2["jet"].mass, np.float64),
            "tau21_j1": j1["tau21"],
            "tau21_j2": j2["tau21"],
            "tau32_j1": j1["tau32"],
            "tau32_j2": j2["tau32"],
            "mjj": np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0)),
            "deta": abs(j1["jet"].eta - j2["jet"].eta),
            "ptj1": j1["jet"].pt,
            "ptj2": j2["jet"].pt,
        }
    )
    return ak.mask(features, has_two)
