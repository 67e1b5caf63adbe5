"""Anomalous jet tagging (Cheng et al.): the boosted 2-, 3- and 4-prong samples, outlier
exposure reweighted to the background's jet mass, and the cvae trained with it."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
from click.testing import CliRunner

from conftest import FIXTURES, load_events
from jetad.cli import main
from jetad.constituents import fatjet_constituents
from jetad.decorrelation import mass_weights
from jetad.features import FEATURE_SETS
from jetad.generate import generate, get_process, render_card
from jetad.scoring import AnomalyScorer

BOOSTED = {  # process: (card parameters, where the median jet mass lies, GeV)
    "qcd_boosted": ({}, (20.0, 150.0)),
    "boosted_2prong": ({"m_prong": 80.0}, (60.0, 100.0)),
    "boosted_top": ({}, (120.0, 200.0)),
    "boosted_4prong": ({"m_light": 20.0}, (120.0, 200.0)),
}


@pytest.fixture(scope="module")
def boosted(tmp_path_factory):
    out = tmp_path_factory.mktemp("boosted")
    paths = {}
    for name, (parameters, _) in BOOSTED.items():
        paths[name] = out / f"{name}.root"
        generate(name, 40, seed=5, output=paths[name], jobs=1, parameters=parameters)
    return paths


@pytest.mark.parametrize("name", list(BOOSTED))
def test_boosted_samples_read_by_coffea(boosted, name):
    events = load_events(boosted[name])
    process = get_process(name)
    assert len(events) == 40
    assert ak.all(events.Truth.process == process.code)
    assert ak.all(events.Truth.label == process.label)
    leading = events.FatJet[:, :2]
    assert ak.sum(ak.num(leading)) >= 60  # two AK8 jets above 300 GeV in most events
    low, high = BOOSTED[name][1]
    assert low < np.median(ak.to_numpy(ak.flatten(leading.mass))) < high
    # both resonance daughters (or the QCD pT-hat window) put the jets near 600 GeV
    assert 450.0 < np.median(ak.to_numpy(ak.flatten(leading.pt))) < 700.0
    pt = ak.to_numpy(ak.flatten(events.FatJet.pt))
    assert pt.min() >= process.fatjet_ptmin
    constituents = fatjet_constituents(events)
    assert ak.all(ak.flatten(ak.num(constituents, axis=2)) > 0)


@pytest.mark.parametrize(
    ("name", "parameters", "message"),
    [
        ("boosted_top", {"m_top": 80.0}, r"'m_top' of 'boosted_top' must lie in \(85.185, 725\)"),
        ("boosted_4prong", {"m_light": 100.0}, r"'m_light' of 'boosted_4prong' must lie in"),
        ("boosted_2prong", {"m_prong": 700.0}, r"'m_prong' of 'boosted_2prong' must lie in"),
    ],
)
def test_masses_outside_the_generator_range_are_one_line(name, parameters, message):
    process = get_process(name)
    with pytest.raises(ValueError, match=message):
        render_card(process, process.parameters(parameters))
    result = CliRunner().invoke(
        main,
        ["generate", name, "-n", "5", "-o", "x.root",
         *[f"--param={k}={v}" for k, v in parameters.items()]],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def _jet_mass(name: str) -> np.ndarray:
    return ak.to_numpy(ak.flatten(load_events(FIXTURES / f"{name}.root").FatJet.mass))


def test_mass_weights_match_the_reference_within_statistics():
    """Weights fitted on half the outliers give them the jet-mass distribution of an
    *independent* half of the reference (chi² per bin with both samples' errors)."""
    rng = np.random.default_rng(0)
    outliers, reference = _jet_mass("wprime_xy"), _jet_mass("svj")
    half_o, half_r = rng.random(len(outliers)) < 0.5, rng.random(len(reference)) < 0.5
    fitted, held_out = outliers[half_o], reference[~half_r]
    weights = mass_weights(fitted, reference[half_r], bins=8)
    assert np.isclose(weights.mean(), 1.0) and np.all(weights >= 0)
    edges = np.histogram_bin_edges(reference[half_r], bins=8)

    def chi2(values, w):
        sumw, _ = np.histogram(values, edges, weights=w)
        sumw2, _ = np.histogram(values, edges, weights=w**2)
        target, _ = np.histogram(held_out, edges)
        p, var_p = sumw / sumw.sum(), sumw2 / sumw.sum() ** 2
        q, var_q = target / target.sum(), target / target.sum() ** 2
        return np.sum((p - q) ** 2 / (var_p + var_q)) / (len(p) - 1)

    assert chi2(fitted, weights) < 2.0  # equal within statistics …
    assert chi2(fitted, np.ones_like(fitted)) > 4.0  # … where the unweighted ones differ
    with pytest.raises(ValueError, match="no jet mass lies in the reference's range"):
        mass_weights(np.array([900.0, 950.0]), reference)


def test_cvae_with_mass_reweighted_oe_exports_and_scores(tmp_path):
    model = tmp_path / "cvae.pt"
    background = str(FIXTURES / "qcd_dijet.root")
    args = ["train", "--model", "cvae", "--features", "constituents20", "--background",
            background, "--epochs", "2", "--quiet", "-o", str(model)]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--outliers", str(FIXTURES / "wprime_xy.root"),
                                       "--oe", "kl", "--oe-reweight", "mass"])  # fmt: skip
    assert result.exit_code == 0, result.output
    metadata = json.loads(model.with_suffix(".json").read_text())
    assert metadata["config"]["oe"] == "kl" and metadata["config"]["oe_reweight"] == "mass"
    c20 = FEATURE_SETS["constituents20"]
    events = load_events(FIXTURES / "svj.root")
    scores = AnomalyScorer(model, feature_set="constituents20")(c20(events))
    assert ak.all(ak.num(scores) == ak.num(events.FatJet))
    assert np.all(np.isfinite(ak.to_numpy(ak.flatten(scores)[:, 0])))

    without = CliRunner().invoke(main, [*args, "--oe", "kl"])  # OE without outlier files
    assert without.exit_code != 0 and "Traceback" not in without.output
    assert "--outliers and --oe go together" in without.output
    rw_only = CliRunner().invoke(main, [*args, "--oe-reweight", "mass"])
    assert rw_only.exit_code != 0 and "--oe-reweight needs --oe and --outliers" in rw_only.output
