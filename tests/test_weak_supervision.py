"""Weakly supervised searches: CWoLa hunting and CATHODE on the generated fixtures, the
background flow on an analytic case, and the export through AnomalyScorer."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import torch

from conftest import FIXTURES
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import figures_of_merit
from jetad.models.export import export_classifier, load_metadata
from jetad.scoring import AnomalyScorer
from jetad.weak_supervision import (
    ClassifierConfig,
    FlowConfig,
    SignalRegion,
    cathode,
    check_out_of_sample,
    cwola,
    fit_background_flow,
    train_classifier,
)

NAMES = FEATURE_SETS["lhco"].names
FAST = ClassifierConfig(epochs=8, folds=3, batch_size=64, seeds=1, seed=3)


def _rows(process: str) -> np.ndarray:
    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / f"{process}.root"], also=("mjj",))
    rows = np.asarray(np.ma.filled(rows, np.nan), dtype=float)
    return rows[np.isfinite(rows).all(axis=1)]


@pytest.fixture(scope="module")
def pseudo_data():
    """The selected QCD and W′ fixture events together: (features, m_jj in GeV, truth)."""
    qcd, wprime = _rows("qcd_dijet"), _rows("wprime_xy")
    rows = np.concatenate([qcd, wprime])
    return rows[:, :-1], rows[:, -1], np.r_[np.zeros(len(qcd)), np.ones(len(wprime))]


def test_a_signal_region_and_its_sidebands():
    region = SignalRegion(3000.0, half_width=0.1, sideband=0.2)
    mjj = np.array([2300.0, 2500.0, 2750.0, 3000.0, 3290.0, 3350.0, 3700.0])
    assert region.contains(mjj).tolist() == [False, False, True, True, True, False, False]
    assert region.sidebands(mjj).tolist() == [False, True, False, False, False, True, False]
    assert region.edges == pytest.approx((2700.0, 3300.0))
    with pytest.raises(ValueError, match="half_width < sideband"):
        SignalRegion(3000.0, half_width=0.2, sideband=0.1)


def test_the_classifier_separates_wprime_from_qcd(pseudo_data):
    """Supervised on the truth, CATHODE's classifier must find what tells a 2-prong W′ from
    QCD in these features (held-out AUC), as it must in a search with many more events."""
    x, _, truth = pseudo_data
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    held = np.arange(len(x)) % 3 == 0
    network = train_classifier(x[~held], truth[~held], ClassifierConfig(epochs=30), seed=1)
    with torch.no_grad():
        score = network(torch.from_numpy(x[held].astype(np.float32))).numpy()
    assert figures_of_merit(score[truth[held] == 0], score[truth[held] == 1])["auc"] > 0.85


def test_the_classifier_averages_its_best_validation_epochs(pseudo_data):
    """CATHODE's recipe: the states of the ``best_epochs`` epochs of smallest validation loss,
    their logits averaged; with one epoch kept it is a single network."""
    x, _, truth = pseudo_data
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)
    config = ClassifierConfig(epochs=6, best_epochs=4, batch_size=64)
    ensemble = train_classifier(x, truth, config, seed=2)
    assert len(ensemble.states) == 4
    y = torch.from_numpy(x)
    with torch.no_grad():
        each = torch.stack([state(y) for state in ensemble.states])
        assert not torch.allclose(each[0], each[1])
        torch.testing.assert_close(ensemble(y), each.mean(dim=0))
    single = ClassifierConfig(epochs=6, best_epochs=1, batch_size=64)
    assert len(train_classifier(x, truth, single, seed=2).states) == 1
    with pytest.raises(ValueError, match="best_epochs"):
        ClassifierConfig(best_epochs=0)


def test_each_fold_averages_its_seeds(pseudo_data):
    """``seeds`` classifiers per fold: each member holds every seed's best-epoch states (its
    logit is the seeds' mean), and the first seed is the classifier ``seeds=1`` trains."""
    x, mjj, _ = pseudo_data
    region = SignalRegion(float(np.median(mjj)), half_width=0.05, sideband=0.15)
    one, two = (ClassifierConfig(epochs=3, best_epochs=2, folds=2, batch_size=64, seeds=n)
                for n in (1, 2))  # fmt: skip
    single, double = (cwola(x, mjj, region, NAMES, config=c).model for c in (one, two))
    assert [len(m.states) for m in double.members] == [4, 4]
    y = double.preprocessing(torch.from_numpy(x[:50].astype(np.float32)))
    for kept, more in zip(single.members, double.members, strict=True):
        for a, b in zip(kept.states, more.states[:2], strict=True):
            for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
                assert torch.equal(p, q), name
        with torch.no_grad():
            each = torch.stack([state(y) for state in more.states])
            torch.testing.assert_close(more(y), each.mean(dim=0))
    with pytest.raises(ValueError, match="seeds"):
        ClassifierConfig(seeds=0)


def test_cwola_scores_out_of_fold_and_exports(pseudo_data, tmp_path):
    x, mjj, _ = pseudo_data
    region = SignalRegion(float(np.median(mjj)), half_width=0.05, sideband=0.15)
    found = cwola(x, mjj, region, NAMES, config=FAST)
    assert found.score.shape == (len(x),) and np.isfinite(found.score).all()
    used = region.contains(mjj) | region.sidebands(mjj)
    assert found.summary["signal_region_events"] == region.contains(mjj).sum()
    # Every event is scored by one member (in the training population, the one that did not
    # see it); the exported model is the members' mean, through AnomalyScorer.
    y = found.model.preprocessing(torch.from_numpy(x.astype(np.float32)))
    with torch.no_grad():
        each = torch.stack([member(y) for member in found.model.members]).numpy()
    assert np.all(np.isclose(each, found.score[None, :], atol=1e-5).sum(axis=0) >= 1)
    path = export_classifier(found.model, x[used], tmp_path / "cwola.pt", "lhco", NAMES,
                             extra={"signal_region": list(region.edges)})  # fmt: skip
    assert load_metadata(path)["scores"] == ["logit"]
    table = ak.zip({name: x[:, i] for i, name in enumerate(NAMES)})
    scored = AnomalyScorer(path, feature_set="lhco")(table).to_numpy()[:, 0]
    np.testing.assert_allclose(scored, each.mean(axis=0), rtol=1e-5, atol=1e-5)


def test_the_background_flow_learns_a_conditional_density():
    """An analytic case: x₁ ~ N(2 ln(m/TeV), 0.3), x₂ ~ N(0.5, 0.1), independent of x₁; the
    flow trained on it must sample the same conditional mean and spread at a new m_jj, its
    three best epochs (CATHODE's ensemble of epochs) sampling alike."""
    rng = np.random.default_rng(5)
    mjj = rng.uniform(2000.0, 5000.0, 6000)
    x = np.c_[rng.normal(2 * np.log(mjj / 1000), 0.3), rng.normal(0.5, 0.1, len(mjj))]
    flow = fit_background_flow(x, mjj, FlowConfig(epochs=40, best_epochs=3, seed=1))
    assert len(flow.members) == 3 and len(flow.history) == 40
    assert flow.validation == sorted(flow.history)[:3]
    at = torch.full((4000,), 3500.0)
    sampled = flow.sample(at).numpy()
    assert sampled.mean(axis=0) == pytest.approx([2 * np.log(3.5), 0.5], abs=0.05)
    assert sampled.std(axis=0) == pytest.approx([0.3, 0.1], rel=0.15)
    assert abs(np.corrcoef(sampled.T)[0, 1]) < 0.1


def test_cathode_runs_on_the_fixtures_and_exports(pseudo_data, tmp_path):
    x, mjj, _ = pseudo_data
    region = SignalRegion(float(np.median(mjj)), half_width=0.1, sideband=0.2)
    found = cathode(x, mjj, region, NAMES, config=FAST,
                    flow_config=FlowConfig(epochs=5, oversampling=2, seed=2))  # fmt: skip
    inside = region.contains(mjj)
    assert np.isfinite(found.score).all() and found.method == "cathode"
    assert found.summary["samples"] == 2 * inside.sum()
    assert found.summary["flow_events"] == (~inside).sum()
    path = export_classifier(found.model, x[inside], tmp_path / "cathode.pt", "lhco", NAMES)
    table = ak.zip({name: x[:, i] for i, name in enumerate(NAMES)})
    scored = AnomalyScorer(path, feature_set="lhco")(table).to_numpy()[:, 0]
    with torch.no_grad():
        mean = found.model(torch.from_numpy(x.astype(np.float32))).numpy()[:, 0]
    np.testing.assert_allclose(scored, mean, rtol=1e-5, atol=1e-5)


def test_bad_input_is_named(pseudo_data):
    x, mjj, _ = pseudo_data
    with pytest.raises(ValueError, match="not among"):
        cwola(x, mjj, SignalRegion(3000.0), NAMES, inputs=("mj1", "mjj"))
    with pytest.raises(ValueError, match="finite"):
        cwola(np.where(np.arange(len(x))[:, None] == 7, np.nan, x), mjj, SignalRegion(3000.0),
              NAMES)  # fmt: skip
    with pytest.raises(ValueError, match="too few events"):
        cwola(x, mjj, SignalRegion(50_000.0), NAMES)
    # a file none of whose events passes the dijet selection (tt̄: no 1.2 TeV jet)
    from jetad.weak_supervision import train_on_files

    with pytest.raises(ValueError, match="ttbar.root.*passes the dijet selection"):
        train_on_files("cwola", [FIXTURES / "ttbar.root"], SignalRegion(3500.0), "unused.pt")


def test_jetad_weak_trains_exports_and_decorrelates(tmp_path):
    """The command-line route: a CWoLa model on the fixture files, then m_jj-following working
    points on the same data, then the dijet processor's cuts through the exported model."""
    from click.testing import CliRunner

    from jetad.cli import main

    files = [str(FIXTURES / "qcd_dijet.root"), str(FIXTURES / "wprime_xy.root")]
    mjj = np.concatenate([_rows("qcd_dijet"), _rows("wprime_xy")])[:, -1]
    model = tmp_path / "cwola.pt"
    data = [a for f in files for a in ("--data", f)]
    runner = CliRunner()
    result = runner.invoke(main, ["weak", "cwola", *data, "--mass", f"{np.median(mjj):.0f}",
                                  "--half-width", "0.05", "--folds", "3", "--epochs", "4",
                                  "--output", str(model)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in " in result.output and model.exists()
    metadata = load_metadata(model)
    assert metadata["method"] == "cwola" and metadata["inputs"] == ["mj1", "mj2", "tau21_j1",
                                                                    "tau21_j2"]  # fmt: skip
    background = [a for f in files for a in ("--background", f)]
    result = runner.invoke(main, ["decorrelate", str(model), *background])
    assert result.exit_code == 0, result.output
    assert "eff10_mjj" in load_metadata(model)["mjj_working_points"]
    # Scored on its own training data the classifier would make a bump: refused in one line
    fileset = tmp_path / "fileset.json"
    fileset.write_text(json.dumps({"data": {"files": {files[0]: "Events"}}}))
    result = runner.invoke(main, ["run", "dijet", "--fileset", str(fileset), "--model",
                                  f"cwola={model}", "--executor", "iterative",
                                  "--output", str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "trained on" in result.output and "qcd_dijet.root" in result.output
    assert len(result.output.strip().splitlines()) == 1
    check_out_of_sample({"cwola": model}, {"other": {"files": [str(FIXTURES / "ttbar.root")]}})
    check_out_of_sample({"cwola": model}, {"odd": {"no files": 1}})  # layout: the run's to check
    result = runner.invoke(main, ["weak", "cathode", *data, "--mass", "50000",
                                  "--output", str(tmp_path / "none.pt")])  # fmt: skip
    assert result.exit_code == 1 and "too few events" in result.output
