"""The 21 ℓ+X event features of Cerri et al. (arXiv:1811.10276), columnar.

**Event selection.** At least one isolated electron or muon with pT > 23 GeV (muons
|η| < 2.4, electrons |η| < 2.5, ``pfRelIso03_all`` < 0.15). The leading one is *the lepton*.
Events without one get None.

**Objects.**

- jets: the file's AK4 ``Jet`` collection (anti-kT R = 0.4 of PF candidates in jetad's
  samples) with pT > 30 GeV, |η| < 2.6 and ΔR > 0.4 from the lepton; b jets have
  ``btagDeepFlavB`` > 0.2783 (DeepJet medium).
- muons, electrons: the collections' objects with pT > 5 GeV in acceptance.
- photons: PF photons (pdgId 22) with pT > 30 GeV, or the ``Photon`` collection when the file
  has no PF candidates.

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

import awkward as ak
import numpy as np

from jetad._dask import is_dask
from jetad.clustering import four_momenta
from jetad.kinematics import delta_r
from jetad.observables.met import met_decomposition, missing_et

__all__ = ["FEATURES", "NANO_ISOLATION", "lepton_trigger_features"]

FEATURES = (
    "lep_pt", "lep_iso_ch", "lep_iso_neu", "lep_iso_pho", "lep_charge", "lep_is_ele",
    "st", "n_jets", "m_jets", "n_b",
    "met_parallel", "met_perpendicular", "mt",
    "n_mu", "m_mu", "pt_mu_tot", "n_ele", "m_ele", "pt_ele_tot",
    "n_charged", "n_neutral",
)  # fmt: skip
#: The isolation that replaces ``lep_iso_neu`` and ``lep_iso_pho`` for standard NanoAOD.
NANO_ISOLATION = "lep_iso_neu_pho"

LEPTON_PTMIN, LEPTON_ISO = 23.0, 0.15
JET_PTMIN, JET_ETA, BTAG_MEDIUM = 30.0, 2.6, 0.2783
SOFT_LEPTON_PTMIN, PHOTON_PTMIN = 5.0, 30.0


def _f64(array):
    return ak.values_astype(array, np.float64)


def _mass_and_ptsum(objects: ak.Array) -> tuple[ak.Array, ak.Array]:
    p4 = four_momenta(objects)
    px, py, pz, energy = (ak.sum(p4[c], axis=1) for c in ("px", "py", "pz", "E"))
    mass = np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))
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


def lepton_trigger_features(events: ak.Array) -> ak.Array:
    """The 21 ℓ+X features of every event, a record per event (None without a lepton).

    Works on jetad's PFNano-like files and on standard NanoAOD without PF candidates (see the
    module docstring for the fallback).
    """
    if is_dask(events):
        import dask_awkward as dak

        return dak.map_partitions(lepton_trigger_features, events)
    pf = _candidates(events)
    muons = _leptons(events.Muon, 2.4, 0)
    electrons = _leptons(events.Electron, 2.5, 1)
    common = sorted(set(muons.fields) & set(electrons.fields))
    leptons = ak.concatenate([muons[common], electrons[common]], axis=1)
    isolated = leptons[(leptons.pt > LEPTON_PTMIN) & (leptons.pfRelIso03_all < LEPTON_ISO)]
    lepton = ak.firsts(isolated[ak.argsort(isolated.pt, axis=1, ascending=False)])

    jets = events.Jet
    away = ak.fill_none(delta_r(jets.eta, jets.phi, lepton.eta, lepton.phi) > 0.4, True)
    jets = jets[(jets.pt > JET_PTMIN) & (abs(jets.eta) < JET_ETA) & away]
    m_jets, _ = _mass_and_ptsum(jets)

    if pf is not None:
        photons = pf[(pf.pdgId == 22) & (pf.pt > PHOTON_PTMIN)]
    elif "Photon" in events.fields:
        photons = events.Photon[events.Photon.pt > PHOTON_PTMIN]
    else:
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
        "n_b": _f64(ak.sum(jets.btagDeepFlavB > BTAG_MEDIUM, axis=1)),
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
