"""The leading constituents of a jet in its own frame (Cheng et al., the constituent VAE).

Each jet is brought to a standard frame, then its ``n`` leading constituents by energy are
listed as (E, px, py, pz), zero-padded:

1. rotate about the beam axis by −φ_jet, so the jet lies in the x–z plane with px > 0;
2. boost along the beam so the jet has pz = 0 (η_jet = 0);
3. rotate about the jet axis (now x) so the energy-weighted principal axis of the
   constituents' transverse directions (py/E, pz/E) lies along y.

The result is invariant under azimuthal rotations and longitudinal boosts of the jet.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.kinematics import four_momenta

__all__ = ["COMPONENTS", "jet_frame_images", "leading_constituents"]

COMPONENTS = ("E", "px", "py", "pz")


def leading_constituents(constituents: ak.Array, n: int = 20) -> ak.Array:
    """The ``n`` leading constituents of every jet in the jet frame, ``[..., n, 4]`` (GeV).

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV).
        n: how many constituents to keep; fewer are zero-padded.

    Returns:
        A regular array ``[..., n, 4]`` of (E, px, py, pz) per constituent, by decreasing E.
    """
    if is_dask(constituents):
        import dask_awkward as dak

        return dak.map_partitions(leading_constituents, constituents, n)
    return jet_frame_images(constituents, n)[0]


def jet_frame_images(constituents: ak.Array, n: int = 20) -> tuple[ak.Array, tuple]:
    """:func:`leading_constituents` and the jets' ``(px, py, pz, E)`` (the constituent sums,
    GeV) from the same four-momenta, for callers that need both."""
    p4 = four_momenta(constituents)
    px, py, pz, energy = p4.px, p4.py, p4.pz, p4.E
    jet_px, jet_py = ak.sum(px, axis=-1), ak.sum(py, axis=-1)
    jet_pz, jet_e = ak.sum(pz, axis=-1), ak.sum(energy, axis=-1)
    phi = np.arctan2(jet_py, jet_px)
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    x = px * cos_phi + py * sin_phi
    y = -px * sin_phi + py * cos_phi
    beta = ak.where(jet_e > 0, jet_pz / ak.where(jet_e > 0, jet_e, 1.0), 0.0)
    gamma = 1.0 / np.sqrt(1.0 - beta**2)
    z = gamma * (pz - beta * energy)
    e = gamma * (energy - beta * pz)
    safe_e = ak.where(e > 0, e, 1.0)
    syy = ak.sum(y * y / safe_e, axis=-1)
    szz = ak.sum(z * z / safe_e, axis=-1)
    syz = ak.sum(y * z / safe_e, axis=-1)
    alpha = 0.5 * np.arctan2(2 * syz, syy - szz)
    cos_a, sin_a = np.cos(alpha), np.sin(alpha)
    y, z = y * cos_a + z * sin_a, -y * sin_a + z * cos_a
    order = ak.argsort(e, axis=-1, ascending=False)
    columns = [
        ak.fill_none(ak.pad_none(c[order], n, axis=-1, clip=True), 0.0) for c in (e, x, y, z)
    ]
    stacked = ak.concatenate([c[..., np.newaxis] for c in columns], axis=-1)
    images = ak.to_regular(ak.to_regular(stacked, axis=-1), axis=-2)
    return images, (jet_px, jet_py, jet_pz, jet_e)
