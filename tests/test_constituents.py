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


def _by_links(candidate_pt, jet_index, candidate_index, n_jets):
    """The brute-force reference: each jet's candidate pt in link order, event by event."""
    return [
        [
            [float(candidate_pt[e][c]) for j2, c in zip(jet_index[e], candidate_index[e],
                                                        strict=True) if j2 == j]
            for j in range(n_jets[e])
        ]
        for e in range(len(n_jets))
    ]


def test_jets_losing_their_links_stay_aligned_jet_by_jet(tmp_path):
    """Links dropped for the first, a middle and the last jet of events and across event
    boundaries (NanoAOD v15 keeps no candidates for some AK8 jets): every event keeps exactly
    its FatJet count, and every jet its own candidates."""
    flat, group = _collections(FIXTURES / "wprime_xy.root")
    links, jets = group("FatJetPFCands"), group("FatJet")
    n_jets = ak.num(jets)
    event = ak.local_index(n_jets)
    last = n_jets[:, np.newaxis] - 1
    pattern = event[:, np.newaxis] % 4
    dropped = (
        ((pattern == 0) & (links.jetIdx == 0))  # first jet
        | ((pattern == 1) & (links.jetIdx == last))  # last jet: a zero at the event boundary
        | ((pattern == 2) & (links.jetIdx == 1) & (last > 1))  # a middle jet
        | ((pattern == 3) & ((links.jetIdx == 0) | (links.jetIdx == last)))  # both ends
    )
    keep = ~dropped
    path = _write(
        tmp_path / "holes.root",
        {
            **flat,
            "PFCand": group("PFCands"),
            "FatJet": jets,
            "FatJetPFCand": ak.zip(
                {"jetIdx": links.jetIdx[keep], "pfCandIdx": links.pFCandsIdx[keep]}
            ),
            "PFMET_pt": group("MET").pt,
            "PFMET_phi": group("MET").phi,
        },
    )
    events = load_events(path)
    assert find_layout(events).name == "NanoAOD v15"
    ours = fatjet_constituents(events)
    assert ak.all(ak.num(ours, axis=1) == ak.num(events.FatJet))
    expected = _by_links(events.PFCand.pt, events.FatJetPFCand.jetIdx,
                         events.FatJetPFCand.pfCandIdx, ak.to_list(ak.num(events.FatJet)))
    assert ak.to_list(ours.pt) == expected
    assert ak.sum(ak.num(ours, axis=2) == 0) >= len(events)  # the holes are there


def test_recluster_nests_per_event():
    from jetad.constituents import nest_by_jet

    rows = ak.Array([[1, 2], [], [3]])
    assert nest_by_jet(rows, ak.Array([[1, 1], [0], [0, 1]])).tolist() == [
        [[1], [2]], [[]], [[], [3]]
    ]


hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")


@st.composite
def _link_tables(draw):
    """Events with 0–4 jets, 0–6 candidates and any subset of (jet, candidate) links."""
    events = []
    for _ in range(draw(st.integers(1, 6))):
        n_jets, n_candidates = draw(st.integers(0, 4)), draw(st.integers(0, 6))
        pairs = [(j, c) for j in range(n_jets) for c in range(n_candidates)]
        links = draw(st.lists(st.sampled_from(pairs), unique=True) if pairs else st.just([]))
        links = draw(st.permutations(links))
        events.append((n_jets, n_candidates, links))
    return events


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(_link_tables())
def test_property_every_jet_gets_exactly_its_linked_candidates(table):
    n_jets = [n for n, _, _ in table]
    candidate_pt = [[10.0 * e + c + 1 for c in range(m)] for e, (_, m, _) in enumerate(table)]
    jet_index = [[j for j, _ in links] for _, _, links in table]
    candidate_index = [[c for _, c in links] for _, _, links in table]
    def jagged(lists, dtype):
        return ak.values_astype(ak.Array([list(x) for x in lists] + [[0]])[:-1], dtype)

    pt = jagged(candidate_pt, np.float64)
    events = ak.zip(
        {
            "FatJet": ak.zip({"pt": jagged([[1.0] * n for n in n_jets], np.float64)}),
            "PFCands": ak.zip({"pt": pt, "eta": 0 * pt, "phi": 0 * pt, "mass": 0 * pt}),
            "FatJetPFCands": ak.zip({"jetIdx": jagged(jet_index, np.int64),
                                     "pFCandsIdx": jagged(candidate_index, np.int64)}),
        },
        depth_limit=1,
    )
    ours = fatjet_constituents(events, puppi=False)
    assert ak.to_list(ak.num(ours, axis=1)) == n_jets
    assert ak.to_list(ours.pt) == _by_links(candidate_pt, jet_index, candidate_index, n_jets)
