"""Every observable gives the same numbers eagerly, on virtual arrays and inside dask-awkward."""

from __future__ import annotations

import awkward as ak
import dask
import dask_awkward as dak
import numpy as np
import pytest

from conftest import FIXTURES, load_events
from jetad.constituents import fatjet_constituents
from jetad.observables import (
    axes,
    efp,
    energy_correlations,
    leading_constituents,
    met_decomposition,
    nsubjettiness,
    ptd,
    soft_drop,
)

JET_OBSERVABLES = {
    "nsubjettiness": nsubjettiness,
    "ecf": lambda c: energy_correlations(c, 0.5),
    "soft_drop": soft_drop,
    "ptd": ptd,
    "axes": axes,
    "efp": lambda c: efp(c, "d<=3"),
    "leading_constituents": leading_constituents,
}


def _same(a, b) -> bool:
    return ak.array_equal(a, b, equal_nan=True, check_parameters=False, dtype_exact=False)


@pytest.fixture(scope="module")
def eager():
    events = load_events(FIXTURES / "svj.root")
    return events, fatjet_constituents(events)


@pytest.mark.parametrize("name", JET_OBSERVABLES)
def test_virtual_equals_eager(eager, name):
    events = load_events(FIXTURES / "svj.root", mode="virtual")
    observable = JET_OBSERVABLES[name]
    assert _same(observable(fatjet_constituents(events)), observable(eager[1]))


def test_dask_awkward_equals_eager(eager):
    events = load_events(FIXTURES / "svj.root", mode="dask")
    constituents = fatjet_constituents(events)
    assert isinstance(constituents, dak.Array)
    lazy = {name: f(constituents) for name, f in JET_OBSERVABLES.items()}
    assert all(isinstance(value, dak.Array) for value in lazy.values())
    lazy["met"] = met_decomposition(events.MET, events.FatJet)
    (computed,) = dask.compute(lazy)
    for name, f in JET_OBSERVABLES.items():
        assert _same(computed[name], f(eager[1])), name
    assert _same(computed["met"], met_decomposition(eager[0].MET, eager[0].FatJet))


def test_typetracer_forms_match(eager):
    constituents = eager[1]
    tracer = ak.Array(constituents.layout.to_typetracer(forget_length=True))
    for name, f in JET_OBSERVABLES.items():
        assert f(tracer).layout.form == f(constituents).layout.form, name


def test_empty_chunk():
    events = load_events(FIXTURES / "svj.root")[:0]
    constituents = fatjet_constituents(events)
    for f in JET_OBSERVABLES.values():
        assert len(f(constituents)) == 0
    assert np.asarray(ak.num(nsubjettiness(constituents), axis=0)) == 0


def test_event_features_in_dask(fixture_events):
    from jetad.observables import dijet_features, lepton_trigger_features

    events = load_events(FIXTURES / "ttbar.root", mode="dask")
    lazy_dijet = dijet_features(events.FatJet, fatjet_constituents(events))
    lazy_hlt = lepton_trigger_features(events)
    dijet, hlt = dask.compute(lazy_dijet, lazy_hlt)
    eager = fixture_events["ttbar"]
    assert _same(dijet, dijet_features(eager.FatJet, fatjet_constituents(eager)))
    assert _same(hlt, lepton_trigger_features(eager))
