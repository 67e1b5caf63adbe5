"""The 21 ℓ+X event features of Cerri et al. (arXiv:1811.10276), columnar.

**Event selection.** At least one isolated electron or muon with pT > 23 GeV (muons
|η| < 2.4, electrons |η| < 2.5, ``pfRelIso03_all`` < 0.15). The leading one is *the lepton*.
Events without one get None.

**Objects.**

- selected leptons: electrons and muons in acceptance with pT > 10 GeV and
  ``pfRelIso03_all`` < 0.15; the lepton is the leading one above 23 GeV.
- jets: the file's AK4 ``Jet`` collection (anti-kT R = 0.4 of PF candidates in jetad's
  samples) with pT > 30 GeV, |η| < 2.6, the tight jet ID (``Jet_jetId`` bit 2; jetad's
  generator writes it with CMS's UL2018 criteria; a file without it is read with a warning
  and no ID) and ΔR > 0.4 from *every* selected lepton, so a Z → ℓℓ event's second lepton is
  not a jet. b jets pass the era's medium working point (:data:`BTAG_MEDIUM`; ``btag`` sets
  the era or any ``(branch, threshold)``; jetad's samples emulate UL2018, the default).
- muons, electrons: the collections' objects with pT > 5 GeV in acceptance.
- photons: PF photons (pdgId 22) with pT > 30 GeV, or the ``Photon`` collection when the file
  has no PF candidates; both without photons within ΔR < 0.4 of a selected lepton and, for
  ``Photon``, without those NanoAOD matches to an electron (``Photon_electronIdx`` ≥ 0):
  S_T counts every electron once.

**Features** (GeV where dimensionful):

=====================  =======================================================================
``lep_pt``             the lepton pT
``lep_iso_ch``         charged PF isolation, relative (``pfRelIso03_chg``)
``lep_iso_neu``        neutral-hadron PF isolation, relative (``pfRelIso03_neu``)
``lep_iso_pho``        photon PF isolation, relative (``pfRelIso03_pho``)
``lep_iso_neu_pho``    neutral-hadron plus photon isolation, ``pfRelIso03_all − pfRelIso03_chg``
                       (not one of the 21: the ``hlt18_nano`` set's isolation, which standard
                       NanoAOD gives exactly; in jetad's samples it equals neu + pho)
``lep_charge``         ±1
``lep_is_ele``         1 for an electron, 0 for a muon
``st``                 scalar pT sum of jets, and of leptons and photons above 30 GeV
``n_jets``, ``m_jets``  number and invariant mass of the jets
``n_b``                number of b jets
``met_parallel``       MET along the lepton
``met_perpendicular``  MET across the lepton (signed)
``mt``                 transverse mass of lepton and MET
``n_mu``, ``m_mu``     number and invariant mass of the muons
``pt_mu_tot``          |Σ p⃗T| of the muons
``n_ele``, ``m_ele``   the same for electrons
``pt_ele_tot``         |Σ p⃗T| of the electrons
``n_charged``          charged-hadron PF candidates (|pdgId| = 211)
``n_neutral``          neutral-hadron PF candidates (pdgId = 130)
=====================  =======================================================================

**NanoAOD without PF candidates.** ``lep_iso_neu`` and ``lep_iso_pho`` are NaN (standard
NanoAOD stores only ``pfRelIso03_all`` and ``_chg``; a feature never changes its meaning
between training and scoring): models for such files use ``hlt18_nano``, whose isolation is
``lep_iso_neu_pho`` on every file. The hadron counts are the sums of ``Jet_chMultiplicity``
and ``Jet_neMultiplicity`` over all jets where those branches exist, otherwise NaN.
"""

from __future__ import annotations

import warnings

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.kinematics import delta_r, four_momenta, invariant_mass, summed
from jetad.observables.met import met_decomposition, missing_et

__all__ = [
    "BTAG_MEDIUM",
    "DEFAULT_ERA",
    "FEATURES",
    "NANO_ISOLATION",
    "btag_working_point",
    "lepton_trigger_features",
]

FEATURES = (
    "lep_pt", "lep_iso_ch", "lep_iso_neu", "lep_iso_pho", "lep_charge", "lep_is_ele",
    "st", "n_jets", "m_jets", "n_b",
    "met_parallel", "met_perpendicular", "mt",
    "n_mu", "m_mu", "pt_mu_tot", "n_ele", "m_ele", "pt_ele_tot",
    "n_charged", "n_neutral",
)  # fmt: skip
#: The isolation that replaces ``lep_iso_neu`` and ``lep_iso_pho`` for standard NanoAOD.
NANO_ISOLATION = "lep_iso_neu_pho"

LEPTON_PTMIN, LEPTON_ISO, CLEANING_LEPTON_PTMIN = 23.0, 0.15, 10.0
JET_PTMIN, JET_ETA, CLEANING_DR = 30.0, 2.6, 0.4
SOFT_LEPTON_PTMIN, PHOTON_PTMIN = 5.0, 30.0
#: The tight bit of NanoAOD's ``Jet_jetId``.
JET_ID_TIGHT = 2
#: DeepJet (``btagDeepFlavB``) medium working points of CMS BTV's UL recommendations.
BTAG_MEDIUM = {"UL2016preVFP": 0.2598, "UL2016postVFP": 0.2489, "UL2017": 0.3040,
               "UL2018": 0.2783}  # fmt: skip
#: The era jetad's generated samples emulate (their b-tag model is tuned to its point).
DEFAULT_ERA = "UL2018"


def btag_working_point(btag: str | tuple[str, float]) -> tuple[str, float]:
    """``(branch, threshold)`` of an era name in :data:`BTAG_MEDIUM` or of an explicit pair."""
    if isinstance(btag, str):
        if btag not in BTAG_MEDIUM:
            raise ValueError(
                f"unknown b-tag era {btag!r}; valid: {', '.join(BTAG_MEDIUM)}, "
                "or a (branch, threshold) pair"
            )
        return "btagDeepFlavB", BTAG_MEDIUM[btag]
    branch, threshold = btag
    return str(branch), float(threshold)


def _f64(array):
    return ak.values_astype(array, np.float64)


def _mass_and_ptsum(objects: ak.Array) -> tuple[ak.Array, ak.Array]:
    px, py, pz, energy = summed(four_momenta(objects), axis=1)
    mass = invariant_mass(px, py, pz, energy)
    return mass, np.hypot(px, py)


def _isolation(lepton: ak.Array) -> dict[str, ak.Array]:
    nan = ak.full_like(lepton.pt, np.nan, dtype=np.float64)
    split = "pfRelIso03_neu" in lepton.fields and "pfRelIso03_pho" in lepton.fields
    return {
        "lep_iso_ch": lepton.pfRelIso03_chg,
        "lep_iso_neu": lepton.pfRelIso03_neu if split else nan,
        "lep_iso_pho": lepton.pfRelIso03_pho if split else nan,
    }


def _candidates(events: ak.Array) -> ak.Array | None:
    for name in ("PFCands", "PFCand"):
        if name in events.fields:
            return events[name]
    return None


def _hadron_counts(events: ak.Array, pf: ak.Array | None) -> dict[str, ak.Array]:
    if pf is not None:
        return {
            "n_charged": _f64(ak.sum(abs(pf.pdgId) == 211, axis=1)),
            "n_neutral": _f64(ak.sum(pf.pdgId == 130, axis=1)),
        }
    jets = events.Jet
    if {"chMultiplicity", "neMultiplicity"} <= set(jets.fields):
        return {
            "n_charged": _f64(ak.sum(jets.chMultiplicity, axis=1)),
            "n_neutral": _f64(ak.sum(jets.neMultiplicity, axis=1)),
        }
    nan = ak.full_like(_f64(events.MET.pt if "MET" in events.fields else events.event), np.nan)
    return {"n_charged": nan, "n_neutral": nan}


def _leptons(collection: ak.Array, eta_max: float, is_ele: int) -> ak.Array:
    fields = ["pt", "eta", "phi", "mass", "charge", "pfRelIso03_all", "pfRelIso03_chg"]
    fields += [f for f in ("pfRelIso03_neu", "pfRelIso03_pho") if f in collection.fields]
    record = {f: collection[f] for f in fields}
    record["is_ele"] = ak.full_like(collection.charge, is_ele)
    return ak.zip(record)[abs(collection.eta) < eta_max]


def _away_from(objects: ak.Array, leptons: ak.Array) -> ak.Array:
    """Per object: whether it lies ΔR > :data:`CLEANING_DR` from every one of ``leptons``."""
    pairs = ak.cartesian({"o": objects, "l": leptons}, axis=1, nested=True)
    dr = delta_r(pairs.o.eta, pairs.o.phi, pairs.l.eta, pairs.l.phi)
    return ak.all(dr > CLEANING_DR, axis=2)


def _jet_id(jets: ak.Array) -> ak.Array:
    if "jetId" in jets.fields:
        return (jets.jetId & JET_ID_TIGHT) != 0
    warnings.warn("the file has no Jet_jetId: ℓ+X jets are taken without a jet ID", stacklevel=3)
    return ak.ones_like(jets.pt, dtype=bool)


def _photons(events: ak.Array, pf: ak.Array | None, selected: ak.Array) -> ak.Array | None:
    """Photons above :data:`PHOTON_PTMIN`, without those that are selected leptons."""
    if pf is not None:
        photons = pf[(pf.pdgId == 22) & (pf.pt > PHOTON_PTMIN)]
    elif "Photon" in events.fields:
        photons = events.Photon[events.Photon.pt > PHOTON_PTMIN]
        if "electronIdx" in photons.fields:
            photons = photons[photons.electronIdx < 0]
    else:
        return None
    return photons[_away_from(photons, selected)]


def lepton_trigger_features(
    events: ak.Array, btag: str | tuple[str, float] = DEFAULT_ERA
) -> ak.Array:
    """The 21 ℓ+X features of every event, a record per event (None without a lepton).

    Works on jetad's PFNano-like files and on standard NanoAOD without PF candidates (see the
    module docstring for the objects and the NanoAOD fallback).

    Args:
        btag: the era of the b-tag working point (:data:`BTAG_MEDIUM`), or a
            ``(Jet branch, threshold)`` pair.
    """
    btag_branch, btag_threshold = btag_working_point(btag)
    if is_dask(events):
        import dask_awkward as dak

        return dak.map_partitions(lepton_trigger_features, events, btag=btag)
    pf = _candidates(events)
    muons = _leptons(events.Muon, 2.4, 0)
    electrons = _leptons(events.Electron, 2.5, 1)
    common = sorted(set(muons.fields) & set(electrons.fields))
    leptons = ak.concatenate([muons[common], electrons[common]], axis=1)
    isolated = leptons[leptons.pfRelIso03_all < LEPTON_ISO]
    selected = isolated[isolated.pt > CLEANING_LEPTON_PTMIN]
    candidates = isolated[isolated.pt > LEPTON_PTMIN]
    lepton = ak.firsts(candidates[ak.argsort(candidates.pt, axis=1, ascending=False)])

    jets = events.Jet
    if btag_branch not in jets.fields:
        raise ValueError(f"the b-tag branch Jet_{btag_branch} is not in the file")
    jets = jets[(jets.pt > JET_PTMIN) & (abs(jets.eta) < JET_ETA) & _jet_id(jets)]
    jets = jets[_away_from(jets, selected)]
    m_jets, _ = _mass_and_ptsum(jets)

    photons = _photons(events, pf, selected)
    if photons is None:
        photons = jets[:, :0]
    hard_leptons = leptons[leptons.pt > PHOTON_PTMIN]
    st = _f64(ak.sum(jets.pt, axis=1)) + _f64(ak.sum(hard_leptons.pt, axis=1))
    st = st + _f64(ak.sum(photons.pt, axis=1))

    soft_mu = muons[muons.pt > SOFT_LEPTON_PTMIN]
    soft_ele = electrons[electrons.pt > SOFT_LEPTON_PTMIN]
    m_mu, pt_mu = _mass_and_ptsum(soft_mu)
    m_ele, pt_ele = _mass_and_ptsum(soft_ele)
    met = met_decomposition(missing_et(events), lepton)

    features = {
        "lep_pt": _f64(lepton.pt),
        **{k: _f64(v) for k, v in _isolation(lepton).items()},
        "lep_charge": _f64(lepton.charge),
        "lep_is_ele": _f64(lepton.is_ele),
        "st": st,
        "n_jets": _f64(ak.num(jets, axis=1)),
        "m_jets": m_jets,
        "n_b": _f64(ak.sum(jets[btag_branch] > btag_threshold, axis=1)),
        "met_parallel": met.parallel,
        "met_perpendicular": met.perpendicular,
        "mt": met.mt,
        "n_mu": _f64(ak.num(soft_mu, axis=1)),
        "m_mu": m_mu,
        "pt_mu_tot": pt_mu,
        "n_ele": _f64(ak.num(soft_ele, axis=1)),
        "m_ele": m_ele,
        "pt_ele_tot": pt_ele,
        **_hadron_counts(events, pf),
        NANO_ISOLATION: _f64(lepton.pfRelIso03_all - lepton.pfRelIso03_chg),
    }
    return ak.mask(ak.zip(features), ~ak.is_none(lepton))
