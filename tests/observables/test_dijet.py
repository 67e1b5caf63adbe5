"""Mass-ordered dijet features."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.constituents import fatjet_constituents
from jetad.observables import dijet_features, dijet_kinematics, nsubjettiness
from reference import toy_jets


def test_mass_ordering_and_mjj(fixture_events):
    events = fixture_events["wprime_xy"]
    features = dijet_features(events.FatJet, fatjet_constituents(events))
    two = ak.num(events.FatJet) >= 2
    assert ak.all(ak.is_none(features) == ~two)
    selected = features[two]
    assert ak.all(selected.mj1 >= selected.mj2)
    jets = events.FatJet[two][:, :2]
    assert np.allclose(selected.mjj, (jets[:, 0] + jets[:, 1]).mass, rtol=1e-5)
    assert np.allclose(selected.mj1, np.maximum(jets[:, 0].mass, jets[:, 1].mass))
    taus = nsubjettiness(fatjet_constituents(events)[two][:, :2], nmax=3)
    heavier = ak.argmax(jets.mass, axis=1, keepdims=True)
    expected = ak.flatten(taus[heavier][..., 1] / taus[heavier][..., 0])
    assert np.allclose(selected.tau21_j1, expected, equal_nan=True)
    assert 3000 < np.median(selected.mjj) < 3700


def test_fewer_than_two_jets_give_none():
    jets = ak.Array([[], [{"pt": 500.0, "eta": 0.0, "phi": 0.0, "mass": 50.0}]])
    constituents = ak.Array([[], [[{"pt": 500.0, "eta": 0.0, "phi": 0.0, "mass": 50.0}]]])
    assert ak.to_list(dijet_features(jets, constituents)) == [None, None]
    pair = toy_jets([(400.0, 0.0, 0.0, 0.0)], [(300.0, 1.0, 3.0, 0.0), (20.0, 1.1, 3.1, 0.0)])
    jets = ak.zip(
        {"pt": [[400.0, 320.0]], "eta": [[0.0, 1.0]], "phi": [[0.0, 3.0]], "mass": [[0.0, 30.0]]}
    )
    out = dijet_features(jets, pair[None])
    assert out.mj1[0] == 30.0 and out.deta[0] == 1.0
    assert np.isnan(out.tau21_j2[0]) and out.tau21_j1[0] == pytest.approx(0.0)


def test_dijet_kinematics_agree_with_the_features(fixture_events):
    events = fixture_events["qcd_dijet"]
    features = dijet_features(events.FatJet, fatjet_constituents(events))
    leading_pt, deta = dijet_kinematics(events.FatJet)
    assert ak.all(ak.is_none(leading_pt) == ak.is_none(features))
    assert ak.all(leading_pt == np.maximum(features.ptj1, features.ptj2))
    assert ak.all(deta == features.deta)
    jets = ak.zip({"pt": [[], [700.0], [300.0, 900.0]], "eta": [[], [0.5], [1.5, -0.5]]})
    assert ak.to_list(dijet_kinematics(jets)[0]) == [None, None, 900.0]
    assert ak.to_list(dijet_kinematics(jets)[1]) == [None, None, 2.0]


def test_dijet_features_form_on_typetracers(fixture_events):
    """On typetracers (dask-awkward graph building) the features have the eager form and
    nothing is computed; events with fewer than two jets stay None eagerly."""
    events = fixture_events["wprime_xy"]
    jets, constituents = events.FatJet, fatjet_constituents(events)
    eager = dijet_features(jets, constituents)

    def typetracer(array):
        return ak.Array(array.layout.to_typetracer(forget_length=True), behavior=array.behavior)

    lazy = dijet_features(typetracer(jets), typetracer(constituents))
    assert ak.backend(lazy) == "typetracer"
    assert lazy.layout.form == eager.layout.form
    few = ak.num(jets) < 2
    assert ak.all(ak.is_none(eager) == few)
