"""The committed fixtures: coffea reads them, the links are right, and the physics is sane."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from conftest import FIXTURE_FILESET, FIXTURES, PROCESSES, load_events
from jetad.datasets import load_fileset


@pytest.mark.parametrize("process", PROCESSES)
def test_pfnanoaod_schema_reads_every_process(process):
    events = load_events(FIXTURES / f"{process}.root")
    assert len(events) == 200
    for collection in ("PFCands", "FatJet", "Jet", "Muon", "Electron", "MET", "Truth"):
        assert collection in events.fields
    pf = events.FatJet.constituents.pf
    assert ak.all(ak.num(pf, axis=2) == events.FatJet.nConstituents)
    assert set(ak.fields(events.PFCands)) >= {"pt", "eta", "phi", "mass", "charge", "pdgId"}


@pytest.mark.parametrize("process", PROCESSES)
def test_virtual_arrays_read_constituents(process):
    events = load_events(FIXTURES / f"{process}.root", mode="virtual")
    eager = load_events(FIXTURES / f"{process}.root")
    assert ak.array_equal(events.FatJet.constituents.pf.pt, eager.FatJet.constituents.pf.pt)


@pytest.mark.parametrize("process", ["qcd_dijet", "wprime_xy", "svj", "ttbar"])
def test_constituent_sum_reproduces_fatjet(process):
    events = load_events(FIXTURES / f"{process}.root")
    pf = events.FatJet.constituents.pf
    pt, eta, phi, mass = (ak.values_astype(pf[f], np.float64) for f in ("pt", "eta", "phi", "mass"))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    sx, sy, sz, se = (ak.flatten(ak.sum(c, axis=2)) for c in (px, py, pz, e))
    jet_pt = np.hypot(sx, sy)
    jet_mass = np.sqrt(np.maximum(se**2 - sx**2 - sy**2 - sz**2, 0))
    fatjet = ak.flatten(events.FatJet)
    assert len(fatjet) > 100
    np.testing.assert_allclose(jet_pt, fatjet.pt, rtol=2e-7)
    # float32 rounding of the stored mass, plus the E² − p² cancellation of the float64 sum
    np.testing.assert_allclose(jet_mass, fatjet.mass, rtol=2e-6, atol=1e-4)


def test_fatjet_links_are_contiguous_and_ordered():
    with uproot.open(FIXTURES / "qcd_dijet.root") as file:
        arrays = file["Events"].arrays(["FatJetPFCands_jetIdx", "FatJet_nConstituents"])
    jet_idx = arrays.FatJetPFCands_jetIdx
    assert ak.all(jet_idx[:, 1:] >= jet_idx[:, :-1])
    counts = ak.run_lengths(jet_idx)
    assert ak.all(counts == arrays.FatJet_nConstituents[arrays.FatJet_nConstituents > 0])


def test_fileset_metadata_and_runs_tree():
    fileset = load_fileset(FIXTURE_FILESET)
    assert set(fileset) == set(PROCESSES)
    for name, entry in fileset.items():
        meta = entry["metadata"]
        assert meta["process"] == name and meta["xsec"] > 0 and meta["nevents"] == 200
        (path,) = entry["files"]
        with uproot.open(path) as file:
            runs = file["Runs"].arrays()
            labels = file["Events"]["Truth_label"].array()
        assert runs.genEventCount[0] == 200
        assert runs.crossSection[0] == pytest.approx(meta["xsec"])
        assert ak.all(labels == meta["label"])


def _two_leading(fatjets):
    return fatjets[ak.num(fatjets) >= 2][:, :2]


def test_wprime_dijet_mass_and_jet_masses(fixture_events):
    jets = _two_leading(fixture_events["wprime_xy"].FatJet)
    mjj = (jets[:, 0] + jets[:, 1]).mass
    heavy = np.maximum(jets[:, 0].mass, jets[:, 1].mass)
    light = np.minimum(jets[:, 0].mass, jets[:, 1].mass)
    counts, edges = np.histogram(mjj, bins=np.arange(1000, 5001, 250))
    assert 3250 <= edges[np.argmax(counts)] < 3750
    assert 420 < np.median(heavy[heavy > 300]) < 540
    assert 80 < np.median(light[(light > 50) & (light < 200)]) < 130
    assert np.mean(np.abs(heavy - 500) < 75) > 0.35
    assert np.mean(np.abs(light - 100) < 30) > 0.35


def test_svj_missing_momentum_aligns_with_a_leading_jet(fixture_events):
    events = fixture_events["svj"]
    has_two = ak.num(events.FatJet) >= 2
    jets = _two_leading(events.FatJet)
    met = events.MET[has_two]
    dphi = ak.min(np.abs(jets.delta_phi(met)), axis=1)
    # isotropic MET would give a median min-Δφ of about π/4 for back-to-back jets
    assert np.median(dphi) < 0.4
    assert np.median(met.pt) > 80
    qcd = fixture_events["qcd_dijet"].MET.pt
    assert np.median(met.pt) > 2 * np.median(qcd)


def test_ttbar_has_btagged_ak4_jets(fixture_events):
    jets = fixture_events["ttbar"].Jet
    central = jets[(jets.pt > 30) & (np.abs(jets.eta) < 2.5)]
    nb = ak.sum(central.btagDeepFlavB > 0.2783, axis=1)
    assert np.mean(nb >= 1) > 0.75
    assert np.mean(nb >= 2) > 0.25
    qcd = fixture_events["wjets"].Jet
    light = qcd[(qcd.hadronFlavour == 0) & (qcd.pt > 30)]
    assert np.mean(ak.flatten(light.btagDeepFlavB) > 0.2783) < 0.05


def test_wjets_isolated_lepton_and_transverse_mass(fixture_events):
    events = fixture_events["wjets"]
    fields = ["pt", "phi", "pfRelIso03_all"]
    leptons = ak.concatenate([events.Muon[fields], events.Electron[fields]], axis=1)
    leptons = leptons[(leptons.pt > 25) & (leptons.pfRelIso03_all < 0.15)]
    has = ak.num(leptons) >= 1
    assert np.mean(has) > 0.4
    lepton = ak.firsts(leptons[has][ak.argsort(leptons[has].pt, ascending=False)])
    met = events.MET[has]
    mt = np.sqrt(2 * lepton.pt * met.pt * (1 - np.cos(lepton.phi - met.phi)))
    assert 55 < np.median(mt) < 85
    counts, edges = np.histogram(mt, bins=np.arange(0, 161, 20))
    assert edges[np.argmax(counts)] in (60, 80)


@pytest.mark.slow
def test_generate_many_shares_a_pool_and_writes_the_same_files(tmp_path):
    from jetad.generate import generate, generate_many

    requests = [
        {"process": "zjets", "n_events": 30, "seed": 5, "output": tmp_path / "z.root",
         "block_size": 10},
        {"process": "wjets", "n_events": 20, "seed": 6, "output": tmp_path / "w.root",
         "block_size": 10},
    ]  # fmt: skip
    finished = []
    summaries = generate_many(requests, jobs=2, done=lambda s: finished.append(s.process))
    assert [s.process for s in summaries] == ["zjets", "wjets"]
    assert sorted(finished) == ["wjets", "zjets"]
    alone = generate(**{**requests[0], "output": tmp_path / "z_alone.root"})
    with uproot.open(tmp_path / "z.root") as a, uproot.open(alone.output) as b:
        for branch in ("event", "PFCands_pt", "FatJet_pt", "MET_pt"):
            assert ak.all(ak.ravel(a["Events"][branch].array() == b["Events"][branch].array()))
