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
]

SQRT_S = 13_000.0
WILKS_THRESHOLD = stats.chi2.ppf(0.95, df=1)
#: Relative m_jj resolution σ/m of the generated W′ → XY peak (core, from bench/bumphunt.py).
RESOLUTION = 0.065
#: Window widths scanned by default, in bins of the resolution-following binning.
WIDTHS = (2, 3, 4, 5, 6)
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
    """−2 ln L of effective counts ``k`` of weight ``s`` against an expectation μ (Σw units):
    2 Σ [μ/s − k + k ln(k s / μ)] over the ``used`` bins, with its gradient and Hessian. μ is
    the dijet function of (ln p0, p1, …), plus, with a signal ``template`` (Σw per bin), the
    last value times the template."""

    def __init__(
        self,
        k: np.ndarray,
        s: np.ndarray,
        integrate: _Integrator,
        used: np.ndarray,
        template: np.ndarray | None = None,
    ):
        self.k, self.s, self.integrate, self.used = k, s, integrate, used
        self.template = template
        self.log_k = np.log(np.where(k > 0, k, 1.0))

    def split(self, values) -> tuple[np.ndarray, float]:
        """The dijet-function values and the signal strength (0 without a template)."""
        values = np.asarray(values, dtype=float)
        return (values, 0.0) if self.template is None else (values[:-1], float(values[-1]))

    def expected(self, values) -> np.ndarray:
        background, strength = self.split(values)
        mu = self.integrate(background)
        return mu if self.template is None else mu + strength * self.template

    def deviance_of(self, mu: np.ndarray) -> float:
        nu = mu / self.s
        terms = nu - self.k + self.k * (self.log_k - np.log(nu))
        return float(2 * np.sum(terms[self.used]))

    def __call__(self, values) -> float:
        with np.errstate(all="ignore"):
            mu = self.expected(values)
            if not np.all(np.isfinite(mu[self.used])) or np.any(mu[self.used] <= 0):
                return 1e300
            return self.deviance_of(mu)

    def derivatives(self, values) -> tuple[np.ndarray, np.ndarray]:
        """The gradient and the Hessian of the deviance at ``values``."""
        background, strength = self.split(values)
        n = len(background)
        terms = self.integrate.terms(background)
        designs = [d[:, :n] for d in self.integrate.designs]
        mu = sum(terms)
        dmu = sum(t[:, None] * d for t, d in zip(terms, designs, strict=True))
        if self.template is not None:
            mu = mu + strength * self.template
            dmu = np.column_stack([dmu, self.template])
        residual = np.where(self.used, 2 * (1 / self.s - self.k / mu), 0.0)
        curvature = np.where(self.used, 2 * self.k / mu**2, 0.0)
        hessian = (dmu * curvature[:, None]).T @ dmu
        hessian[:n, :n] += sum(
            (d * (residual * t)[:, None]).T @ d for t, d in zip(terms, designs, strict=True)
        )
        return residual @ dmu, hessian


def _newton(likelihood: _Likelihood, start: np.ndarray, iterations: int = 100):
    """Newton's method with Levenberg–Marquardt damping where the Hessian is not positive
    definite, and backtracking on the deviance: the minimum and its value, or None when it does
    not converge (Minuit then takes over). The deviance is smooth and nearly quadratic in
    (ln p0, p1, …), so a handful of steps reach the minimum; ``bench/bumphunt.py`` prints its
    speed against Minuit's and ``tests/test_bumphunt.py`` checks that both find the same
    minimum."""
    values, value = np.asarray(start, float), likelihood(start)
    for _ in range(iterations):
        with np.errstate(all="ignore"):
            gradient, hessian = likelihood.derivatives(values)
        if not (np.all(np.isfinite(gradient)) and np.all(np.isfinite(hessian))):
            return None
        step = _damped_step(gradient, hessian)
        decrement = -gradient @ step
        if decrement < 1e-9:
            return values, value
        for _ in range(40):
            trial = likelihood(values + step)
            if trial <= value:
                break
            step /= 2
        else:
            return None
        values, value = values + step, trial
    return None


def _damped_step(gradient: np.ndarray, hessian: np.ndarray) -> np.ndarray:
    """−(H + λ diag H)⁻¹ g with the smallest λ in (0, 1e-6, 1e-4, …) that makes the matrix
    positive definite (a descent direction)."""
    diagonal = np.diag(np.abs(np.diag(hessian)) + 1e-12)
    for damping in (0.0, *10.0 ** np.arange(-6, 7, 2)):
        matrix = hessian + damping * diagonal
        try:
            factor = np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            continue
        return -np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))
    return -gradient / np.diag(diagonal)


def _starting_values(k: np.ndarray, s: np.ndarray, edges: np.ndarray, n: int) -> np.ndarray:
    """Weighted linear least squares of ln(density) on the log-linear dijet function."""
    mid = 0.5 * (edges[:-1] + edges[1:])
    filled = k > 0
    design = _design(mid[filled])[:, :n]
    target = np.log(k[filled] * s[filled] / np.diff(edges)[filled])
    weights = np.sqrt(k[filled])
    solution, *_ = np.linalg.lstsq(design * weights[:, None], target * weights, rcond=None)
    return solution


def _minimize(likelihood: _Likelihood, start: np.ndarray):
    """The minimum of ``likelihood``: its values, −2 ln L, covariance (twice the inverse
    Hessian) and whether it converged; Newton's method, Minuit where Newton fails."""
    minimum, valid = _newton(likelihood, start), True
    if minimum is None:
        minuit = Minuit(likelihood, start)
        minuit.errordef = Minuit.LEAST_SQUARES  # the deviance is −2 ln L: Δ = 1 is one σ
        minuit.strategy = 2
        minuit.migrad(ncall=20_000)
        if not minuit.valid:
            minuit.simplex().migrad(ncall=20_000)
        minimum, valid = (np.array(minuit.values), minuit.fval), bool(minuit.valid)
    values, deviance = minimum
    with np.errstate(all="ignore"):
        hessian = likelihood.derivatives(values)[1]
    finite = np.all(np.isfinite(hessian))
    covariance = 2 * np.linalg.pinv(hessian) if finite else np.full_like(hessian, np.nan)
    return values, float(deviance), covariance, valid


def _fit(
    k: np.ndarray, s: np.ndarray, edges: np.ndarray, start: np.ndarray, used: np.ndarray
) -> BackgroundFit:
    integrate = _Integrator(edges)
    values, deviance, covariance, valid = _minimize(_Likelihood(k, s, integrate, used), start)
    return _background_fit(values, deviance, covariance, valid, k, s, integrate(values), used)


def _background_fit(values, deviance, covariance, valid, k, s, expected, used) -> BackgroundFit:
    with np.errstate(over="ignore"):  # p0 can exceed 1e308 when p2, p3 are large: keep ln p0
        parameters = np.array([np.exp(values[0]), *values[1:]])
    nu = expected / s
    fitted = used & (nu > 0)
    chi2 = float(np.sum((k[fitted] - nu[fitted]) ** 2 / nu[fitted]))
    return BackgroundFit(
        parameters=tuple(float(v) for v in parameters),
        log_p0=float(values[0]),
        deviance=float(deviance),
        chi2=chi2,
        ndf=int(np.count_nonzero(k[used]) - len(values)),
        expected=tuple(float(v) for v in expected),
        valid=valid,
        covariance=tuple(tuple(float(v) for v in row) for row in covariance),
    )


def _fit_effective(
    k: np.ndarray, s: np.ndarray, edges: np.ndarray, masked: slice | None = None
) -> BackgroundFit:
    """The dijet-function fit to effective counts ``k`` of weight ``s``, with 3, 4 or 5
    parameters chosen by Wilks' test; each larger function starts from the smaller one's
    minimum (its new parameter at 0)."""
    used = np.ones(len(k), dtype=bool)
    if masked is not None:
        used[masked] = False
    best = _fit(k, s, edges, _starting_values(np.where(used, k, 0.0), s, edges, 3), used)
    for _ in (4, 5):
        guess = np.array([best.log_p0, *best.parameters[1:], 0.0])
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


def scan(counts: np.ndarray, expected: np.ndarray, window_bins: int) -> np.ndarray:
    """Signed local significance of every window of ``window_bins`` adjacent bins for Poisson
    ``counts`` against a fixed ``expected`` (both effective events), the asymptotic
    Z = √(2 (n ln(n/b) − (n − b))): what BumpHunter computes, without the fit's freedom."""
    kernel = np.ones(window_bins)
    n = np.convolve(counts, kernel, mode="valid")
    b = np.maximum(np.convolve(expected, kernel, mode="valid"), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 2 * (np.where(n > 0, n * np.log(n / b), 0.0) - (n - b))
    return np.sign(n - b) * np.sqrt(np.maximum(q, 0.0))


@dataclass(frozen=True)
class Window:
    """The most significant window of one width and the local Z of every position (``scan``)."""

    width_bins: int
    low: float
    high: float
    local_significance: float
    start_bin: int
    scan: tuple[float, ...]


def _window_sums(values: np.ndarray, width: int) -> np.ndarray:
    """Sums over every window of ``width`` bins, along the first axis."""
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    return cumulative[width:] - cumulative[:-width]


def _score_scan(k, s, integrate: _Integrator, first: BackgroundFit, width: int) -> np.ndarray:
    """Signed local Z of every window of ``width`` bins: the score (Rao) test of a signal
    proportional to the fitted background over the window, at the background-only fit,

        Z² = U_a² / (I_aa − I_aθ I_θθ⁻¹ I_θa),

    with U_a = ∂ ln L/∂a at a = 0 and I the Fisher information of (a, dijet parameters): the
    efficient information removes the part of the bump the dijet function can absorb. It is
    asymptotically the profile-likelihood ratio, for every window at once from one fit."""
    values = np.array([first.log_p0, *first.parameters[1:]])
    mu = np.array(first.expected)
    jacobian = integrate.jacobian(values)
    information = 1 / (s * mu)  # Fisher information per bin of Poisson(mu/s), per unit mu²
    score = _window_sums((k / mu - 1 / s) * mu, width)
    i_aa = _window_sums(information * mu**2, width)
    i_atheta = _window_sums((information * mu)[:, None] * jacobian, width)
    i_thetatheta = (jacobian * information[:, None]).T @ jacobian
    efficient = i_aa - np.einsum("wp,pq,wq->w", i_atheta, np.linalg.pinv(i_thetatheta), i_atheta)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = score / np.sqrt(efficient)
    return np.where(efficient > 1e-12 * i_aa, z, 0.0)


@dataclass(frozen=True)
class _SignalFit:
    """The signal-plus-background fit of a window: its background part and its signal (Σw)."""

    background: BackgroundFit
    signal: float


def _signal_fit(k, s, integrate, first: BackgroundFit, window: slice) -> _SignalFit:
    """Signal proportional to the background-only fit over ``window``, fitted with the dijet
    function."""
    template = np.zeros(len(k))
    template[window] = np.array(first.expected)[window]
    used = np.ones(len(k), dtype=bool)
    likelihood = _Likelihood(k, s, integrate, used, template)
    start = np.array([first.log_p0, *first.parameters[1:], 0.0])
    values, deviance, covariance, valid = _minimize(likelihood, start)
    background = _background_fit(values[:-1], deviance, covariance[:-1, :-1], valid, k, s,
                                 integrate(values[:-1]), used)  # fmt: skip
    return _SignalFit(background, float(values[-1] * template.sum()))


def _hunt(k: np.ndarray, s: np.ndarray, edges: np.ndarray, widths: Sequence[int]):
    """The background-only fit and, for each width, the local Z of every window
    (:func:`_score_scan`) and the best one."""
    first = _fit_effective(k, s, edges)
    integrate = _Integrator(edges)
    windows = []
    for width in widths:
        local = _score_scan(k, s, integrate, first, width)
        best = int(np.argmax(local))
        windows.append(Window(width, float(edges[best]), float(edges[best + width]),
                              float(local[best]), best, tuple(local.tolist())))  # fmt: skip
    return first, windows


@dataclass(frozen=True)
class BumpHunt:
    """The result of :func:`bump_hunt`, JSON-ready via :meth:`to_dict`.

    ``fit`` is the background-only fit of the whole range (its goodness of fit:
    ``fit.p_value`` asymptotically, ``gof_p_value`` from the toys); ``signal_fit`` the
    background part of the best window's signal-plus-background fit, against which ``observed``
    and ``expected`` (Σw) are computed, and ``fitted_signal`` its signal (Σw);
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
    fitted_signal: float
    fit: BackgroundFit
    signal_fit: BackgroundFit
    windows: tuple[Window, ...]
    toy_maxima: tuple[float, ...]

    def to_dict(self) -> dict:
        """Plain types for strict JSON: a NaN or infinite number (χ²/ndf without degrees of
        freedom, a p0 beyond 1e308, whose ln p0 is kept) becomes None."""
        out = asdict(self)
        for name in ("fit", "signal_fit"):
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
    fit, windows = _hunt(k, s, edges, widths)
    best = max(windows, key=lambda w: w.local_significance)
    window = slice(best.start_bin, best.start_bin + best.width_bins)
    signal_fit = _signal_fit(k, s, _Integrator(edges), fit, window)

    nu = np.array(fit.expected) / s
    rng = np.random.default_rng(seed)
    maxima, deviances = np.empty(n_toys), np.empty(n_toys)
    for t in range(n_toys):
        toy_fit, toy_windows = _hunt(rng.poisson(nu).astype(float), s, edges, widths)
        maxima[t] = max(w.local_significance for w in toy_windows)
        deviances[t] = toy_fit.deviance
    p_global = (1 + np.sum(maxima >= best.local_significance)) / (1 + n_toys) if n_toys else np.nan
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
        expected=float(np.sum(signal_fit.background.expected[window])),
        fitted_signal=signal_fit.signal,
        fit=fit,
        signal_fit=signal_fit.background,
        windows=tuple(windows),
    )


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
    integrate, used = _Integrator(edges), np.ones(len(k), dtype=bool)
    fitted, errors = [], []
    for mass in masses:
        template = gaussian_signal(edges, mass, 1.0, resolution)
        likelihood = _Likelihood(k, s, integrate, used, template)
        values, _, covariance, _ = _minimize(likelihood, np.append(start, 0.0))
        fitted.append(float(values[-1]))
        errors.append(float(np.sqrt(covariance[-1, -1])))
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
        from jetad.histograms import nominal

        selected = nominal(self.histogram)[{"model": model, "cut": cut}]
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
