"""``jetad convert toptag``: the Top Tagging reference layout, round-tripped through ROOT."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
from click.testing import CliRunner

from jetad.cli import main

pd = pytest.importorskip("pandas")
pytest.importorskip("tables")

FIXTURES = Path(__file__).parents[1] / "datasets" / "fixtures"
CONSTITUENTS = 200  # the set's width: 200 × (E, PX, PY, PZ) + truth columns + is_signal_new


def _leading_jets(name: str):
    """Constituents of each event's leading FatJet in a generated fixture."""
    from jetad.datasets import open_events
    from jetad.kinematics import four_momenta

    events = open_events(FIXTURES / f"{name}.root")
    jets = events.FatJet[ak.num(events.FatJet) > 0][:, 0]
    pf = jets.constituents.pf
    pf = ak.zip({f: pf[f] for f in ("pt", "eta", "phi", "mass")})
    return four_momenta(pf[ak.argsort(pf.pt, axis=1, ascending=False)])


def _toptag_table(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Generated top (tt̄) and QCD jets in the Top Tagging layout; returns each jet's summed
    four-momentum (E, px, py, pz) and the labels."""
    p = ak.concatenate([_leading_jets("ttbar"), _leading_jets("qcd_dijet")])
    label = np.repeat([1, 0], [len(_leading_jets("ttbar")), len(p) - len(_leading_jets("ttbar"))])
    columns = {}
    for i in range(CONSTITUENTS):
        for name, field in (("E", "E"), ("PX", "px"), ("PY", "py"), ("PZ", "pz")):
            padded = ak.fill_none(ak.pad_none(p[field], CONSTITUENTS, clip=True), 0.0)
            columns[f"{name}_{i}"] = ak.to_numpy(padded[:, i])
    frame = pd.DataFrame(columns)
    for name in ("truthE", "truthPX", "truthPY", "truthPZ", "ttv"):
        frame[name] = 0.0
    frame["is_signal_new"] = label
    frame.to_hdf(path, key="table", format="fixed")
    clipped = p[:, :CONSTITUENTS]
    total = np.column_stack(
        [ak.to_numpy(ak.sum(clipped[f], axis=1)) for f in ("E", "px", "py", "pz")]
    )
    return total, label


def test_round_trip_one_fatjet_per_event(tmp_path):
    from jetad.datasets import feature_rows, open_events
    from jetad.features import FEATURE_SETS

    total, label = _toptag_table(tmp_path / "test.h5")
    result = CliRunner().invoke(
        main, ["convert", "toptag", str(tmp_path / "test.h5"), str(tmp_path / "toptag.root"),
               "--block-size", "70"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {len(label)} jets" in result.output
    events = open_events(tmp_path / "toptag.root")
    assert len(events) == len(label) and ak.all(ak.num(events.FatJet) == 1)
    np.testing.assert_array_equal(ak.to_numpy(events.Truth.label), label)
    jet = events.FatJet[:, 0]
    e, px, py, pz = total.T
    np.testing.assert_allclose(ak.to_numpy(jet.pt), np.hypot(px, py), rtol=1e-5)
    mass = np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0))
    np.testing.assert_allclose(ak.to_numpy(jet.mass), mass, rtol=1e-3, atol=0.05)
    assert ak.all(ak.num(jet.constituents.pf, axis=1) == jet.nConstituents)
    rows, summary = feature_rows(FEATURE_SETS["svj8"], [tmp_path / "toptag.root"])
    # one row per jet; a jet of one or two constituents has no τ ratio (counted, not lost)
    assert len(rows) + summary["dropped_nonfinite"] == len(label)
    assert summary["dropped_nonfinite"] <= 0.01 * len(label)


def test_not_the_layout_is_one_line(tmp_path):
    pd.DataFrame({"E_0": [1.0], "PX_0": [0.5]}).to_hdf(tmp_path / "bad.h5", key="table")
    result = CliRunner().invoke(
        main, ["convert", "toptag", str(tmp_path / "bad.h5"), str(tmp_path / "out.root")]
    )
    assert result.exit_code == 1
    assert "is not a Top Tagging HDF5 table: missing column(s) PY_0, PZ_0, is_signal_new" in (
        result.output
    )
    assert not (tmp_path / "out.root").exists()
