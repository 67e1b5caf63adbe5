"""The bump hunt on smooth dijet spectra: fit quality, an injected bump, and no false claims."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from scipy import stats

from jetad.bumphunt import bump_hunt, dijet_function, fit_background

EDGES = np.array([e for e in 1500 * 1.06 ** np.arange(30) if e < 9000])  # ~6% bins, as m_jj
MID, WIDTH = 0.5 * (EDGES[1:] + EDGES[:-1]), np.diff(EDGES)


def background(total: float) -> np.ndarray:
    shape = dijet_function(MID, np.array([1.0, 10.0, 5.0])) * WIDTH
    return total * shape / shape.sum()


def test_fit_recovers_a_smooth_spectrum():
    counts = np.random.default_rng(3).poisson(background(1e6)).astype(float)
    fit = fit_background(counts, EDGES)
    assert fit.valid and len(fit.parameters) in (3, 4)
    assert 0.3 < fit.chi2_ndf < 2.0
    populated = background(1e6) > 100  # the far tail holds a handful of events
    np.testing.assert_allclose(
        np.array(fit.expected)[populated], background(1e6)[populated], rtol=0.03
    )


def test_finds_an_injected_gaussian_bump():
    signal = 150 * np.diff(stats.norm.cdf(EDGES, 3500, 175))
    expected = background(1e5)
    counts = np.random.default_rng(1).poisson(expected + signal).astype(float)
    result = bump_hunt(counts, EDGES, window_bins=3, n_toys=20)
    assert result.window[0] < 3500 < result.window[1]
    first = np.searchsorted(EDGES, result.window[0])
    window = slice(first, first + 3)
    asimov = signal[window].sum() / np.sqrt(expected[window].sum())  # ≈ 6
    assert abs(result.local_significance - asimov) < 2.0
    assert result.global_p_value == pytest.approx(1 / 21)  # beyond every toy
    assert result.to_dict()["fit"]["n_parameters"] == len(result.fit.parameters)


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_background_only_claims_nothing(seed):
    counts = np.random.default_rng(seed).poisson(background(1e5)).astype(float)
    result = bump_hunt(counts, EDGES, n_toys=20, seed=seed)
    assert result.global_significance < 2.0


def test_rejects_mismatched_input():
    with pytest.raises(ValueError, match="n bins and n \\+ 1 edges"):
        bump_hunt(np.ones(5), np.arange(5.0))
    with pytest.raises(ValueError, match="window_bins must lie in 1..5"):
        bump_hunt(np.ones(5), np.arange(6.0) * 1000 + 1500, window_bins=9)


def test_cli_on_a_histograms_file(tmp_path):
    import json

    from click.testing import CliRunner
    from coffea.util import save

    from jetad.cli import main
    from jetad.histograms import MJJ_EDGES, mjj_histogram

    h = mjj_histogram()
    centers = 0.5 * (MJJ_EDGES[1:] + MJJ_EDGES[:-1])
    shape = dijet_function(centers, np.array([1.0, 10.0, 5.0])) * np.diff(MJJ_EDGES)
    smooth = np.random.default_rng(5).poisson(1e5 * shape / shape.sum())
    bump = smooth + np.random.default_rng(6).poisson(
        300 * np.diff(stats.norm.cdf(MJJ_EDGES, 4000, 200))
    )
    for cut, values in (("none", bump), ("eff1", smooth)):
        h.fill(dataset="pseudo", model="vae", cut=cut, mjj=centers, weight=values / 1000.0)
    save({"mjj": h}, tmp_path / "histograms.coffea")
    result = CliRunner().invoke(
        main,
        [
            "bumphunt",
            str(tmp_path / "histograms.coffea"),
            "--cut",
            "eff1",
            "--toys",
            "20",
            "--mjj-min",
            "1500",
            "--output",
            str(tmp_path / "bh"),
        ],
    )
    assert result.exit_code == 0, result.output
    hunt = json.loads((tmp_path / "bh" / "bumphunt.json").read_text())["vae"]
    assert hunt["none"]["window"][0] < 4000 < hunt["none"]["window"][1]
    assert hunt["none"]["local_significance"] > 4 > hunt["eff1"]["global_significance"]
    assert (tmp_path / "bh" / "bumphunt_vae_none.png").exists()
    bad = CliRunner().invoke(
        main,
        [
            "bumphunt",
            str(tmp_path / "histograms.coffea"),
            "--cut",
            "eff7",
            "--output",
            str(tmp_path / "x"),
        ],
    )
    assert bad.exit_code == 1 and "no cut 'eff7'" in bad.output


def test_json_is_strict_even_when_p0_overflows():
    counts = np.random.default_rng(4).poisson(background(1e4)).astype(float)
    result = bump_hunt(counts, EDGES, n_toys=10)
    assert np.exp(result.fit.log_p0) == pytest.approx(result.fit.parameters[0])
    overflowing = dataclasses.replace(
        result.fit, parameters=(np.inf, *result.fit.parameters[1:]), log_p0=800.0
    )
    text = json.dumps(dataclasses.replace(result, fit=overflowing).to_dict(), allow_nan=False)
    assert json.loads(text)["fit"]["log_p0"] == 800.0
