"""MET decomposition: analytic cases, broadcasting, and the MET/PFMET naming."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.observables import met_decomposition, missing_et


def test_analytic_cases():
    met = ak.zip({"pt": [50.0, 50.0, 40.0], "phi": [0.3, 0.3 + np.pi / 2, 3.0]})
    lepton = ak.zip({"pt": [30.0, 30.0, 40.0], "phi": [0.3, 0.3, -3.0]})
    out = met_decomposition(met, lepton)
    np.testing.assert_allclose(out.parallel, [50.0, 0.0, 40 * np.cos(6.0 - 2 * np.pi)], atol=1e-12)
    np.testing.assert_allclose(
        out.perpendicular, [0.0, 50.0, 40 * np.sin(6.0 - 2 * np.pi)], atol=1e-12
    )
    np.testing.assert_allclose(out.dphi, [0.0, np.pi / 2, 6.0 - 2 * np.pi], atol=1e-12)
    assert out.mt[0] == 0
    assert out.mt[1] == pytest.approx(np.sqrt(2 * 30 * 50))


def test_back_to_back_w_gives_mt_of_twice_pt():
    out = met_decomposition(
        ak.zip({"pt": [40.0], "phi": [np.pi]}), ak.zip({"pt": [40.0], "phi": [0.0]})
    )
    assert out.mt[0] == pytest.approx(80.0)
    assert out.dphi[0] == pytest.approx(np.pi)


def test_broadcasts_over_jets_and_reads_pfmet(fixture_events):
    events = fixture_events["svj"]
    out = met_decomposition(missing_et(events), events.FatJet)
    assert ak.all(ak.num(out) == ak.num(events.FatJet))
    v15 = ak.zip({"PFMET": events.MET, "FatJet": events.FatJet}, depth_limit=1)
    assert ak.all(missing_et(v15).pt == events.MET.pt)
    with pytest.raises(ValueError, match="looked for PFMET and MET"):
        missing_et(ak.zip({"Jet": events.Jet}, depth_limit=1))


def test_dijet_met_mt_against_vector_and_analytic_cases(fixture_events):
    import vector

    from jetad.observables import dijet_met_mt

    events = fixture_events["svj"]
    jets, met = events.FatJet, missing_et(events)
    mt = dijet_met_mt(jets, met)
    two = ak.num(jets) >= 2
    assert ak.all(ak.is_none(mt) == ~two) and ak.sum(two) > 50
    lead = jets[two][:, :2]
    j1, j2 = (
        vector.array({k: ak.to_numpy(lead[:, i][k]).astype(np.float64)
                      for k in ("pt", "eta", "phi", "mass")})
        for i in (0, 1)
    )  # fmt: skip
    jj = j1 + j2
    met_v = vector.array({"pt": ak.to_numpy(met.pt[two]).astype(np.float64),
                          "phi": ak.to_numpy(met.phi[two]).astype(np.float64)})  # fmt: skip
    et = np.sqrt(jj.mass**2 + jj.pt**2)
    reference = np.sqrt((et + met_v.pt) ** 2 - (jj.px + met_v.px) ** 2 - (jj.py + met_v.py) ** 2)
    np.testing.assert_allclose(ak.to_numpy(mt[two]), reference, rtol=1e-9)
    assert ak.all(mt[two] >= ak.to_numpy(jj.mass) - 1e-6)

    no_met = ak.zip({"pt": ak.zeros_like(met.pt), "phi": met.phi})
    np.testing.assert_allclose(ak.to_numpy(dijet_met_mt(jets, no_met)[two]), jj.mass, rtol=1e-9)
