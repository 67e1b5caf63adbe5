"""The pass-fraction hunt on smooth dijet spectra: the exact likelihood ratio in the analytic
case, no false claims on background only (with a cut that sculpts m_jj), a kept signal found
where it sits, and bad input refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from jetad.bumphunt import Spectrum, dijet_function, pass_fraction_hunt
from jetad.bumphunt.ratio import _design, _scan, scan_range

EDGES = np.array([e for e in 1500 * 1.06 ** np.arange(30) if e < 9000])  # ~6% bins, as m_jj
MID, WIDTH = 0.5 * (EDGES[1:] + EDGES[:-1]), np.diff(EDGES)
MASS, RESOLUTION = 3500.0, 0.065


def background(total: float) -> np.ndarray:
    shape = dijet_function(MID, np.array([1.0, 10.0, 5.0])) * WIDTH
    return total * shape / shape.sum()


def sculpting_fraction(efficiency: float) -> np.ndarray:
    """A fixed cut's QCD pass fraction rising with m_jj, as the VAE's 1% cut does (0.7% in the
    lowest m_jj quartile, 1.7% in the highest): smooth in ln m_jj."""
    u = np.log(MID / 1000.0)
    return special.expit(special.logit(efficiency) + 0.9 * (u - u.mean()))


def spectra(total: float, efficiency: float, seed: int, signal: float = 0.0):
    """Passing and failing spectra: Poisson events per bin, each QCD event passing with the
    sculpting fraction, and ``signal`` Gaussian W′ events at MASS that all pass."""
    rng = np.random.default_rng(seed)
    qcd = rng.poisson(background(total))
    passed = rng.binomial(qcd, sculpting_fraction(efficiency))
    if signal:
        masses = rng.normal(MASS, RESOLUTION * MASS, rng.poisson(signal))
        passed = passed + np.histogram(masses, EDGES)[0]
        qcd = qcd + np.histogram(masses, EDGES)[0]
    return Spectrum.from_counts(passed, EDGES), Spectrum.from_counts(qcd - passed, EDGES)


def test_the_window_z_is_the_two_fraction_likelihood_ratio():
    """With a constant fraction (degree 0) a window's Z is the likelihood ratio of one
    fraction inside the window and one outside against one everywhere, by hand."""
    passed, failed = spectra(2e6, 0.01, seed=3, signal=150)
    k, n = passed.sumw, passed.sumw + failed.sumw
    used = scan_range(k, n)
    k, n = k[used], n[used]
    _, _, scans = _scan(k, n, _design(EDGES[used.start : used.stop + 1], 0), (3,))
    local = scans[0][1]

    def log_l(kk, nn):
        p = kk.sum() / nn.sum()
        return kk.sum() * np.log(p) + (nn.sum() - kk.sum()) * np.log1p(-p)

    for start in (2, 9, 10, 11, 15):
        inside = np.zeros(len(k), dtype=bool)
        inside[start : start + 3] = True
        ratio = 2 * (log_l(k[inside], n[inside]) + log_l(k[~inside], n[~inside]) - log_l(k, n))
        sign = np.sign(k[inside].sum() / n[inside].sum() - k.sum() / n.sum())
        assert local[start] == pytest.approx(sign * np.sqrt(ratio), rel=1e-6, abs=1e-6)


def test_background_only_claims_2_sigma_globally_in_at_most_5_percent():
    """100 background-only pairs of spectra, a cut keeping 1% with a fraction that doubles over
    the spectrum, each hunted with every width against the toys of one reference."""
    reference = pass_fraction_hunt(*spectra(2e6, 0.01, seed=999), n_toys=300, seed=1)
    maxima = np.array(reference.toy_maxima)
    local = np.array([pass_fraction_hunt(*spectra(2e6, 0.01, seed=s), n_toys=0)
                      .local_significance for s in range(100)])  # fmt: skip
    p_global = (1 + (maxima[None, :] >= local[:, None]).sum(axis=1)) / (1 + len(maxima))
    claims = np.mean(stats.norm.isf(p_global) > 2)
    assert claims <= 0.05, f"{claims:.1%} of background-only spectra claim > 2σ globally"
    assert 0.01 < reference.gof_p_value < 0.99
    assert np.median(local) < 2.5


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_background_only_claims_nothing(seed):
    result = pass_fraction_hunt(*spectra(2e6, 0.01, seed=seed), n_toys=20, seed=seed)
    assert result.global_significance < 2.0


def test_a_kept_signal_is_found_where_it_sits():
    """Every W′ event kept with 1% of 2M QCD: S/√B ≈ 5 within ±1σ after the cut. The
    pass-fraction hunt finds it in the right window with every width, beyond every toy.
    (Where the dijet-function fit of the kept events absorbs a signal, near the start of its
    range, is shown on generated events by ``python bench/search.py --ceiling-only``.)"""
    core = np.abs(MID - MASS) < RESOLUTION * MASS
    kept_core = np.sum(background(2e6)[core] * sculpting_fraction(0.01)[core])
    signal = 5 * np.sqrt(kept_core) / 0.68  # ±1σ holds 68% of the W′
    passed, failed = spectra(2e6, 0.01, seed=5, signal=signal)
    result = pass_fraction_hunt(passed, failed, n_toys=50)
    assert result.window[0] < MASS < result.window[1]
    assert result.local_significance > 3.5 and result.global_p_value == pytest.approx(1 / 51)
    for window in result.windows:
        assert window.low < MASS < window.high, window
    assert result.observed > result.expected
    assert result.to_dict()["window"] == list(result.window)


def test_rejects_weighted_or_mismatched_spectra():
    passed, failed = spectra(1e4, 0.1, seed=1)
    weighted = Spectrum(passed.sumw * 0.5, passed.sumw * 0.25, EDGES)
    with pytest.raises(ValueError, match="unit-weight"):
        pass_fraction_hunt(weighted, failed)
    with pytest.raises(ValueError, match="same m_jj bins"):
        pass_fraction_hunt(passed[:10], failed)
    with pytest.raises(ValueError, match="no event passes"):
        pass_fraction_hunt(Spectrum.from_counts(0 * passed.sumw, EDGES), failed)


def test_a_region_restricts_the_windows_and_the_toys():
    passed, failed = spectra(2e6, 0.01, seed=5, signal=150)
    region = (MASS * 0.92, MASS * 1.08)
    everywhere = pass_fraction_hunt(passed, failed, n_toys=50)
    restricted = pass_fraction_hunt(passed, failed, n_toys=50, region=region)
    assert restricted.window[0] < MASS < restricted.window[1]
    for window in restricted.windows:
        assert region[0] <= 0.5 * (window.low + window.high) < region[1]
    assert restricted.local_significance <= everywhere.local_significance
    assert np.median(restricted.toy_maxima) < np.median(everywhere.toy_maxima)
    with pytest.raises(ValueError, match="no window of"):
        pass_fraction_hunt(passed, failed, n_toys=0, region=(100.0, 200.0))
