"""Mass-ordered dijet features of the LHC-Olympics analysis (Bortolato et al.).

The two highest-pT jets of each event are ordered by mass, j1 the heavier:

- ``mj1``, ``mj2``: jet masses (GeV)
- ``tau21_j1``, ``tau21_j2``, ``tau32_j1``, ``tau32_j2``: N-subjettiness ratios (β = 1,
  R0 = 0.8, OnePass-kT axes; NaN where the denominator is 0)
- ``mjj``: the dijet invariant mass (GeV) — never a model input, it is what the bump hunt fits
- ``deta``: |η_j1 − η_j2|
- ``ptj1``, ``ptj2`` (GeV)

Events with fewer than two jets get None.

Without constituents (standard NanoAOD), τ_N are read from the jets' stored ``tau1``,
``tau2``, ``tau3`` (CMSSW: PUPPI constituents, OnePass-kT axes, β = 1, R0 = 0.8, the same
definition; ``../shared/realdata`` agrees with jetad's own to 0.1%).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.kinematics import four_momenta, invariant_mass
from jetad.observables.nsubjettiness import nsubjettiness, tau21, tau32

__all__ = [
    "DijetSelection",
    "dijet_features",
    "dijet_kinematics",
    "dijet_mass",
    "stored_nsubjettiness",
]


def stored_nsubjettiness(jets: ak.Array) -> ak.Array:
    """``events × jets × 3`` τ1, τ2, τ3 from the jets' NanoAOD branches ``tau1..3``.

    Raises:
        ValueError: naming the missing branches.
    """
    names = ("tau1", "tau2", "tau3")
    missing = [f"FatJet_{n}" for n in names if n not in jets.fields]
    if missing:
        raise ValueError(f"no constituents and no stored N-subjettiness: {', '.join(missing)}")
    columns = [ak.values_astype(jets[n], np.float64)[..., np.newaxis] for n in names]
    return ak.concatenate(columns, axis=-1)


def dijet_kinematics(jets: ak.Array) -> tuple[ak.Array, ak.Array]:
    """The leading pT (GeV) and |Δη| of the two leading jets, per event; None with fewer than
    two jets. Cheap (no constituents): select on these before computing substructure.

    Args:
        jets: ``events × jets`` with ``pt`` and ``eta``, ordered by decreasing pT.
    """
    pair = ak.mask(jets, ak.num(jets, axis=1) >= 2)
    first, second = pair[:, 0], pair[:, 1]
    return np.maximum(first.pt, second.pt), abs(first.eta - second.eta)


@dataclass(frozen=True)
class DijetSelection:
    """The dijet analysis' event selection: two jets, the leading one above ``leading_ptmin``
    (GeV), and |Δη| < ``max_deta`` (None: no cut). The processor cuts with it and training
    selects its rows with it, so a model's working points mean the stated QCD efficiency after
    the processor's selection; the exported metadata records it."""

    leading_ptmin: float = 1200.0
    max_deta: float | None = 1.3

    def cuts(self, jets: ak.Array) -> dict[str, ak.Array]:
        """``{"two jets", "leading pT", "delta eta"}`` masks per event, in order."""
        leading_pt, deta = dijet_kinematics(jets)
        max_deta = np.inf if self.max_deta is None else self.max_deta
        return {
            "two jets": ~ak.is_none(leading_pt),
            "leading pT": ak.fill_none(leading_pt > self.leading_ptmin, False),
            "delta eta": ak.fill_none(deta < max_deta, False),
        }

    def passed(self, jets: ak.Array) -> ak.Array:
        """Events passing every cut."""
        first, *rest = self.cuts(jets).values()
        for mask in rest:
            first = first & mask
        return first

    def to_dict(self) -> dict:
        return asdict(self)


def dijet_mass(jets: ak.Array) -> ak.Array:
    """m_jj of the two leading jets (GeV), per event; None with fewer than two jets.

    Args:
        jets: ``events × jets`` with ``pt, eta, phi, mass`` (GeV), ordered by decreasing pT.
    """
    px, py, pz, energy = dijet_momentum(jets)
    mjj = invariant_mass(px, py, pz, energy)
    return ak.mask(mjj, ak.num(jets, axis=1) >= 2)


def dijet_momentum(jets: ak.Array) -> tuple[ak.Array, ...]:
    """``px, py, pz, E`` (float64, GeV) of the sum of the (up to) two leading jets."""
    p4 = four_momenta(jets[:, :2])
    return tuple(ak.sum(p4[c], axis=1) for c in ("px", "py", "pz", "E"))


def dijet_features(jets: ak.Array, constituents: ak.Array | None = None) -> ak.Array:
    """The mass-ordered dijet features of every event (one record per event, None if < 2 jets).

    Args:
        jets: ``events × jets`` with ``pt, eta, phi, mass`` (GeV), ordered by decreasing pT.
        constituents: ``events × jets × constituents`` aligned with ``jets``; None to use the
            jets' stored ``tau1``, ``tau2``, ``tau3``.
    """
    if is_dask(jets):
        import dask_awkward as dak

        return dak.map_partitions(dijet_features, jets, constituents)
    has_two = ak.num(jets, axis=1) >= 2
    if constituents is None:
        taus = stored_nsubjettiness(jets[:, :2])
    else:
        taus = nsubjettiness(constituents[:, :2], nmax=3)
    per_jet = {
        "mass": ak.values_astype(jets.mass, np.float64),
        "pt": jets.pt,
        "eta": jets.eta,
        "tau21": tau21(taus),
        "tau32": tau32(taus),
    }  # plain columns: ak.where on the full jet records would carry every branch along
    first, second = (
        {key: ak.firsts(values[:, k : k + 1]) for key, values in per_jet.items()} for k in (0, 1)
    )
    swap = first["mass"] < second["mass"]
    j1 = {key: ak.where(swap, second[key], first[key]) for key in first}
    j2 = {key: ak.where(swap, first[key], second[key]) for key in first}
    features = ak.zip(
        {
            "mj1": j1["mass"],
            "mj2": j2["mass"],
            "tau21_j1": j1["tau21"],
            "tau21_j2": j2["tau21"],
            "tau32_j1": j1["tau32"],
            "tau32_j2": j2["tau32"],
            "mjj": dijet_mass(jets),
            "deta": abs(j1["eta"] - j2["eta"]),
            "ptj1": j1["pt"],
            "ptj2": j2["pt"],
        }
    )
    return ak.mask(features, has_two)
