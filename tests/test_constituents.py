"""jetad.constituents on every layout: PFNano, old PFNano, NanoAOD v15, PUPPI, missing jets."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from conftest import FIXTURES, load_events
from jetad.constituents import fatjet_constituents, find_layout, recluster


def _write(path, branches):
    with uproot.recreate(path) as file:
        file.mktree("Events", {k: ak.type(v).content for k, v in branches.items()})
        file["Events"].extend(branches)
    return path


def _collections(path):
    with uproot.open(path) as file:
        arrays = file["Events"].arrays()

    def group(prefix):
        return ak.zip(
            {f[len(prefix) + 1 :]: arrays[f] for f in arrays.fields if f.startswith(prefix + "_")}
        )

    flat = {k: arrays[k] for k in ("run", "luminosityBlock", "event")}
    return flat, group


def _equal(a, b) -> bool:
    """Same nested values, ignoring option types (coffea's links are optional)."""
    return ak.array_equal(
        ak.fill_none(a, np.nan), ak.fill_none(b, np.nan), check_parameters=False, dtype_exact=False
    )


@pytest.fixture(scope="module")
def qcd():
    return load_events(FIXTURES / "qcd_dijet.root")


def test_equals_coffea_links_eagerly_and_virtually(qcd):
    ours = fatjet_constituents(qcd)
    assert _equal(ours.pt, qcd.FatJet.constituents.pf.pt)
    virtual = load_events(FIXTURES / "qcd_dijet.root", mode="virtual")
    assert _equal(fatjet_constituents(virtual).eta, ours.eta)
    assert find_layout(qcd).name == "PFNano"
    summed = ak.sum(ours, axis=2)
    np.testing.assert_allclose(ak.flatten(summed.pt), ak.flatten(qcd.FatJet.pt), rtol=1e-5)


def test_nanoaod_v15_naming_and_missing_candidates(tmp_path):
    flat, group = _collections(FIXTURES / "wprime_xy.root")
    links = group("FatJetPFCands")
    keep = links.jetIdx != 1  # drop the stored candidates of every second jet
    path = _write(
        tmp_path / "v15.root",
        {
            **flat,
            "PFCand": group("PFCands"),
            "FatJet": group("FatJet"),
            "FatJetPFCand": ak.zip(
                {"jetIdx": links.jetIdx[keep], "pfCandIdx": links.pFCandsIdx[keep]}
            ),
            "PFMET_pt": group("MET").pt,
            "PFMET_phi": group("MET").phi,
        },
    )
    events = load_events(path)
    reference = load_events(FIXTURES / "wprime_xy.root").FatJet.constituents.pf
    ours = fatjet_constituents(events)
    assert find_layout(events).name == "NanoAOD v15"
    counts = ak.num(ours, axis=2)
    assert ak.all(counts[:, 1:2] == 0) and ak.all(events.FatJet.nConstituents[:, 1:2] > 0)
    assert _equal(ours.pt[:, :1], reference.pt[:, :1])
    assert _equal(ours.pt[:, 2:], reference.pt[:, 2:])
    from jetad.observables import nsubjettiness

    taus = nsubjettiness(ours)
    assert ak.all(np.isnan(taus[:, 1:2, 0])) and not ak.any(np.isnan(taus[:, :1, 0]))


def test_puppi_weights_scale_four_momenta(tmp_path):
    flat, group = _collections(FIXTURES / "svj.root")
    pf = group("PFCands")
    weight = ak.where(pf.charge == 0, 0.5, 1.0)
    pf = ak.zip(
        {**{f: pf[f] for f in pf.fields}, "puppiWeight": ak.values_astype(weight, np.float32)}
    )
    path = _write(
        tmp_path / "puppi.root",
        {**flat, "PFCands": pf, "FatJet": group("FatJet"), "FatJetPFCands": group("FatJetPFCands")},
    )
    events = load_events(path)
    weighted, raw = fatjet_constituents(events), fatjet_constituents(events, puppi=False)
    expected = raw.pt * ak.where(raw.charge == 0, 0.5, 1.0)
    assert ak.all(np.abs(weighted.pt - expected) <= 1e-6 * expected)
    assert ak.all(weighted.mass <= raw.mass)
    with pytest.raises(ValueError, match="PFCands_puppiWeight is not in the file"):
        fatjet_constituents(load_events(FIXTURES / "svj.root"), puppi=True)


def test_old_pfnano_without_nconstituents(realdata):
    events = load_events(realdata / "pfnano.root")
    assert "nConstituents" not in events.FatJet.fields
    with pytest.raises(RuntimeError):
        events.FatJet.constituents  # noqa: B018  (coffea cannot build them here)
    constituents = fatjet_constituents(events)
    assert ak.all(ak.num(constituents, axis=1) == ak.num(events.FatJet))
    assert ak.sum(ak.num(constituents, axis=2)) == ak.sum(ak.num(events.FatJetPFCands))


def test_recluster_reproduces_the_stored_fatjets(qcd):
    jets, constituents = recluster(qcd, radius=1.0, ptmin=170.0)
    assert _equal(jets.pt, qcd.FatJet.pt)
    assert _equal(constituents.pt, qcd.FatJet.constituents.pf.pt)
    with pytest.raises(ValueError, match="unknown algorithm 'siscone'"):
        recluster(qcd, algorithm="siscone")


def test_clear_errors_without_candidates(realdata):
    events = load_events(realdata / "nano_dy.root")
    with pytest.raises(ValueError, match="no jet constituents in these events; looked for PFNano"):
        fatjet_constituents(events)
    with pytest.raises(ValueError, match="no PF candidates to recluster"):
        recluster(events)
