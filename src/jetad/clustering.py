"""Jet clustering of PF candidates with fastjet, columnar over many events at once: the
reclustering of :func:`jetad.constituents.recluster`, the generator's jets and the LHCO
conversion (the I/O stage; imported only where fastjet is needed)."""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np

from jetad.kinematics import four_momenta, ptetaphim

__all__ = ["ALGORITHMS", "cluster"]

#: fastjet algorithms by the names used in jetad's API.
ALGORITHMS = {
    "antikt": fastjet.antikt_algorithm,
    "kt": fastjet.kt_algorithm,
    "cambridge": fastjet.cambridge_algorithm,
}


def cluster(
    particles: ak.Array, radius: float, ptmin: float, algorithm: str = "antikt"
) -> tuple[ak.Array, ak.Array]:
    """Inclusive jets of ``particles`` (``events × particles`` with pt, eta, phi, mass).

    Returns:
        ``jets``: ``events × jets`` with ``pt, eta, phi, mass`` (float32, GeV) and
        ``nConstituents``, sorted by decreasing pT;
        ``index``: ``events × jets × constituents``, indices into ``particles``.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; valid: {', '.join(ALGORITHMS)}")
    sequence = fastjet.ClusterSequence(
        four_momenta(particles), fastjet.JetDefinition(ALGORITHMS[algorithm], radius)
    )
    jets = sequence.inclusive_jets(min_pt=ptmin)
    index = sequence.constituent_index(min_pt=ptmin)
    order = ak.argsort(np.hypot(jets.px, jets.py), axis=1, ascending=False)
    jets, index = jets[order], index[order]
    kinematics = ptetaphim(jets.px, jets.py, jets.pz, jets.E)
    record = {k: ak.values_astype(v, np.float32) for k, v in kinematics.items()}
    record["nConstituents"] = ak.values_astype(ak.num(index, axis=2), np.int32)
    return ak.zip(record), index
