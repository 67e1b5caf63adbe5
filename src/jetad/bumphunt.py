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
  so 2–6 bins cover about ±1 to ±3 σ) slide over the spectrum; each gets the asymptotic Poisson
  significance Z = √(2 (n ln(n/b) − (n − b))), signed by n − b. So that a signal does not pull
  the fit up under itself, a width's most significant window is masked and the background
  refitted without it before its final scan when its local p-value is below 0.01 and it has
  fitted bins on both sides (the ATLAS dijet searches' rule; a masked window at the edge of the
  range would be extrapolated, not interpolated).
- **Look-elsewhere effect.** The global significance is the fraction of background-only
  pseudo-experiments (Poisson toys of the fit, each refitted and scanned with every width) whose
  largest local Z is at least the observed one, as a one-sided Gaussian significance (clipped at
  0; with N toys it cannot exceed the significance of a p-value of 1/(N + 1)). The same toys give
  the fit's goodness-of-fit p-value: the fraction whose −2 ln L is at least the observed one.
- **Spurious signal.** :func:`spurious_signal` fits background plus a Gaussian signal of the
  m_jj resolution to a background-only spectrum at each mass and reports the fitted signal over
  its error, as the CMS and ATLAS dijet searches do to show the function is flexible enough.

All m_jj values and bin edges are in GeV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from iminuit import Minuit
from scipy import stats

__all__ = [
    "RESOLUTION",
    "WIDTHS",
    "BackgroundFit",
    "BumpHunt",
    "MjjSpectra",
    "Spectrum",
    "SpuriousSignal",
    "Window",
    "bump_hunt",
    "dijet_function",
    "fit_background",
    "fit_start",
    "gaussian_signal",
    "mjj_spectra",
    "scan",
    "spurious_signal",
    "window_variance",
]

SQRT_S = 13_000.0
WILKS_THRESHOLD = stats.chi2.ppf(0.95, df=1)
#: Relative m_jj resolution σ/m of the generated W′ → XY peak (core, from bench/bumphunt.py).
RESOLUTION = 0.065
#: Window widths scanned by default, in bins of the resolution-following binning.
WIDTHS = (2, 3, 4, 5, 6)
#: A window is masked and the background refitted without it when it leaves this many fitted
#: bins on each side.
MASK_MARGIN_BINS = 2
#: The spurious-signal test's masses need this many effective background events within ±1 σ.
MIN_EVENTS_IN_PEAK = 10


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A binned m_jj spectrum: Σw and Σw² per bin and the bin edges (GeV)."""

    sumw: np.ndarray
    sumw2: np.ndarray
    edges: np.ndarray

    def __post_init__(self):
        sumw, sumw2, edges = (
            np.asarray(a, dtype=float) for a in (self.sumw, self.sumw2, self.edges)
        )
        if sumw.ndim != 1 or sumw2.shape != sumw.shape or len(edges) != len(sumw) + 1:
            raise ValueError(
                f"expected counts of n bins and n + 1 edges, got {sumw.shape}, {edges.shape}"
            )
        if np.any(np.diff(edges) <= 0) or np.any(sumw < 0) or np.any(sumw2 < 0):
            raise ValueError("a spectrum needs increasing edges and non-negative Σw, Σw²")
        object.__setattr__(self, "sumw", sumw)
        object.__setattr__(self, "sumw2", sumw2)
        object.__setattr__(self, "edges", edges)

    @classmethod
    def from_counts(cls, counts, edges) -> Spectrum:
        """Unit-weight counts (data or pseudo-data): Σw² = Σw."""
        return cls(np.asarray(counts, float), np.asarray(counts, float), edges)

    @classmethod
    def from_hist(cls, histogram) -> Spectrum:
        """A one-axis ``hist.Hist``; ``Weight`` storage gives Σw², plain counts are unit weight."""
        edges = histogram.axes[0].edges
        variances = histogram.variances()
        sumw = histogram.values()
        return cls(sumw, sumw if variances is None else variances, edges)

    @property
    def unit_weight(self) -> bool:
        """Whether every bin holds unit-weight events (Σw² = Σw)."""
        return bool(np.allclose(self.sumw2, self.sumw, rtol=1e-9, atol=1e-12))

    def scale(self) -> np.ndarray:
        """The weight s = Σw²/Σw of each bin's effective events; empty bins take their filled
        neighbours' (interpolated in bin index)."""
        filled = self.sumw > 0
        if not filled.any():
            return np.ones_like(self.sumw)
        index = np.arange(len(self.sumw))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.sumw2 / self.sumw
        return np.interp(index, index[filled], ratio[filled])

    def effective(self) -> np.ndarray:
        """The effective number of events (Σw)²/Σw² per bin, Σw itself for unit weights."""
        return self.sumw / self.scale()

    def __getitem__(self, bins: slice) -> Spectrum:
        """The bins ``bins`` (a slice with step 1) with their edges."""
        start, stop, _ = bins.indices(len(self.sumw))
        return Spectrum(self.sumw[bins], self.sumw2[bins], self.edges[start : stop + 1])

    def __len__(self) -> int:
        return len(self.sumw)


def dijet_function(mjj: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """The dijet function at ``mjj`` (GeV) for 3, 4 or 5 parameters (events per GeV)."""
    x = np.asarray(mjj, dtype=float) / SQRT_S
    p = np.zeros(5)
    p[: len(parameters)] = parameters
    log_x = np.log(x)
    return p[0] * (1 - x) ** p[1] * x ** -(p[2] + p[3] * log_x + p[4] * log_x**2)


def gaussian_signal(edges: np.ndarray, mass: float, events: float, resolution: float = RESOLUTION):
    """Expected counts per bin of ``events`` signal events in a Gaussian peak at ``mass`` (GeV)
    with σ = ``resolution`` × mass."""
    return events * np.diff(stats.norm.cdf(np.asarray(edges, float), mass, resolution * mass))


def _design(mjj: np.ndarray) -> np.ndarray:
    """Columns of ln f = ln p0 + p1 ln(1 − x) − p2 ln x − p3 ln² x − p4 ln³ x, linear in
    (ln p0, p1, …, p4)."""
    x = np.asarray(mjj, dtype=float) / SQRT_S
    log_x = np.log(x)
    return np.column_stack([np.ones_like(x), np.log1p(-x), -log_x, -(log_x**2), -(log_x**3)])


class _Integrator:
    """Expected counts per bin by Simpson's rule, and their first and second derivatives in
    (ln p0, p1, …), with the design matrices computed once."""

    def __init__(self, edges: np.ndarray):
        low, high = edges[:-1], edges[1:]
        self.designs = [_design(m) for m in (low, 0.5 * (low + high), high)]
        self.weights = [w * (high - low) / 6 for w in (1, 4, 1)]

    def terms(self, log_parameters: np.ndarray) -> list[np.ndarray]:
        """Simpson's three terms per bin; their sum is the expected count."""
        n = len(log_parameters)
        return [
            w * np.exp(d[:, :n] @ log_parameters)
            for w, d in zip(self.weights, self.designs, strict=True)
        ]

    def __call__(self, log_parameters: np.ndarray) -> np.ndarray:
        low, mid, high = self.terms(log_parameters)
        return low + mid + high

    def jacobian(self, log_parameters: np.ndarray) -> np.ndarray:
        """d(expected count)/d(ln p0, p1, …) per bin (bins × parameters)."""
        n = len(log_parameters)
        terms = self.terms(log_parameters)
        return sum(t[:, None] * d[:, :n] for t, d in zip(terms, self.designs, strict=True))


@dataclass(frozen=True)
class BackgroundFit:
    """A fitted background: parameters (p0 in events/GeV, p1…), ln p0 (fitted, finite where
    p0 overflows), −2 ln L against the saturated model (``deviance``, asymptotically χ²(ndf)),
    Pearson's χ², the number of degrees of freedom, the expected Σw per bin and the covariance
    of (ln p0, p1, …) (twice the inverse Hessian of the deviance)."""

    parameters: tuple[float, ...]
    log_p0: float
    deviance: float
    chi2: float
    ndf: int
    expected: tuple[float, ...]
    valid: bool
    covariance: tuple[tuple[float, ...], ...]

    @property
    def chi2_ndf(self) -> float:
        return self.chi2 / self.ndf if self.ndf > 0 else float("nan")

    @property
    def p_value(self) -> float:
        """The asymptotic goodness-of-fit p-value of the deviance (χ²(ndf))."""
        return float(stats.chi2.sf(self.deviance, self.ndf)) if self.ndf > 0 else float("nan")


class _Likelihood:
    """−2 ln L of effective counts ``k`` of weight ``s`` against a background μ (Σw units):
    2 Σ [μ/s − k + k ln(k s / μ)] over the ``used`` bins, with its gradient and Hessian in the
    dijet function's (ln p0, p1, …)."""

    def __init__(self, k: np.ndarray, s: np.ndarray, integrate: _Integrator, used: np.ndarray):
        self.k, self.s, self.integrate, self.used = k, s, integrate, used
        self.log_k = np.log(np.where(k > 0, k, 1.0))

    def deviance_of(self, mu: np.ndarray) -> float:
        nu = mu / self.s
        terms = nu - self.k + self.k * (self.log_k - np.log(nu))
        return float(2 * np.sum(terms[self.used]))

    def __call__(self, values) -> float:
        with np.errstate(all="ignore"):
            mu = self.integrate(np.asarray(values))
            if not np.all(np.isfinite(mu[self.used])) or np.any(mu[self.used] <= 0):
                return 1e300
            return self.deviance_of(mu)

    def derivatives(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradient and the Hessian of the deviance at ``values``."""
        n = len(values)
        terms = self.integrate.terms(values)
        designs = [d[:, :n] for d in self.integrate.designs]
        mu = sum(terms)
        dmu = sum(t[:, None] * d for t, d in zip(terms, designs, strict=True))
        residual = np.where(self.used, 2 * (1 / self.s - self.k / mu), 0.0)
        curvature = np.where(self.used, 2 * self.k / mu**2, 0.0)
        hessian = (dmu * curvature[:, None]).T @ dmu
        hessian += sum(
            (d * (residual * t)[:, None]).T @ d for t, d in zip(terms, designs, strict=True)
        )
        return residual @ dmu, hessian


def _newton(likelihood: _Likelihood, start: np.ndarray, iterations: int = 50):
    """Newton's method with backtracking on the deviance: the minimum and its value, or None
    when the Hessian is not positive definite or it does not converge (Minuit then takes
    over). The deviance is smooth and nearly quadratic in (ln p0, p1, …), so a handful of steps
    reach the minimum; ``bench/bumphunt.py`` prints its speed against Minuit's and
    ``tests/test_bumphunt.py`` checks that both find the same minimum."""
    values, value = np.asarray(start, float), likelihood(start)
    for _ in range(iterations):
        with np.errstate(all="ignore"):
            gradient, hessian = likelihood.derivatives(values)
        try:
            step = -np.linalg.solve(hessian, gradient)
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            return None
        decrement = -gradient @ step
        if not np.isfinite(decrement):
            return None
        if decrement < 1e-9:
            return values, value
        for _ in range(30):
            trial = likelihood(values + step)
            if trial <= value:
                break
            step /= 2
        else:
            return None
        values, value = values + step, trial
    return None


def _starting_values(k: np.ndarray, s: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """Weighted linear least squares of ln(density) on the log-linear dijet function."""
    mid = 0.5 * (edges[:-1] + edges[1:])
    filled = k > 0
    design = _design(mid[filled])[:, :n]
    target = np.log(k[filled] * s[filled] / np.diff(edges)[filled])
    weights = np.sqrt(k[filled])
    solution, *_ = np.linalg.lstsq(design * weights[:, None], target * weights, rcond=None)
    return solution


def _fit(
    k: np.ndarray, s: np.ndarray, edges: np.ndarray, start: np.ndarray, used: np.ndarray
) -> BackgroundFit:
    integrate = _Integrator(edges)
    likelihood = _Likelihood(k, s, integrate, used)
    minimum = _newton(likelihood, start)
    if minimum is None:
        names = ["log_p0", *(f"p{i}" for i in range(1, len(start)))]
        minuit = Minuit(likelihood, start, name=names)
        minuit.errordef = Minuit.LEAST_SQUARES  # the deviance is −2 ln L: Δ = 1 is one σ
        minuit.strategy = 2
        minuit.migrad(ncall=20_000)
        if not minuit.valid:
            minuit.simplex().migrad(ncall=20_000)
        minimum = np.array(minuit.values), minuit.fval
        valid = bool(minuit.valid)
    else:
        valid = True
    values, deviance = minimum
    with np.errstate(all="ignore"):
        hessian = likelihood.derivatives(values)[1]
    covariance = 2 * np.linalg.pinv(hessian) if np.all(np.isfinite(hessian)) else hessian * np.nan
    with np.errstate(over="ignore"):  # p0 can exceed 1e308 when p2, p3 are large: keep ln p0
        parameters = np.array([np.exp(values[0]), *values[1:]])
    expected = integrate(values)
    nu = expected / s
    fitted = used & (nu > 0)
    chi2 = float(np.sum((k[fitted] - nu[fitted]) ** 2 / nu[fitted]))
    return BackgroundFit(
        parameters=tuple(float(v) for v in parameters),
        log_p0=float(values[0]),
        deviance=float(deviance),
        chi2=chi2,
        ndf=int(np.count_nonzero(k[used]) - len(start)),
        expected=tuple(float(v) for v in expected),
        valid=valid,
        covariance=tuple(tuple(float(v) for v in row) for row in covariance),
    )


def _fit_effective(
    k: np.ndarray,
    s: np.ndarray,
    edges: np.ndarray,
    masked: slice | None = None,
    start: np.ndarray | None = None,
) -> BackgroundFit:
    used = np.ones(len(k), dtype=bool)
    if masked is not None:
        used[masked] = False
    if start is None:
        start = _starting_values(np.where(used, k, 0.0), s, edges, 3)
    best = _fit(k, s, edges, start[:3], used)
    for n in (4, 5):
        previous = np.array([best.log_p0, *best.parameters[1:]])
        guess = start[:n] if len(start) >= n else np.append(previous, 0.0)
        candidate = _fit(k, s, edges, guess, used)
        if not (candidate.valid and best.deviance - candidate.deviance > WILKS_THRESHOLD):
            break
        best = candidate
    return best


def fit_background(spectrum: Spectrum, masked: slice | None = None) -> BackgroundFit:
    """The dijet-function fit with 3, 4 or 5 parameters, chosen by Wilks' test.

    ``masked`` bins (a slice) are left out of the likelihood, e.g. a candidate signal window.
    """
    return _fit_effective(spectrum.effective(), spectrum.scale(), spectrum.edges, masked)


def fit_start(spectrum: Spectrum, margin_bins: int = 1) -> int:
    """The first bin of the fit range: ``margin_bins`` above the bin where dN/dm_jj peaks, so
    that the fit starts above the turn-on whatever the selection or the anomaly cut."""
    density = spectrum.sumw / np.diff(spectrum.edges)
    return min(int(np.argmax(density)) + 1 + margin_bins, len(spectrum) - 1)


def scan(
    counts: np.ndarray, expected: np.ndarray, window_bins: int, variance: np.ndarray | None = None
) -> np.ndarray:
    """Signed local significance of every window of ``window_bins`` adjacent bins, for Poisson
    ``counts`` against ``expected`` (both effective events), optionally with the variance of
    each window's expectation (the fit's uncertainty): the asymptotic profile-likelihood
    significance of a Poisson count with an uncertain background (Cowan, Cranmer, Gross,
    Vitells, EPJC 71 (2011) 1554; the ATLAS Z_A)

        Z² = 2 [n ln(n (b + σ²) / (b² + n σ²)) − (b²/σ²) ln(1 + σ² (n − b) / (b (b + σ²)))],

    which is Z² = 2 (n ln(n/b) − (n − b)) for σ = 0."""
    kernel = np.ones(window_bins)
    n = np.convolve(counts, kernel, mode="valid")
    b = np.maximum(np.convolve(expected, kernel, mode="valid"), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 2 * (np.where(n > 0, n * np.log(n / b), 0.0) - (n - b))
        if variance is not None:
            v = np.maximum(np.asarray(variance, float), 0.0)
            uncertain = v > 1e-9 * b
            vb = np.where(uncertain, v, 1.0)
            with_sigma = 2 * (
                np.where(n > 0, n * np.log(n * (b + vb) / (b**2 + n * vb)), 0.0)
                - b**2 / vb * np.log1p(vb * (n - b) / (b * (b + vb)))
            )
            q = np.where(uncertain, with_sigma, q)
    return np.sign(n - b) * np.sqrt(np.maximum(q, 0.0))


def window_variance(
    fit: BackgroundFit, edges: np.ndarray, scale: np.ndarray, window_bins: int
) -> np.ndarray:
    """The variance of the fitted background (effective events) in every window of
    ``window_bins`` bins, propagated from the fit's covariance."""
    values = np.array([fit.log_p0, *fit.parameters[1:]])
    jacobian = _Integrator(edges).jacobian(values) / scale[:, None]
    kernel = np.ones(window_bins)
    windows = np.column_stack([np.convolve(c, kernel, mode="valid") for c in jacobian.T])
    return np.einsum("wp,pq,wq->w", windows, np.array(fit.covariance), windows)


@dataclass(frozen=True)
class Window:
    """The most significant window of one width after its masked refit."""

    width_bins: int
    low: float
    high: float
    local_significance: float
    start_bin: int
    scan: tuple[float, ...]


def _hunt(k: np.ndarray, s: np.ndarray, edges: np.ndarray, widths: Sequence[int]):
    """The background-only fit, then for each width its best window; a window with local
    p < 0.01 that has fitted bins on both sides is masked and the background refitted without
    it (started from the background-only fit) before the final scan, as in the ATLAS dijet
    searches. A window at the edge of the range is never masked: the refit would extrapolate."""
    first = _fit_effective(k, s, edges)
    first_nu = np.array(first.expected) / s
    start = np.array([first.log_p0, *first.parameters[1:]])
    windows, fits = [], []
    for width in widths:
        local = scan(k, first_nu, width, window_variance(first, edges, s, width))
        best, fit = int(np.argmax(local)), first
        interior = MASK_MARGIN_BINS <= best <= len(k) - width - MASK_MARGIN_BINS
        if interior:
            used = np.ones(len(k), dtype=bool)
            used[best : best + width] = False
            fit = _fit(k, s, edges, start, used)  # the parameters the whole spectrum needed
            local = scan(k, np.array(fit.expected) / s, width,
                         window_variance(fit, edges, s, width))  # fmt: skip
            best = int(np.argmax(local))
        windows.append(Window(width, float(edges[best]), float(edges[best + width]),
                              float(local[best]), best, tuple(local.tolist())))  # fmt: skip
        fits.append(fit)
    return first, windows, fits


@dataclass(frozen=True)
class BumpHunt:
    """The result of :func:`bump_hunt`, JSON-ready via :meth:`to_dict`.

    ``fit`` is the background-only fit of the whole range (its goodness of fit:
    ``fit.p_value`` asymptotically, ``gof_p_value`` from the toys); ``masked_fit`` the refit
    without the best window, against which ``observed`` and ``expected`` (Σw) are computed;
    ``windows`` holds each width's best window and its scan (local Z of every position);
    ``toy_maxima`` the largest local Z of each toy. Without toys the global significance and
    the toys' p-value are NaN.
    """

    window: tuple[float, float]
    width_bins: int
    fit_range: tuple[float, float]
    local_significance: float
    global_significance: float
    global_p_value: float
    gof_p_value: float
    n_toys: int
    observed: float
    expected: float
    fit: BackgroundFit
    masked_fit: BackgroundFit
    windows: tuple[Window, ...]
    toy_maxima: tuple[float, ...]

    def to_dict(self) -> dict:
        """Plain types for strict JSON: a NaN or infinite number (χ²/ndf without degrees of
        freedom, a p0 beyond 1e308, whose ln p0 is kept) becomes None."""
        out = asdict(self)
        for name in ("fit", "masked_fit"):
            fit = getattr(self, name)
            out[name].update(chi2_ndf=fit.chi2_ndf, p_value=fit.p_value,
                             n_parameters=len(fit.parameters))  # fmt: skip
        return _finite_or_none(out)


def _finite_or_none(value):
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _check_widths(widths: Sequence[int], n_bins: int) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1 or max(widths) > n_bins - 3:
        raise ValueError(
            f"window widths must lie in 1..{n_bins - 3} bins (the fit keeps 3 bins outside the "
            f"window for its 3 parameters), got {widths}"
        )
    return widths


def bump_hunt(
    spectrum: Spectrum, widths: Sequence[int] = WIDTHS, n_toys: int = 200, seed: int = 0
) -> BumpHunt:
    """Fit the background, scan for the most significant excess with every window width, and
    correct for the look-elsewhere effect (every position and width) with ``n_toys``
    background-only pseudo-experiments.

    Args:
        spectrum: the m_jj spectrum over the fit range (see :func:`fit_start`).
        widths: window widths in bins.
        n_toys: pseudo-experiments for the global significance and the goodness of fit.
        seed: the toys' random seed.
    """
    widths = _check_widths(widths, len(spectrum))
    k, s, edges = spectrum.effective(), spectrum.scale(), spectrum.edges
    fit, windows, fits = _hunt(k, s, edges, widths)
    chosen = int(np.argmax([w.local_significance for w in windows]))
    best, masked_fit = windows[chosen], fits[chosen]

    nu = np.array(fit.expected) / s
    rng = np.random.default_rng(seed)
    maxima, deviances = np.empty(n_toys), np.empty(n_toys)
    for t in range(n_toys):
        toy_fit, toy_windows, _ = _hunt(rng.poisson(nu).astype(float), s, edges, widths)
        maxima[t] = max(w.local_significance for w in toy_windows)
        deviances[t] = toy_fit.deviance
    p_global = (1 + np.sum(maxima >= best.local_significance)) / (1 + n_toys) if n_toys else np.nan
    window = slice(best.start_bin, best.start_bin + best.width_bins)
    return BumpHunt(
        window=(best.low, best.high),
        width_bins=best.width_bins,
        fit_range=(float(edges[0]), float(edges[-1])),
        local_significance=best.local_significance,
        global_significance=float(np.clip(stats.norm.isf(p_global), 0.0, None)),
        global_p_value=float(p_global),
        gof_p_value=float((1 + np.sum(deviances >= fit.deviance)) / (1 + n_toys))
        if n_toys
        else np.nan,
        toy_maxima=tuple(maxima.tolist()),
        n_toys=n_toys,
        observed=float(spectrum.sumw[window].sum()),
        expected=float(np.sum(masked_fit.expected[window])),
        fit=fit,
        masked_fit=masked_fit,
        windows=tuple(windows),
    )


class _SignalPlusBackground:
    """−2 ln L of the dijet function (all but the last value) plus the last value × ``shape``."""

    def __init__(self, likelihood: _Likelihood, shape: np.ndarray):
        self.likelihood, self.shape = likelihood, shape

    def __call__(self, values) -> float:
        with np.errstate(all="ignore"):
            mu = self.likelihood.integrate(np.asarray(values[:-1])) + values[-1] * self.shape
            if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
                return 1e300
            return self.likelihood.deviance_of(mu)


@dataclass(frozen=True)
class SpuriousSignal:
    """Signal fitted to a background-only spectrum at each mass (GeV): the fitted Σw of a
    Gaussian of the m_jj resolution, its error, and their ratio."""

    masses: tuple[float, ...]
    signal: tuple[float, ...]
    error: tuple[float, ...]
    n_parameters: int

    @property
    def ratio(self) -> np.ndarray:
        return np.array(self.signal) / np.array(self.error)

    @property
    def max_abs_ratio(self) -> float:
        return float(np.max(np.abs(self.ratio)))

    def to_dict(self) -> dict:
        return _finite_or_none({**asdict(self), "ratio": self.ratio.tolist(),
                                "max_abs_ratio": self.max_abs_ratio})  # fmt: skip


def spurious_signal(
    spectrum: Spectrum, masses: Sequence[float] | None = None, resolution: float = RESOLUTION
) -> SpuriousSignal:
    """Fit background + μ · Gaussian(mass, resolution × mass) at each mass (default: every bin
    centre at least 2 σ inside the range with at least ``MIN_EVENTS_IN_PEAK`` effective events
    within ±1 σ) to a background-only ``spectrum``. The background has
    the number of parameters the background-only fit chose; μ may be negative. An unbiased
    function gives μ/σ_μ of mean 0 and spread 1 on smooth toys; the CMS and ATLAS dijet searches
    ask the fitted μ to stay well below its error on the simulated background."""
    k, s, edges = spectrum.effective(), spectrum.scale(), spectrum.edges
    background = fit_background(spectrum)
    start = np.array([background.log_p0, *background.parameters[1:]])
    if masses is None:
        centres = 0.5 * (edges[:-1] + edges[1:])
        cumulative = np.concatenate([[0.0], np.cumsum(k)])
        within = np.interp(centres * (1 + resolution), edges, cumulative) - np.interp(
            centres * (1 - resolution), edges, cumulative
        )
        inside = (centres * (1 - 2 * resolution) > edges[0]) & (
            centres * (1 + 2 * resolution) < edges[-1]
        )
        masses = centres[inside & (within >= MIN_EVENTS_IN_PEAK)]
    integrate = _Integrator(edges)
    used = np.ones(len(k), dtype=bool)
    fitted, errors = [], []
    for mass in masses:
        deviance = _SignalPlusBackground(
            _Likelihood(k, s, integrate, used), gaussian_signal(edges, mass, 1.0, resolution)
        )
        minuit = Minuit(deviance, np.append(start, 0.0))
        minuit.errordef = Minuit.LEAST_SQUARES
        minuit.migrad(ncall=20_000)
        minuit.hesse()
        fitted.append(float(minuit.values[-1]))
        errors.append(float(minuit.errors[-1]))
    return SpuriousSignal(tuple(float(m) for m in masses), tuple(fitted), tuple(errors),
                          len(background.parameters))  # fmt: skip


@dataclass(frozen=True)
class MjjSpectra:
    """The m_jj spectra of a run output (``histograms.coffea``) summed over ``datasets`` and
    scaled by ``luminosity`` (pb⁻¹; Σw by L, Σw² by L²), per model and cut."""

    histogram: object
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    luminosity: float

    def spectrum(self, model: str, cut: str) -> Spectrum:
        selected = self.histogram[{"model": model, "cut": cut}]
        summed = sum(selected[{"dataset": d}] for d in self.datasets)
        spectrum = Spectrum.from_hist(summed)
        return Spectrum(spectrum.sumw * self.luminosity, spectrum.sumw2 * self.luminosity**2,
                        spectrum.edges)  # fmt: skip

    def fit_range(
        self, model: str, cut: str, mjj_min: float | None, widest: int
    ) -> tuple[Spectrum | None, str]:
        """The spectrum from ``mjj_min`` (GeV; by default :func:`fit_start`) to its last filled
        bin, or None and the reason when too few bins are filled for the fit and the widest
        window."""
        spectrum = self.spectrum(model, cut)
        first = (
            fit_start(spectrum)
            if mjj_min is None
            else int(np.searchsorted(spectrum.edges, mjj_min))
        )
        filled = np.nonzero(spectrum.sumw[first:])[0]
        needed = max(8, widest + 3)
        if len(filled) < needed:
            low = spectrum.edges[min(first, len(spectrum) - 1)]
            return None, f"fewer than {needed} filled m_jj bins above {low:.0f} GeV"
        return spectrum[first : first + int(filled[-1]) + 1], ""

    def between(self, model: str, cut: str, low: float, high: float) -> Spectrum:
        """The spectrum's bins between the edges ``low`` and ``high`` (GeV)."""
        spectrum = self.spectrum(model, cut)
        first, last = np.searchsorted(spectrum.edges, [low, high])
        return spectrum[int(first) : int(last)]


def mjj_spectra(output: dict, path, datasets: Sequence[str], cuts: Sequence[str],
                luminosity: float | None = 1.0) -> MjjSpectra:  # fmt: skip
    """The m_jj spectra of the run output ``output`` read from ``path``, checked: one-line
    ValueErrors name a missing m_jj histogram or axis, an unknown dataset or cut, a file of
    several datasets without a choice, and a luminosity given for unit-weight data.
    ``luminosity=None`` leaves the weights as they are."""
    histogram = output.get("mjj")
    if histogram is None:
        raise ValueError(f"{path} has no m_jj histogram ('mjj'); it holds {sorted(output)}")
    axes = [axis.name for axis in histogram.axes]
    for needed in ("mjj", "dataset", "model", "cut"):
        if needed not in axes:
            raise ValueError(f"the 'mjj' histogram of {path} has no {needed!r} axis: {axes}")
    available = list(histogram.axes["dataset"])
    if not datasets:
        if len(available) != 1:
            raise ValueError(
                f"{path} holds datasets {available}: choose the spectrum with --dataset "
                "(signal simulation is never summed into data unasked)"
            )
        datasets = available
    unknown = [d for d in datasets if d not in available]
    if unknown:
        raise ValueError(f"no dataset {unknown} in {path}; available: {available}")
    cut_names = list(histogram.axes["cut"])
    for cut in ("none", *cuts):
        if cut not in cut_names:
            raise ValueError(f"no cut {cut!r} in {path}; available: {cut_names}")
    spectra = MjjSpectra(histogram, tuple(datasets), tuple(histogram.axes["model"]), 1.0)
    if luminosity is None or luminosity == 1.0:
        return spectra
    if spectra.spectrum(spectra.models[0], "none").unit_weight:
        raise ValueError(
            f"datasets {list(datasets)} of {path} hold unit-weight events (data or pseudo-data "
            "without a cross-section): --luminosity scales only simulation; leave it at 1"
        )
    return MjjSpectra(histogram, tuple(datasets), spectra.models, float(luminosity))
