"""``jetad convert lhco``: the LHC Olympics R&D HDF5 layout, round-tripped through ROOT."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
from click.testing import CliRunner

from jetad.cli import main

pd = pytest.importorskip("pandas")
pytest.importorskip("tables")

FIXTURES = Path(__file__).parents[1] / "datasets" / "fixtures"
HADRONS = 700  # the R&D set's width: 700 × (pT, η, φ) + the label = 2101 columns


def _hadrons(name: str) -> ak.Array:
    pf = uproot.open(FIXTURES / f"{name}.root")["Events"].arrays(
        ["PFCands_pt", "PFCands_eta", "PFCands_phi"], how=dict
    )
    return ak.zip({k.split("_")[1]: v for k, v in pf.items()})


def _lhco_table(path: Path, table_format: str = "fixed") -> tuple[ak.Array, np.ndarray]:
    """Generated QCD and W′ events in the R&D layout, QCD and signal interleaved."""
    hadrons = ak.concatenate([_hadrons("qcd_dijet"), _hadrons("wprime_xy")])
    label = np.repeat([0, 1], [len(hadrons) // 2, len(hadrons) - len(hadrons) // 2])
    order = np.random.default_rng(1).permutation(len(hadrons))
    hadrons, label = hadrons[order], label[order]
    hadrons = hadrons[ak.argsort(hadrons.pt, ascending=False)][:, :HADRONS]
    triplets = np.stack(
        [ak.to_numpy(ak.fill_none(ak.pad_none(hadrons[f], HADRONS, clip=True), 0.0))
         for f in ("pt", "eta", "phi")],
        axis=-1,
    )  # fmt: skip
    table = np.column_stack([triplets.reshape(len(hadrons), -1), label]).astype(np.float64)
    pd.DataFrame(table).to_hdf(path, key="df", format=table_format)
    return hadrons, label


@pytest.mark.parametrize("table_format", ["fixed", "table"])
def test_round_trip(tmp_path, table_format):
    from jetad.clustering import cluster
    from jetad.datasets import feature_rows, open_events
    from jetad.features import FEATURE_SETS
    from jetad.kinematics import four_momenta
    from jetad.lhco import FATJET_PTMIN, LHCO_RADIUS

    hadrons, label = _lhco_table(tmp_path / "rnd.h5", table_format)
    result = CliRunner().invoke(
        main, ["convert", "lhco", str(tmp_path / "rnd.h5"), str(tmp_path / "lhco.root"),
               "--block-size", "150"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {len(hadrons)} events" in result.output

    events = open_events(tmp_path / "lhco.root")
    assert len(events) == len(hadrons)
    np.testing.assert_array_equal(ak.to_numpy(events.Truth.label), label)
    np.testing.assert_array_equal(ak.to_numpy(events.event), np.arange(1, len(hadrons) + 1))
    for field in ("pt", "eta", "phi"):
        assert ak.all(events.PFCands[field] == ak.values_astype(hadrons[field], np.float32))
    assert ak.all(events.PFCands.mass == 0)

    expected, _ = cluster(
        ak.zip({**{f: ak.values_astype(hadrons[f], np.float32) for f in ("pt", "eta", "phi")},
                "mass": ak.zeros_like(hadrons.pt, dtype=np.float32)}),
        LHCO_RADIUS, FATJET_PTMIN,
    )  # fmt: skip
    assert ak.all(ak.num(events.FatJet) == ak.num(expected))
    assert ak.all(events.FatJet.pt == expected.pt)
    # each jet's linked constituents add up to the jet (PFNano links, aligned per jet)
    summed = ak.sum(four_momenta(events.FatJet.constituents.pf), axis=2)
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(np.hypot(summed.px, summed.py))),
        ak.to_numpy(ak.flatten(events.FatJet.pt)),
        rtol=1e-5,
    )
    rows, summary = feature_rows(FEATURE_SETS["lhco"], [tmp_path / "lhco.root"])
    dijets = int(ak.sum(FEATURE_SETS["lhco"].selection.passed(events.FatJet)))
    assert (
        summary["rows"] + summary["dropped_nonfinite"] == dijets and summary["rows"] > 0.9 * dijets
    )


def test_max_events(tmp_path):
    _lhco_table(tmp_path / "rnd.h5")
    result = CliRunner().invoke(
        main, ["convert", "lhco", str(tmp_path / "rnd.h5"), str(tmp_path / "few.root"),
               "--max-events", "7"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert uproot.open(tmp_path / "few.root")["Events"].num_entries == 7


def test_bad_input_gets_one_line(tmp_path):
    (tmp_path / "text.h5").write_text("not hdf5\n")
    pd.DataFrame(np.ones((3, 5))).to_hdf(tmp_path / "narrow.h5", key="df")
    for name, message in (("text.h5", "cannot read"), ("narrow.h5", "has 5 columns")):
        result = CliRunner().invoke(
            main, ["convert", "lhco", str(tmp_path / name), str(tmp_path / "x.root")]
        )
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output and not (tmp_path / "x.root").exists()
