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

from jetad._dask import is_dask, on_length_zero
from jetad.kinematics import cartesian, four_momenta, invariant_mass
from jetad.observables.nsubjettiness import nsubjettiness

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
    _require_stored_taus(jets)
    columns = [ak.values_astype(jets[n], np.float64)[..., np.newaxis] for n in _STORED_TAUS]
    return ak.concatenate(columns, axis=-1)


_STORED_TAUS = ("tau1", "tau2", "tau3")


def _require_stored_taus(jets: ak.Array) -> None:
    missing = [f"FatJet_{n}" for n in _STORED_TAUS if n not in jets.fields]
    if missing:
        raise ValueError(f"no constituents and no stored N-subjettiness: {', '.join(missing)}")


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
        max_deta = np.inf if self.max_deta is None else self.max_deta
        if not is_dask(jets) and ak.backend(jets) == "cpu":  # eager: numpy masks, same values
            has_two, pair = _leading_pair(jets)
            pt, eta = (_pair_columns(jets, pair, n) for n in ("pt", "eta"))
            passed = np.zeros((2, len(has_two)), dtype=bool)
            passed[0, has_two] = np.maximum(pt[:, 0], pt[:, 1]) > self.leading_ptmin
            passed[1, has_two] = abs(eta[:, 0] - eta[:, 1]) < max_deta
            return {"two jets": has_two, "leading pT": passed[0], "delta eta": passed[1]}
        leading_pt, deta = dijet_kinematics(jets)
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
    if ak.backend(jets) == "typetracer":  # the exact output form, nothing computed
        kinematics = ("pt", "eta", "phi", "mass")  # the columns read, for dask-awkward
        return on_length_zero(
            dijet_features,
            (jets, kinematics + (_STORED_TAUS if constituents is None else ())),
            (constituents, kinematics),
        )
    # The two leading jets of the events that have them, as (events, 2) numpy columns: the
    # features are a few numbers per event, and awkward's per-call cost on such small arrays
    # was most of this function's time outside τ_N (bench/pipeline.py)
    has_two, pair = _leading_pair(jets)

    if constituents is None:
        _require_stored_taus(jets)
        stored = [_pair_columns(jets, pair, n).astype(np.float64) for n in _STORED_TAUS]
        taus = np.stack(stored, axis=-1)
    else:
        taus = nsubjettiness(constituents[has_two][:, :2], nmax=3)
        taus = ak.to_numpy(ak.flatten(taus, axis=1)).reshape(len(pair), 2, 3)
    pt, eta, phi = (_pair_columns(jets, pair, n) for n in ("pt", "eta", "phi"))
    mass = _pair_columns(jets, pair, "mass").astype(np.float64)
    tau21_pair, tau32_pair = _ratio(taus[..., 1], taus[..., 0]), _ratio(taus[..., 2], taus[..., 1])
    heavier = np.where(mass[:, 0] < mass[:, 1], 1, 0)  # j1 is the heavier jet
    rows = np.arange(len(pair))

    def j1_j2(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values[rows, heavier], values[rows, 1 - heavier]

    pt64, eta64, phi64 = (a.astype(np.float64) for a in (pt, eta, phi))
    px, py, pz, energy = cartesian(pt64, eta64, phi64, mass)
    summed = (c[:, 0] + c[:, 1] for c in (px, py, pz, energy))  # as ak.sum over the two
    (mj1, mj2), (eta1, eta2), (ptj1, ptj2) = j1_j2(mass), j1_j2(eta), j1_j2(pt)
    (tau21_j1, tau21_j2), (tau32_j1, tau32_j2) = j1_j2(tau21_pair), j1_j2(tau32_pair)
    features = ak.zip(
        {
            "mj1": mj1,
            "mj2": mj2,
            "tau21_j1": tau21_j1,
            "tau21_j2": tau21_j2,
            "tau32_j1": tau32_j1,
            "tau32_j2": tau32_j2,
            "mjj": invariant_mass(*summed),
            "deta": abs(eta1 - eta2),
            "ptj1": ptj1,
            "ptj2": ptj2,
        }
    )
    index = np.where(has_two, np.cumsum(has_two) - 1, -1)
    return ak.Array(ak.contents.IndexedOptionArray(ak.index.Index64(index), features.layout))


def _leading_pair(jets: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which events have two jets, and where those events' two leading jets sit among all
    jets flattened, an (events, 2) index (numpy, no awkward slicing: half the time)."""
    counts = ak.to_numpy(ak.num(jets, axis=1))
    has_two = counts >= 2
    first = (np.cumsum(counts) - counts)[has_two]
    return has_two, np.stack([first, first + 1], axis=1)


def _pair_columns(jets: ak.Array, pair: np.ndarray, field: str) -> np.ndarray:
    """``jets[field]`` of the two leading jets of :func:`_leading_pair`, (events, 2) numpy."""
    return ak.to_numpy(ak.flatten(jets[field], axis=1))[pair]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (as :func:`tau21`)."""
    positive = denominator > 0
    return np.where(positive, numerator / np.where(positive, denominator, 1), np.nan)
