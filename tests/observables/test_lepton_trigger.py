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
