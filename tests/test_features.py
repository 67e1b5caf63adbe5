"""Named feature sets: names, units, shapes, custom sets, and leading constituents."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.constituents import fatjet_constituents
from jetad.features import FEATURE_SETS, custom_feature_set, feature_matrix, get_feature_set
from jetad.observables import leading_constituents


@pytest.mark.parametrize(
    ("name", "size", "level"),
    [
        ("lhco", 6, "event"),
        ("svj8", 8, "jet"),
        ("hlt21", 21, "event"),
        ("constituents20", 80, "jet"),
    ],
)
def test_registered_sets(fixture_events, name, size, level):
    feature_set = FEATURE_SETS[name]
    assert len(feature_set.names) == size and feature_set.level == level
    events = fixture_events["ttbar"]
    table = feature_set(events)
    assert tuple(ak.fields(table)) == feature_set.names
    rows = ak.flatten(table) if level == "jet" else ak.drop_none(table)
    matrix = feature_matrix(rows, feature_set.names)
    assert matrix.shape == (len(rows), size) and len(rows) > 0
    if level == "jet":
        assert ak.all(ak.num(table) == ak.num(events.FatJet))


def test_svj8_units_and_values(fixture_events):
    svj8 = get_feature_set("svj8")
    assert {f.name: f.unit for f in svj8.features}["msoftdrop"] == "GeV"
    table = ak.flatten(svj8(fixture_events["svj"]))
    assert ak.all((table.ptd > 0) & (table.ptd <= 1))
    assert ak.all(table.axis_major >= table.axis_minor)


def test_custom_sets(fixture_events):
    shapes = custom_feature_set("shapes", ("ptd", "axis_major"), base="svj8")
    table = shapes(fixture_events["svj"])
    assert ak.fields(table) == ["ptd", "axis_major"]
    njets = custom_feature_set(
        "njets",
        {"n": ""},
        level="event",
        compute=lambda events, constituents=None: ak.zip({"n": ak.num(events.FatJet)}),
    )
    assert ak.all(njets(fixture_events["svj"]).n == ak.num(fixture_events["svj"].FatJet))
    with pytest.raises(ValueError, match="mass not in feature set 'svj8'; available: axis_major"):
        custom_feature_set("bad", ("mass",), base="svj8")
    with pytest.raises(ValueError, match="unknown feature set 'lhc'; valid: lhco, svj8"):
        get_feature_set("lhc")


def test_leading_constituents_frame(fixture_events):
    constituents = fatjet_constituents(fixture_events["ttbar"])
    images = ak.to_numpy(ak.flatten(leading_constituents(constituents, n=20), axis=1))
    assert images.shape[1:] == (20, 4)
    energies = images[:, :, 0]
    assert np.all(np.diff(energies, axis=1) <= 1e-9)
    flat = ak.flatten(constituents, axis=1)
    full = ak.to_numpy(leading_constituents(flat, n=int(ak.max(ak.num(flat)))))
    assert np.allclose(full[:, :, 2].sum(axis=1), 0, atol=1e-6)  # jet py = 0 after rotation
    assert np.allclose(full[:, :, 3].sum(axis=1), 0, atol=1e-6)  # jet pz = 0 after the boost


def test_feature_set_options_reach_the_computation(fixture_events):
    """``btag`` goes through ``FEATURE_SETS["hlt21"]`` to the ℓ+X features (what the lepton
    processor calls), and also-fields come beside the model inputs."""
    events = fixture_events["ttbar"]
    hlt21 = FEATURE_SETS["hlt21"]
    loose = ak.drop_none(hlt21(events, btag=("btagDeepFlavB", 0.05)))
    medium = ak.drop_none(hlt21(events))
    assert ak.fields(medium) == list(hlt21.names)
    assert ak.all(loose.n_b >= medium.n_b) and ak.sum(loose.n_b) > ak.sum(medium.n_b)
    nano = FEATURE_SETS["hlt18_nano"].names
    extra = tuple(n for n in nano if n not in hlt21.names)
    both = hlt21(events, also=extra)
    assert ak.fields(both) == [*hlt21.names, *extra]
    with pytest.raises(ValueError, match="unknown b-tag era '2031'"):
        hlt21(events, btag="2031")


def test_an_unknown_feature_set_option_is_named_in_one_line(fixture_events):
    """A misspelt option is refused before any computation, naming it and the set's options,
    not a TypeError from inside the set's function."""
    events = fixture_events["ttbar"]
    assert FEATURE_SETS["hlt21"].options == ("btag",)
    assert FEATURE_SETS["lhco"].options == ()
    with pytest.raises(ValueError, match=r"'hlt21' has no option 'btagg'; its options: btag"):
        FEATURE_SETS["hlt21"](events, btagg="2023")
    with pytest.raises(ValueError, match=r"'lhco' has no option 'btag'; its options: none"):
        FEATURE_SETS["lhco"](events, btag="2023")
