"""The 21 ℓ+X features on generated W+jets and tt̄, and their NanoAOD fallback."""

from __future__ import annotations

import awkward as ak
import numpy as np

from conftest import load_events
from jetad.observables import lepton_trigger_features
from jetad.observables.lepton_trigger import FEATURES, NANO_ISOLATION


def test_features_on_wjets(fixture_events):
    events = fixture_events["wjets"]
    features = lepton_trigger_features(events)
    assert tuple(ak.fields(features)) == (*FEATURES, NANO_ISOLATION) and len(FEATURES) == 21
    selected = ak.drop_none(features)
    assert 0.3 < len(selected) / len(events) < 0.8
    assert ak.all(selected.lep_pt > 23) and ak.all(np.abs(selected.lep_charge) == 1)
    assert 55 < np.median(selected.mt) < 85
    assert ak.all(selected.n_mu + selected.n_ele >= 1)
    assert ak.all(selected.st >= ak.where(selected.lep_pt > 30, selected.lep_pt, 0) - 1e-9)
    met = events.MET[~ak.is_none(features)]
    np.testing.assert_allclose(
        np.hypot(selected.met_parallel, selected.met_perpendicular), met.pt, rtol=1e-6
    )
    events_ttbar = fixture_events["ttbar"]
    ttbar = ak.drop_none(lepton_trigger_features(events_ttbar))
    assert np.median(ttbar.n_jets) >= 3 and np.mean(ttbar.n_b >= 1) > 0.6
    assert np.median(ttbar.n_charged) > np.median(selected.n_charged)


def test_isolation_components_sum_to_total(fixture_events):
    events = fixture_events["ttbar"]
    muons = events.Muon
    total = muons.pfRelIso03_chg + muons.pfRelIso03_neu + muons.pfRelIso03_pho
    assert ak.all(np.abs(total - muons.pfRelIso03_all) < 1e-5 * (1 + muons.pfRelIso03_all))


def test_nanoaod_without_pf_candidates(realdata):
    events = load_events(realdata / "nano_dy.root")
    features = ak.drop_none(lepton_trigger_features(events))
    assert len(features) > 5
    assert ak.all(np.isnan(features.lep_iso_pho)) and ak.all(np.isnan(features.lep_iso_neu))
    assert ak.all(features.lep_iso_neu_pho >= -1e-6)
    assert not ak.any(np.isnan(features.mt))


def test_nanoaod_isolation_means_the_same_on_every_file(fixture_events):
    """``lep_iso_neu_pho`` (all − charged) is neutral hadrons plus photons in jetad's samples,
    as it is in standard NanoAOD: the hlt18_nano set means the same thing in training on
    generated files and in scoring real ones."""
    features = ak.drop_none(lepton_trigger_features(fixture_events["wjets"]))
    np.testing.assert_allclose(
        features.lep_iso_neu_pho, features.lep_iso_neu + features.lep_iso_pho, atol=1e-5
    )


def _reference_jets_and_st(events, has_pf: bool):
    """Brute force, event by event: the jets and S_T of the documented object definitions."""
    import math

    def dr(a, b):
        dphi = (a["phi"] - b["phi"] + math.pi) % (2 * math.pi) - math.pi
        return math.hypot(a["eta"] - b["eta"], dphi)

    rows = []
    for event in ak.to_list(events[["Muon", "Electron", "Jet", "Photon" if not has_pf else
                                    "PFCands"]]):  # fmt: skip
        leptons = [dict(m, eta_max=2.4) for m in event["Muon"]]
        leptons += [dict(e, eta_max=2.5) for e in event["Electron"]]
        leptons = [x for x in leptons if abs(x["eta"]) < x["eta_max"]]
        selected = [x for x in leptons if x["pfRelIso03_all"] < 0.15 and x["pt"] > 10]
        jets = [j for j in event["Jet"] if j["pt"] > 30 and abs(j["eta"]) < 2.6
                and j["jetId"] & 2 and all(dr(j, x) > 0.4 for x in selected)]  # fmt: skip
        if has_pf:
            photons = [p for p in event["PFCands"] if p["pdgId"] == 22 and p["pt"] > 30]
        else:
            photons = [p for p in event["Photon"] if p["pt"] > 30 and p["electronIdx"] < 0]
        photons = [p for p in photons if all(dr(p, x) > 0.4 for x in selected)]
        st = sum(j["pt"] for j in jets) + sum(x["pt"] for x in leptons if x["pt"] > 30)
        rows.append((len(jets), st + sum(p["pt"] for p in photons)))
    return rows


def test_jets_and_st_match_a_brute_force_reference_on_zjets(fixture_events):
    """Jets cleaned against every selected lepton (a Z's second lepton is not a jet), tight
    jet ID, photons that are not leptons: n_jets and S_T equal a per-event reference."""
    events = fixture_events["zjets"]
    features = lepton_trigger_features(events)
    keep = ~ak.is_none(features)
    reference = _reference_jets_and_st(events[keep], has_pf=True)
    assert ak.to_list(ak.drop_none(features).n_jets) == [float(n) for n, _ in reference]
    np.testing.assert_allclose(ak.drop_none(features).st, [s for _, s in reference], rtol=1e-5)


def test_st_counts_each_electron_once_on_real_drell_yan(realdata):
    events = load_events(realdata / "nano_dy.root")
    features = lepton_trigger_features(events)
    keep = ~ak.is_none(features)
    reference = _reference_jets_and_st(events[keep], has_pf=False)
    assert ak.to_list(ak.drop_none(features).n_jets) == [float(n) for n, _ in reference]
    np.testing.assert_allclose(ak.drop_none(features).st, [s for _, s in reference], rtol=1e-5)
    matched = events.Photon[(events.Photon.pt > 30) & (events.Photon.electronIdx >= 0)]
    assert ak.sum(ak.num(matched)) > 0  # the file has photons that are electrons


def test_btag_working_point_by_era(fixture_events):
    from jetad.observables.lepton_trigger import btag_working_point

    events = fixture_events["ttbar"]
    loose = ak.drop_none(lepton_trigger_features(events, btag=("btagDeepFlavB", 0.05)))
    medium = ak.drop_none(lepton_trigger_features(events))
    assert ak.all(loose.n_b >= medium.n_b) and ak.sum(loose.n_b) > ak.sum(medium.n_b)
    assert btag_working_point("UL2017") == ("btagDeepFlavB", 0.3040)
    import pytest

    with pytest.raises(ValueError, match="unknown b-tag era '2031'"):
        lepton_trigger_features(events, btag="2031")
    with pytest.raises(ValueError, match="Jet_btagPNetB is not in the file"):
        lepton_trigger_features(events, btag=("btagPNetB", 0.2))


def test_hadron_counts_use_the_whole_nanoaod_v15_candidate_collection(tmp_path):
    """In NanoAOD v15 naming (``PFCand``) the hadron counts are taken over every stored
    candidate, not only the fat-jet constituents."""
    from conftest import FIXTURES
    from test_constituents import _collections, _write

    flat, group = _collections(FIXTURES / "ttbar.root")
    links = group("FatJetPFCands")
    branches = {
        **flat,
        "PFCand": group("PFCands"),
        "FatJet": group("FatJet"),
        "FatJetPFCand": ak.zip({"jetIdx": links.jetIdx, "pfCandIdx": links.pFCandsIdx}),
        "Jet": group("Jet"),
        "Muon": group("Muon"),
        "Electron": group("Electron"),
        "MET_pt": group("MET").pt,
        "MET_phi": group("MET").phi,
    }
    events = load_events(_write(tmp_path / "v15.root", branches))
    features = lepton_trigger_features(events)
    keep = ~ak.is_none(features)
    expected = ak.sum(abs(events.PFCand.pdgId[keep]) == 211, axis=1)
    in_fat_jets = ak.num(events.FatJetPFCand[keep])
    assert ak.all(ak.drop_none(features).n_charged == expected)
    assert ak.any(expected > in_fat_jets)
