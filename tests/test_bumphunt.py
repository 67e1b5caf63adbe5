"""The bump hunt on smooth dijet spectra: the weighted likelihood, window widths, no false
claims on background only, an injected bump found, and pyBumpHunter's BumpHunter1D agreeing."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy import stats

from jetad.bumphunt import (
    Spectrum,
    bump_hunt,
    dijet_function,
    fit_background,
    gaussian_signal,
    scan,
    spurious_signal,
)

EDGES = np.array([e for e in 1500 * 1.06 ** np.arange(30) if e < 9000])  # ~6% bins, as m_jj
MID, WIDTH = 0.5 * (EDGES[1:] + EDGES[:-1]), np.diff(EDGES)
MASS = 3500.0


def background(total: float) -> np.ndarray:
    shape = dijet_function(MID, np.array([1.0, 10.0, 5.0])) * WIDTH
    return total * shape / shape.sum()


def poisson(expected: np.ndarray, seed: int) -> Spectrum:
    return Spectrum.from_counts(np.random.default_rng(seed).poisson(expected), EDGES)


def signal_for(z_expected: float, expected: np.ndarray) -> np.ndarray:
    """A Gaussian signal at MASS whose S/√B within ±1 σ is ``z_expected``."""
    unit = gaussian_signal(EDGES, MASS, 1.0)
    core = (MID > MASS * 0.935) & (MID < MASS * 1.065)
    return unit * z_expected * np.sqrt(expected[core].sum()) / unit[core].sum()


def test_fit_recovers_a_smooth_spectrum():
    fit = fit_background(poisson(background(1e6), 3))
    assert fit.valid and len(fit.parameters) in (3, 4)
    assert 0.3 < fit.chi2_ndf < 2.0 and 0.01 < fit.p_value < 0.99
    populated = background(1e6) > 100  # the far tail holds a handful of events
    np.testing.assert_allclose(
        np.array(fit.expected)[populated], background(1e6)[populated], rtol=0.03
    )


@pytest.mark.parametrize("n_parameters", [3, 4, 5])
def test_newton_minimum_is_iminuits_extended_binned_nll_minimum(n_parameters):
    """The hand-written likelihood is iminuit's ExtendedBinnedNLL with (Σw, Σw²) (Bohm–Zech
    scaled Poisson), and its Newton minimum is one Minuit cannot improve on."""
    from iminuit import Minuit
    from iminuit.cost import ExtendedBinnedNLL

    from jetad.bumphunt.fit import _fit, _Integrator, _starting_values

    rng = np.random.default_rng(11)
    events = rng.poisson(background(3e5))[:24]  # every bin filled
    weights = [rng.uniform(0.5, 1.5, n) * 0.02 for n in events]
    spectrum = Spectrum([w.sum() for w in weights], [(w**2).sum() for w in weights], EDGES[:25])
    k, s = spectrum.effective(), spectrum.scale()
    start = _starting_values(k, s, spectrum.edges, n_parameters)
    ours = _fit(k, s, spectrum.edges, start, np.ones(len(k), dtype=bool))
    minimum = np.array([ours.log_p0, *ours.parameters[1:]])

    integrate = _Integrator(spectrum.edges)

    def cumulative(edges, *values):
        return np.concatenate([[0.0], np.cumsum(integrate(np.array(values)))])

    names = [f"a{i}" for i in range(n_parameters)]
    cost = ExtendedBinnedNLL(
        np.column_stack([spectrum.sumw, spectrum.sumw2]), spectrum.edges, cumulative, name=names
    )
    assert cost(*minimum) == pytest.approx(ours.deviance, rel=1e-10)
    minuit = Minuit(cost, *minimum)
    minuit.strategy = 2
    minuit.migrad()
    assert minuit.fval >= ours.deviance - 1e-6


def test_weighted_simulation_gives_the_unweighted_significance():
    expected = background(1e5)
    events = np.random.default_rng(1).poisson(expected + signal_for(6, expected))
    unweighted = bump_hunt(Spectrum.from_counts(events, EDGES), n_toys=0)
    rng = np.random.default_rng(2)
    weights = [rng.uniform(0.5, 1.5, n) * 3.7e-3 for n in events]  # σ / Σ genWeight-like
    weighted = Spectrum([w.sum() for w in weights], [(w**2).sum() for w in weights], EDGES)
    result = bump_hunt(weighted, n_toys=0)
    assert result.window == unweighted.window
    # Σw²/Σw² loses 1/(1 + var/mean²) = 1/1.083 of the events: Z shrinks by ≈ 4%
    assert result.local_significance == pytest.approx(unweighted.local_significance, abs=0.5)
    assert result.local_significance < unweighted.local_significance


def test_luminosity_does_not_change_the_significance_of_unit_weight_data():
    expected = background(1e5)
    counts = np.random.default_rng(1).poisson(expected + signal_for(4, expected)).astype(float)
    plain = bump_hunt(Spectrum.from_counts(counts, EDGES), n_toys=10)
    scaled = bump_hunt(Spectrum(counts * 1000, counts * 1000**2, EDGES), n_toys=10)
    assert scaled.local_significance == pytest.approx(plain.local_significance, rel=1e-9)
    assert scaled.global_p_value == plain.global_p_value and scaled.window == plain.window


def test_background_only_claims_2_sigma_globally_in_at_most_5_percent():
    """200 background-only spectra, each hunted with every width, against the largest local Z
    of 500 toys of a fit (what bump_hunt's global significance counts)."""
    expected = background(1e5)
    reference = bump_hunt(poisson(expected, 999), n_toys=500, seed=1)
    maxima = np.array(reference.toy_maxima)
    local = np.array([bump_hunt(poisson(expected, s), n_toys=0).local_significance
                      for s in range(200)])  # fmt: skip
    p_global = (1 + (maxima[None, :] >= local[:, None]).sum(axis=1)) / (1 + len(maxima))
    claims = np.mean(stats.norm.isf(p_global) > 2)
    assert claims <= 0.05, f"{claims:.1%} of background-only spectra claim > 2σ globally"
    assert 0.01 < reference.gof_p_value < 0.99


def test_a_5_sigma_bump_is_found_in_the_right_window_with_every_width():
    expected = background(1e5)
    result = bump_hunt(poisson(expected + signal_for(5, expected), 1), n_toys=20)
    for window in result.windows:
        assert window.low < MASS < window.high, window
        assert window.local_significance > 3
    assert result.global_p_value == pytest.approx(1 / 21)  # beyond every toy
    assert result.to_dict()["fit"]["n_parameters"] == len(result.fit.parameters)


@pytest.mark.parametrize("z_injected", [0, 3, 6])
def test_score_z_is_the_profile_likelihood_ratio(z_injected):
    """The local Z of each window (a score test at the background-only fit) against the
    profile likelihood ratio of the signal-plus-background fit it stands for."""
    from jetad.bumphunt.fit import _fit_effective, _Integrator
    from jetad.bumphunt.hunt import _score_scan, _signal_fit

    expected = background(1e5)
    spectrum = poisson(expected + signal_for(z_injected, expected), 2)
    k, s = spectrum.effective(), spectrum.scale()
    first, integrate = _fit_effective(k, s, EDGES), _Integrator(EDGES)
    score = _score_scan(k, s, integrate, first, 3)
    for position in (8, 12, 13, 14):  # around the bump at 3.5 TeV, and away from it
        fit = _signal_fit(k, s, integrate, first, slice(position, position + 3))
        ratio = np.sign(fit.signal) * np.sqrt(max(first.deviance - fit.background.deviance, 0))
        assert score[position] == pytest.approx(ratio, abs=0.15 + 0.05 * abs(ratio))


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_background_only_claims_nothing(seed):
    result = bump_hunt(poisson(background(1e5), seed), n_toys=20, seed=seed)
    assert result.global_significance < 2.0


def test_agrees_with_pybumphunter():
    """BumpHunter1D (pyBumpHunter) scans the same histogram against the same background with
    the same widths: the same window, and its exact Poisson significance within 0.25σ of the
    asymptotic likelihood-ratio Z used here."""
    from pyBumpHunter import BumpHunter1D

    expected = background(1e5)
    counts = np.random.default_rng(7).poisson(expected + signal_for(5, expected))
    result = bump_hunt(Spectrum.from_counts(counts, EDGES), n_toys=0)
    fitted = np.array(result.fit.expected)
    widths = [w.width_bins for w in result.windows]
    local = [scan(counts.astype(float), fitted, w) for w in widths]
    best = int(np.argmax([z.max() for z in local]))
    position, z_ours = int(np.argmax(local[best])), float(local[best].max())

    hunter = BumpHunter1D(rang=(EDGES[0], EDGES[-1]), bins=EDGES, width_min=min(widths),
                          width_max=max(widths), npe=10, nworker=1, seed=0)  # fmt: skip
    hunter.bump_scan(counts, fitted, is_hist=True, do_pseudo=False)
    assert int(hunter.min_loc_ar[0]) == position
    assert int(hunter.min_width_ar[0]) == widths[best]
    z_bumphunter = stats.norm.isf(hunter.min_Pval_ar[0])
    assert z_ours == pytest.approx(z_bumphunter, abs=0.25)
    assert EDGES[position] < MASS < EDGES[position + widths[best]]


def test_spurious_signal_on_smooth_toys_is_a_unit_gaussian():
    ratios = np.concatenate([spurious_signal(poisson(background(1e5), s)).ratio for s in range(8)])
    assert np.all(np.isfinite(ratios))
    assert abs(ratios.mean()) < 0.3 and 0.6 < ratios.std() < 1.4


def test_rejects_mismatched_input():
    with pytest.raises(ValueError, match="n bins and n \\+ 1 edges"):
        Spectrum.from_counts(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="window widths must lie in 1..3"):
        bump_hunt(Spectrum.from_counts(np.ones(6), np.arange(7.0) * 1000 + 1500), widths=(9,))


def _histograms_file(tmp_path, weight=1.0):
    from coffea.util import save

    from jetad.histograms import MJJ_EDGES, mjj_histogram

    h = mjj_histogram()
    centers = 0.5 * (MJJ_EDGES[1:] + MJJ_EDGES[:-1])
    turn_on = stats.norm.cdf(centers, 2300, 150)
    shape = turn_on * dijet_function(centers, np.array([1.0, 10.0, 5.0])) * np.diff(MJJ_EDGES)
    smooth = np.random.default_rng(5).poisson(1e5 * shape / shape.sum())
    bump = smooth + np.random.default_rng(6).poisson(
        600 * np.diff(stats.norm.cdf(MJJ_EDGES, 4000, 250))
    )
    for cut, values in (("none", bump), ("eff1", smooth), ("eff1_mjj", smooth)):
        h.fill(dataset="pseudo", model="vae", cut=cut, systematic="nominal",
               mjj=np.repeat(centers, values))
    qcd = np.random.default_rng(8).poisson(2e5 * shape / shape.sum())
    h.fill(dataset="qcd", model="vae", cut="none", systematic="nominal",
           mjj=np.repeat(centers, qcd), weight=np.full(qcd.sum(), weight))  # fmt: skip
    save({"mjj": h}, tmp_path / "histograms.coffea")
    return tmp_path / "histograms.coffea"


def _bumphunt(*arguments):
    from click.testing import CliRunner

    from jetad.cli import main

    return CliRunner().invoke(main, ["bumphunt", *map(str, arguments)])


def test_cli_on_a_histograms_file(tmp_path):
    path = _histograms_file(tmp_path, weight=0.05)
    cuts = ("--cut", "eff1", "--cut", "eff1_mjj", "--pass-fraction")
    result = _bumphunt(path, "--dataset", "pseudo", *cuts, "--toys", 20,
                       "--spurious-signal", "qcd", "--output", tmp_path / "bh")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bh" / "bumphunt.json").read_text())
    hunt = report["hunts"]["vae"]
    assert hunt["none"]["window"][0] < 4000 < hunt["none"]["window"][1]
    assert hunt["none"]["local_significance"] > 4 > hunt["eff1"]["global_significance"]
    assert hunt["none"]["fit"]["p_value"] > 0.01
    assert hunt["none"]["fit_range"][0] > 2300  # above the turn-on found in the spectrum
    # the cut removed the bump: its pass fraction dips at 4 TeV, which is no excess; only the
    # cuts that follow m_jj are hunted in their pass fraction
    fraction = hunt["eff1_mjj"]["pass_fraction"]
    assert fraction["global_significance"] < 2 and fraction["fit_range"][0] < 2300
    assert "pass_fraction" not in hunt["eff1"]
    assert report["spurious_signal"]["dataset"] == "qcd"
    assert report["spurious_signal"]["max_abs_ratio"] < 4
    for name in ("bumphunt_vae_none.png", "bumphunt_vae_eff1.png", "spurious_signal_qcd.png",
                 "pass_fraction_vae_eff1_mjj.png"):
        assert (tmp_path / "bh" / name).exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--dataset", "pseudo", "--cut", "eff7"), "no cut 'eff7'"),
        ((), "holds datasets ['pseudo', 'qcd']: choose the spectrum with --dataset"),
        (("--dataset", "signal"), "no dataset ['signal']"),
        (("--dataset", "pseudo", "--luminosity", 1000), "hold unit-weight events"),
    ],
)
def test_cli_bad_options_get_one_line(tmp_path, arguments, message):
    result = _bumphunt(_histograms_file(tmp_path), *arguments, "--output", tmp_path / "x")
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_cli_histogram_without_an_mjj_axis(tmp_path):
    import hist
    from coffea.util import save

    h = hist.Hist.new.StrCat(["d"], name="dataset").Reg(10, 0, 1, name="score").Weight()
    save({"mjj": h}, tmp_path / "odd.coffea")
    result = _bumphunt(tmp_path / "odd.coffea", "--output", tmp_path / "x")
    assert result.exit_code == 1 and "has no 'mjj' axis" in result.output


def test_json_is_strict_even_when_p0_overflows():
    result = bump_hunt(poisson(background(1e4), 4), n_toys=10)
    assert np.exp(result.fit.log_p0) == pytest.approx(result.fit.parameters[0])
    overflowing = dataclasses.replace(
        result.fit, parameters=(np.inf, *result.fit.parameters[1:]), log_p0=800.0
    )
    text = json.dumps(dataclasses.replace(result, fit=overflowing).to_dict(), allow_nan=False)
    assert json.loads(text)["fit"]["log_p0"] == 800.0


def test_a_region_hunts_only_its_windows_and_its_toys_search_as_many():
    """A bump far from the region is not what a region-restricted hunt reports, one inside is
    found as without the restriction, and fewer windows searched make the global Z larger."""
    expected = background(1e5)
    far = 0.5 * (gaussian_signal(EDGES, 6000.0, 1.0) / gaussian_signal(EDGES, 6000.0, 1.0).sum())
    bumped = poisson(expected + far * 12 * np.sqrt(expected[(MID > 5600) & (MID < 6400)].sum())
                     + signal_for(3.5, expected), 2)  # fmt: skip
    region = (MASS * 0.92, MASS * 1.08)
    everywhere = bump_hunt(bumped, n_toys=100, seed=1)
    restricted = bump_hunt(bumped, n_toys=100, seed=1, region=region)
    assert not everywhere.window[0] < MASS < everywhere.window[1]  # the far bump wins
    assert restricted.window[0] < MASS < restricted.window[1]
    for window in restricted.windows:
        assert region[0] <= 0.5 * (window.low + window.high) < region[1]
    assert np.median(restricted.toy_maxima) < np.median(everywhere.toy_maxima)
    with pytest.raises(ValueError, match="no window of"):
        bump_hunt(bumped, n_toys=0, region=(100.0, 200.0))


def test_a_reversed_region_is_refused_in_one_line():
    with pytest.raises(ValueError, match="low < high"):
        bump_hunt(poisson(background(1e5), 3), n_toys=0, region=(MASS * 1.08, MASS * 0.92))


def test_trials_corrected_is_sidak_and_calibrated():
    """The best of n independent tests, corrected, is a calibrated significance: on uniform
    p-values its tail above 2σ is the one-test 2.3%; for identical (fully correlated) tests
    it is conservative; one trial changes nothing."""
    from scipy import stats

    from jetad.bumphunt import trials_corrected

    assert trials_corrected(1.7, 1) == pytest.approx(1.7)
    p = 0.05
    assert stats.norm.sf(trials_corrected(stats.norm.isf(p), 2)) == pytest.approx(1 - 0.95**2)
    assert np.isnan(trials_corrected(np.nan, 4)) and trials_corrected(np.inf, 4) == np.inf
    with pytest.raises(ValueError, match="trials"):
        trials_corrected(1.0, 0)

    rng = np.random.default_rng(3)
    n_searches, n_tests = 20_000, 12
    best = stats.norm.isf(rng.uniform(size=(n_searches, n_tests))).max(axis=1)
    corrected = np.array([trials_corrected(z, n_tests) for z in best])
    tail, expected = np.mean(corrected > 2), stats.norm.sf(2)
    assert abs(tail - expected) < 4 * np.sqrt(expected / n_searches)
    assert np.mean(best > 2) > 0.2  # uncorrected, the best of 12 exceeds 2σ a fifth of the time
    same = stats.norm.isf(rng.uniform(size=n_searches))  # n identical tests: one test
    assert np.mean([trials_corrected(z, n_tests) > 2 for z in same]) < expected / 5


def test_search_significance_is_the_best_hunt_corrected():
    """A search's global Z: its most significant hunt (ties by the tiebreak, the local Z)
    corrected for the number of hunts; hunts without a global Z (NaN) are not counted, a
    p-value of 1 (−inf) is."""
    from jetad.bumphunt import search_significance, trials_corrected

    tests = {"a": 1.2, "b": 2.58, "c": 2.58, "d": np.nan, "e": -np.inf}
    found = search_significance(tests, tiebreak={"b": 3.1, "c": 4.2})
    assert (found.test, found.trials, found.best) == ("c", 4, 2.58)
    assert found.global_significance == trials_corrected(2.58, 4) < 2.58
    empty = search_significance({"x": np.nan})
    assert empty.test is None and empty.trials == 0 and np.isnan(empty.global_significance)


def test_demo_report_states_the_search_global_significance():
    """The report quotes the most significant of all hunts corrected for their number, not
    the best hunt's own global Z; skipped hunts and hunts without a global Z do not count."""
    from jetad.bumphunt import trials_corrected
    from jetad.demo_report import _search_significance

    hunts = {"vae": {
        "none": {"global_significance": 0.4},
        "eff10": {"global_significance": 1.2, "pass_fraction": {"global_significance": 2.1}},
        "eff1": {"skipped": "too few bins", "pass_fraction": {"skipped": "no fraction"}},
    }}  # fmt: skip
    text = _search_significance(hunts)
    assert "most significant hunt of 3 (vae eff10, pass fraction, global Z 2.10)" in text
    assert f"global significance is {trials_corrected(2.1, 3):.2f}" in text
    assert _search_significance({"vae": {"eff1": {"skipped": "x"}}}) == ""
