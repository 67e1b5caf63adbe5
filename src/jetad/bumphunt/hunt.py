"""The sliding-window scan (score test per window, BumpHunter's plain Poisson Z), the
look-elsewhere correction by toys, and the spurious-signal test; see :mod:`jetad.bumphunt`."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from jetad.bumphunt.fit import (
    BackgroundFit,
    _background_fit,
    _fit_effective,
    _Integrator,
    _Likelihood,
    _minimize,
    fit_background,
)
from jetad.bumphunt.spectrum import (
    MIN_EVENTS_IN_PEAK,
    RESOLUTION,
    WIDTHS,
    Spectrum,
    gaussian_signal,
)

__all__ = [
    "BumpHunt",
    "SpuriousSignal",
    "Window",
    "bump_hunt",
    "SearchSignificance",
    "scan",
    "search_significance",
    "spurious_signal",
    "trials_corrected",
]


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


def _searched(edges: np.ndarray, width: int, region: tuple[float, float] | None) -> np.ndarray:
    """Which windows of ``width`` bins the hunt considers: every one, or those centred in
    ``region`` (GeV)."""
    positions = len(edges) - width
    if region is None:
        return np.ones(positions, dtype=bool)
    centres = 0.5 * (edges[:positions] + edges[width:])
    return (centres >= region[0]) & (centres < region[1])


def best_windows(edges: np.ndarray, scans, region: tuple[float, float] | None = None):
    """Each width's most significant :class:`Window` from ``(width, local Z per position)``,
    among the windows centred in ``region`` (GeV; None: all); widths with no such window are
    left out."""
    windows = []
    for width, local in scans:
        allowed = _searched(edges, width, region)
        if not allowed.any():
            continue
        best = int(np.argmax(np.where(allowed, local, -np.inf)))
        windows.append(Window(width, float(edges[best]), float(edges[best + width]),
                              float(local[best]), best, tuple(local.tolist())))  # fmt: skip
    return windows


def largest_local(edges: np.ndarray, scans, region: tuple[float, float] | None = None) -> float:
    """The largest local Z of ``scans`` among the windows centred in ``region`` (a toy's
    maximum, without building its :class:`Window` objects)."""
    return max(
        float(np.max(local[allowed]))
        for width, local in scans
        if (allowed := _searched(edges, width, region)).any()
    )


def _check_region(edges: np.ndarray, widths: Sequence[int], region) -> None:
    if region is None:
        return
    low, high = (float(v) for v in region)
    if not low < high:
        raise ValueError(f"a region is (low, high) in GeV with low < high, got {region}")
    if not any(_searched(edges, w, region).any() for w in widths):
        raise ValueError(
            f"no window of {list(widths)} bins is centred in the region {region} GeV of a "
            f"spectrum over {edges[0]:.0f}–{edges[-1]:.0f} GeV"
        )


def global_p_value(toy_maxima: np.ndarray, local: float) -> float:
    """The fraction of toys whose largest local Z reaches ``local``, counting the observation
    itself ((1 + n) / (1 + N)); NaN without toys."""
    if not len(toy_maxima):
        return float("nan")
    return float((1 + np.sum(toy_maxima >= local)) / (1 + len(toy_maxima)))


def trials_corrected(significance: float, trials: int) -> float:
    """The significance of the most significant of ``trials`` tests, each ``significance``
    (one-sided Z) on its own: p → 1 − (1 − p)^trials (Šidák).

    A search that reports the best of several hunts (cuts, hunts, signal-region hypotheses)
    quotes this, not the best hunt's own global Z: on background alone the best of 20
    independent calibrated hunts exceeds 2σ more than one time in three. Exact for independent
    tests and conservative for positively correlated ones, such as hunts of one spectrum after
    nested cuts. NaN and ±inf are returned as they are.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if not np.isfinite(significance):
        return float(significance)
    p_value = stats.norm.sf(significance)
    return float(stats.norm.isf(-np.expm1(trials * np.log1p(-p_value))))


@dataclass(frozen=True)
class SearchSignificance:
    """What a search that ran several hunts reports: its most significant ``test`` (the key it
    was given under), that hunt's own global Z, and the search's global Z, the same corrected
    for the ``trials`` it chose among (:func:`trials_corrected`)."""

    test: Hashable | None
    trials: int
    best: float
    global_significance: float


def search_significance(
    tests: Mapping[Hashable, float], tiebreak: Mapping[Hashable, float] | None = None
) -> SearchSignificance:
    """The search's own global significance over ``tests`` (name → each hunt's global Z;
    NaN, a hunt without a global Z, does not count; −inf, a p-value of 1, does): the most
    significant hunt (ties, e.g. toy-limited global Z, broken by ``tiebreak``, such as the
    local Z) corrected for the number of hunts. With no test, ``test`` is None and the Z NaN."""
    finite = {key: float(z) for key, z in tests.items() if not np.isnan(z)}
    if not finite:
        return SearchSignificance(None, 0, float("nan"), float("nan"))
    tiebreak = tiebreak or {}
    best = max(finite, key=lambda key: (finite[key], tiebreak.get(key, 0.0)))
    return SearchSignificance(best, len(finite), finite[best],
                              trials_corrected(finite[best], len(finite)))  # fmt: skip


def _hunt(k: np.ndarray, s: np.ndarray, edges: np.ndarray, widths: Sequence[int], region=None):
    """The background-only fit and, for each width, the local Z of every window
    (:func:`_score_scan`) and the best one (centred in ``region``, GeV, if given)."""
    first = _fit_effective(k, s, edges)
    integrate = _Integrator(edges)
    scans = [(width, _score_scan(k, s, integrate, first, width)) for width in widths]
    return first, best_windows(edges, scans, region)


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
    spectrum: Spectrum,
    widths: Sequence[int] = WIDTHS,
    n_toys: int = 200,
    seed: int = 0,
    region: tuple[float, float] | None = None,
) -> BumpHunt:
    """Fit the background, scan for the most significant excess with every window width, and
    correct for the look-elsewhere effect (every position and width searched) with ``n_toys``
    background-only pseudo-experiments.

    Args:
        spectrum: the m_jj spectrum over the fit range (see :func:`fit_start`).
        widths: window widths in bins.
        n_toys: pseudo-experiments for the global significance and the goodness of fit.
        seed: the toys' random seed.
        region: search only the windows centred in this m_jj range (GeV), e.g. the signal
            region a weakly supervised classifier was trained for, whose score means nothing
            elsewhere; the toys search the same windows. The fit uses the whole spectrum.
    """
    widths = _check_widths(widths, len(spectrum))
    k, s, edges = spectrum.effective(), spectrum.scale(), spectrum.edges
    _check_region(edges, widths, region)
    fit, windows = _hunt(k, s, edges, widths, region)
    best = max(windows, key=lambda w: w.local_significance)
    window = slice(best.start_bin, best.start_bin + best.width_bins)
    signal_fit = _signal_fit(k, s, _Integrator(edges), fit, window)

    nu = np.array(fit.expected) / s
    rng = np.random.default_rng(seed)
    maxima, deviances = np.empty(n_toys), np.empty(n_toys)
    for t in range(n_toys):
        toy_fit, toy_windows = _hunt(rng.poisson(nu).astype(float), s, edges, widths, region)
        maxima[t] = max(w.local_significance for w in toy_windows)
        deviances[t] = toy_fit.deviance
    p_global = global_p_value(maxima, best.local_significance)
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
