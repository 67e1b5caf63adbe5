"""The dijet bump hunt: a smooth background fit of the m_jj spectrum and a sliding-window scan.

- **Spectrum.** A histogram's Σw and Σw² per bin (:class:`Spectrum`). Weighted bins enter the
  likelihood as scaled Poisson counts (Bohm & Zech, NIM A 748 (2014) 1): a bin of Σw with
  variance Σw² counts as n_eff = (Σw)²/Σw² events of weight s = Σw²/Σw, and the background μ
  (in Σw units) is compared as μ/s. Unit-weight data (Σw² = Σw) is exact
  Poisson, and scaling every weight by a luminosity changes nothing. The likelihood is the one of
  ``iminuit.cost.ExtendedBinnedNLL`` with ``(Σw, Σw²)``; it is written out here with its
  gradient because the toys fit it thousands of times (``bench/bumphunt.py`` prints both the
  speed and the agreement; ``tests/test_bumphunt.py`` checks the same minimum).
- **Background.** The dijet function (``../shared/REFERENCE.md`` §4)

      f(x) = p0 (1 − x)^p1 · x^−(p2 + p3 ln x + p4 ln² x),   x = m_jj / √s,  √s = 13 TeV,

  with 3, 4 or 5 parameters, integrated over each bin by Simpson's rule. A parameter is added
  only when it lowers −2 ln L by more than the 95% quantile of χ²(1) (Wilks' theorem).
- **Fit range.** From one bin above the maximum of dN/dm_jj (the end of the trigger and
  selection turn-on, found in the spectrum itself: :func:`fit_start`) to the last filled bin.
- **Scan.** Windows of every width in ``widths`` (bins; the 6% bins follow the m_jj resolution,
  so 2–6 bins cover about ±1 to ±3 σ) slide over the spectrum. A window's local Z tests a
  signal that raises the background over the window by a free fraction, with the dijet function
  free too: the score test at the background-only fit, asymptotically the profile likelihood
  ratio (``tests/test_bumphunt.py`` checks both agree), so a bump the function can absorb is not
  counted twice, and every window of every width costs one fit. The best window's
  signal-plus-background fit gives the fitted signal and the background under it. ``scan`` is
  the plain Poisson Z against a fixed background, as BumpHunter computes it.
- **Look-elsewhere effect.** The global significance is the fraction of background-only
  pseudo-experiments (Poisson toys of the fit, each refitted and scanned with every width) whose
  largest local Z is at least the observed one, as a one-sided Gaussian significance (clipped at
  0; with N toys it cannot exceed the significance of a p-value of 1/(N + 1)). The same toys give
  the fit's goodness-of-fit p-value: the fraction whose −2 ln L is at least the observed one.
- **Pass fraction.** After a tight anomaly cut, :func:`pass_fraction_hunt` (module
  :mod:`~jetad.bumphunt.ratio`) hunts in the fraction of each bin's events that the cut keeps,
  binomial given the bin's count, against a fraction smooth in ln m_jj: the failing events
  carry the spectrum's shape, so the few passing ones need not (the pass/fail estimate of
  the CMS anomaly-detection dijet search).
- **Spurious signal.** :func:`spurious_signal` fits background plus a Gaussian signal of the
  m_jj resolution to a background-only spectrum at each mass and reports the fitted signal over
  its error, as the CMS and ATLAS dijet searches do to show the function is flexible enough.

All m_jj values and bin edges are in GeV. The modules: :mod:`~jetad.bumphunt.spectrum`
(spectra, the dijet function), :mod:`~jetad.bumphunt.fit` (the background fit),
:mod:`~jetad.bumphunt.hunt` (the scan, the toys, the spurious signal) and
:mod:`~jetad.bumphunt.ratio` (the pass-fraction hunt).
"""

from jetad.bumphunt.fit import BackgroundFit, fit_background
from jetad.bumphunt.hunt import (
    BumpHunt,
    SearchSignificance,
    SpuriousSignal,
    Window,
    bump_hunt,
    scan,
    search_significance,
    spurious_signal,
    trials_corrected,
)
from jetad.bumphunt.ratio import PassFractionHunt, pass_fraction_hunt
from jetad.bumphunt.spectrum import (
    RESOLUTION,
    WIDTHS,
    MjjSpectra,
    Spectrum,
    dijet_function,
    fit_start,
    gaussian_signal,
    mjj_spectra,
)

__all__ = [
    "RESOLUTION",
    "WIDTHS",
    "BackgroundFit",
    "BumpHunt",
    "MjjSpectra",
    "PassFractionHunt",
    "SearchSignificance",
    "Spectrum",
    "SpuriousSignal",
    "Window",
    "bump_hunt",
    "dijet_function",
    "fit_background",
    "fit_start",
    "gaussian_signal",
    "mjj_spectra",
    "pass_fraction_hunt",
    "scan",
    "search_significance",
    "spurious_signal",
    "trials_corrected",
]
