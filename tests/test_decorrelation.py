"""m_jj-dependent working points: the quantile regression, and the cuts the processor fills."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import FIXTURE_FILESET, FIXTURES
from jetad.datasets import feature_rows, load_fileset
from jetad.decorrelation import fit_quantile_threshold, flatness, quantile_threshold
from jetad.features import FEATURE_SETS
from jetad.histograms import nominal


@pytest.fixture(scope="module")
def qcd_rows():
    """mj1 (GeV) and m_jj (GeV) of the selected QCD fixture events: the heavier jet's mass
    grows with m_jj, so a fixed cut on it sculpts the spectrum."""
    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"], also=("mjj",))
    rows = np.asarray(np.ma.filled(rows, np.nan))
    return rows[:, 0], rows[:, -1]


def test_degree_zero_is_the_sample_quantile(qcd_rows):
    mj1, mjj = qcd_rows
    for efficiency in (0.5, 0.1):
        fit = fit_quantile_threshold(mj1, mjj, efficiency, degree=0)
        threshold = quantile_threshold(fit, mjj)
        above = np.mean(mj1 > threshold)  # an exact quantile: within one event of ε
        assert abs(above - efficiency) <= 1 / len(mj1) + 1e-12
        lower, upper = np.sort(mj1)[[int(np.floor((1 - efficiency) * len(mj1))) - 1,
                                     int(np.ceil((1 - efficiency) * len(mj1)))]]  # fmt: skip
        assert lower <= threshold[0] <= upper


def test_the_threshold_follows_mjj(qcd_rows):
    mj1, mjj = qcd_rows
    assert np.corrcoef(mj1, mjj)[0, 1] > 0.15
    efficiency = 0.5
    fit = fit_quantile_threshold(mj1, mjj, efficiency, degree=1)
    fixed = np.quantile(mj1, 1 - efficiency)
    following = flatness(mj1, mjj, quantile_threshold(fit, mjj), quantiles=2)
    error = np.sqrt(efficiency * (1 - efficiency) / (len(mj1) / 2))
    assert all(abs(e - efficiency) < 2 * error for e in following), following
    spread_fixed = np.ptp(flatness(mj1, mjj, fixed, quantiles=2))
    assert np.ptp(following) < spread_fixed
    # flat beyond the fitted range
    low, high = fit["mjj_range"]
    edge = quantile_threshold(fit, np.array([low, high, 0.5 * low, 2 * high]))
    assert edge[2] == edge[0] and edge[3] == edge[1]


def test_a_spline_threshold_bends_locally_and_round_trips(qcd_rows):
    """With knots the threshold is a spline in ln m_jj (here piecewise linear, continuous at
    its knots), keeps the efficiency in each m_jj half, survives JSON, and evaluates the same
    on awkward arrays; without knots the parameters are the polynomial's alone."""
    import awkward as ak

    mj1, mjj = qcd_rows
    efficiency = 0.5
    assert "knots" not in fit_quantile_threshold(mj1, mjj, efficiency, degree=1)
    fit = json.loads(json.dumps(fit_quantile_threshold(mj1, mjj, efficiency, degree=1, knots=2)))
    assert len(fit["knots"]) == 2 and len(fit["coefficients"]) == 4
    knots_gev = 1000.0 * np.exp(np.array(fit["knots"]))
    assert np.all((knots_gev > mjj.min()) & (knots_gev < mjj.max()))
    threshold = quantile_threshold(fit, mjj)
    error = np.sqrt(efficiency * (1 - efficiency) / (len(mj1) / 2))
    halves = flatness(mj1, mjj, threshold, quantiles=2)
    assert all(abs(e - efficiency) < 2 * error for e in halves), halves
    step = 1e-6 * knots_gev
    left = quantile_threshold(fit, knots_gev - step)
    right = quantile_threshold(fit, knots_gev + step)
    assert np.allclose(left, right, atol=1e-3 * np.ptp(threshold))  # continuous at the knots
    assert np.allclose(np.asarray(quantile_threshold(fit, ak.Array(mjj))), threshold)


def test_calibrated_model_fills_mjj_cuts(tmp_path):
    from click.testing import CliRunner
    from jetad.processors import DijetAnomalyProcessor

    from jetad.analysis import run_processor
    from jetad.cli import main
    from jetad.models import TrainConfig, export, train

    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"])
    path = export(train(rows, TrainConfig.for_model("vae", epochs=2)), tmp_path / "vae.pt",
                  "lhco", FEATURE_SETS["lhco"].names)  # fmt: skip
    qcd = str(FIXTURES / "qcd_dijet.root")
    arguments = ["decorrelate", str(path), "--background", qcd, "--degree", "1"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    metadata = json.loads(path.with_suffix(".json").read_text())
    assert set(metadata["mjj_working_points"]) == {"eff10_mjj", "eff1_mjj", "eff0p1_mjj"}
    fileset = {k: v for k, v in load_fileset(FIXTURE_FILESET).items() if k == "qcd_dijet"}
    out = run_processor(DijetAnomalyProcessor({"vae": str(path)}), fileset, executor="iterative")
    mjj = nominal(out["mjj"])[{"dataset": "qcd_dijet", "model": "vae"}]
    total = mjj[{"cut": "none"}].values(flow=True).sum()
    kept = mjj[{"cut": "eff10_mjj"}].values(flow=True).sum() / total
    assert abs(kept - 0.1) < 3 * np.sqrt(0.09 / total) + 1 / total  # calibrated on these events


def test_the_default_spline_has_the_knots_its_sample_affords(qcd_rows):
    """By default every piece of the threshold spline keeps at least 100 events above it, with at
    most 8 knots (what kept every m_jj bin of 198k QCD within 0.8–1.3% at 1%): 198k events
    afford 8 at 1% and none at 0.1%; a fifth of 106k affords 1 at 1%."""
    from jetad.decorrelation import auto_knots

    assert [auto_knots(198_000, 0.01), auto_knots(198_000, 0.001)] == [8, 0]
    assert [auto_knots(21_000, 0.01), auto_knots(21_000, 0.1), auto_knots(150, 0.5)] == [1, 8, 0]
    mj1, mjj = qcd_rows  # 106 events: 53 above a 50% cut afford no knot, the polynomial
    efficiency = 0.5
    fit = fit_quantile_threshold(mj1, mjj, efficiency, degree=1)
    assert "knots" not in fit and auto_knots(len(mj1), efficiency) == 0
    assert fit == fit_quantile_threshold(mj1, mjj, efficiency, degree=1, knots=0)
    four_times = np.tile(mj1, 4), np.tile(mjj, 4)  # 212 above: two pieces, one knot
    assert len(fit_quantile_threshold(*four_times, efficiency, degree=1)["knots"]) == 1
