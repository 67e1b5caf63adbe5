"""Soft-drop grooming (Larkoski, Marzani, Soyez, Thaler), batched with numba.

The constituents are reclustered with Cambridge/Aachen (E-scheme, R = ∞) and the tree is
declustered from the top: a branching j → j1 j2 is kept when

    min(pT1, pT2) / (pT1 + pT2) > z_cut · (ΔR12 / R0)^β,

and otherwise the softer branch is dropped and declustering continues on the harder one.
CMS uses z_cut = 0.1, β = 0, R0 = 0.8. When no branching passes, the groomed jet is the
hardest single constituent, with zg = rg = 0 (fjcontrib reports −1 there). A jet without
constituents gives NaN.
"""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np

from jetad.observables._batch import JetBatch, jet_map, wrap_phi
from jetad.observables._clustering import cluster_tree

__all__ = ["soft_drop"]


@numba.njit(cache=True, error_model="numpy")
def _soft_drop_kernel(offsets, pt, rap, phi, mass, zcut, beta, r0):
    n_jets = len(offsets) - 1
    out = np.full((n_jets, 4), np.nan)
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        if hi == lo:
            continue
        p4, yphi, children = cluster_tree(pt[lo:hi], rap[lo:hi], phi[lo:hi], mass[lo:hi], 0, False)
        current = len(p4) - 1
        zg, rg = 0.0, 0.0
        while children[current, 0] >= 0:
            a, b = children[current, 0], children[current, 1]
            pta = np.hypot(p4[a, 0], p4[a, 1])
            ptb = np.hypot(p4[b, 0], p4[b, 1])
            drap = yphi[a, 0] - yphi[b, 0]
            dphi = wrap_phi(yphi[a, 1] - yphi[b, 1])
            delta_r = np.sqrt(drap * drap + dphi * dphi)
            z = min(pta, ptb) / (pta + ptb)
            if z > zcut * (delta_r / r0) ** beta:
                zg, rg = z, delta_r
                break
            current = a if pta >= ptb else b
        px, py, pz, e = p4[current, 0], p4[current, 1], p4[current, 2], p4[current, 3]
        if current < hi - lo:  # a single constituent: its own mass, not E² − p² rounding
            out[j, 0] = mass[lo + current]
        else:
            out[j, 0] = np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))
        out[j, 1] = np.hypot(px, py)
        out[j, 2], out[j, 3] = zg, rg
    return out


def soft_drop(
    constituents: ak.Array, zcut: float = 0.1, beta: float = 0.0, r0: float = 0.8
) -> ak.Array:
    """Soft-drop groomed jets: a record per jet with ``msoftdrop`` and ``ptsoftdrop`` (GeV),
    ``zg`` (the momentum sharing of the kept branching) and ``rg`` (its opening angle).

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV),
            or their :func:`~jetad.observables.flatten_jets` shared with other observables.
        zcut: the symmetry cut z_cut.
        beta: the angular exponent β ≥ 0 (0 is the modified mass-drop tagger).
        r0: the jet radius R0 of the angular factor.
    """
    if not 0.0 < zcut < 0.5:
        raise ValueError(f"zcut must lie in (0, 0.5), got {zcut}")
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got {beta}")

    def kernel(batch: JetBatch) -> dict[str, np.ndarray]:
        out = _soft_drop_kernel(
            batch.offsets,
            batch.pt,
            batch.rap,
            batch.phi,
            batch.mass,
            float(zcut),
            float(beta),
            float(r0),
        )
        return {"msoftdrop": out[:, 0], "ptsoftdrop": out[:, 1], "zg": out[:, 2], "rg": out[:, 3]}

    return jet_map(constituents, kernel)
