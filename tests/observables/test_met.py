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
