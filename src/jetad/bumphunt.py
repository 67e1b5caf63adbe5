"""The dijet bump hunt: a smooth background fit of the m_jj spectrum and a sliding-window scan.

- **Background.** The dijet function (``../shared/REFERENCE.md`` §4)

      f(x) = p0 (1 − x)^p1 · x^−(p2 + p3 ln x + p4 ln² x),   x = m_jj / √s,  √s = 13 TeV,

  with 3, 4 or 5 parameters, fitted by a binned Poisson likelihood with iminuit. A parameter is
  added only when it lowers −2 ln L by more than the 95% quantile of χ²(1) (Wilks' theorem).
- **Scan.** Windows of ``window_bins`` adjacent bins slide over the spectrum; each gets the
  asymptotic Poisson significance of its observed count against the fitted background,
  Z = √(2 (n ln(n/b) − (n − b))), signed by n − b. So that a signal does not pull the fit up
  under itself, the most significant window of a first fit is masked and the background is
  refitted without it before the final scan.
- **Look-elsewhere effect.** The global significance is the fraction of background-only
  pseudo-experiments (Poisson toys of the fit, each refitted and scanned) whose largest local
  Z is at least the observed one, turned into a one-sided Gaussian significance (clipped at 0;
  with N toys it cannot exceed the significance of a p-value of 1/(N + 1)).

All functions take histogram counts and bin edges (GeV) as numpy arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from iminuit import Minuit
from scipy import stats

__all__ = ["BackgroundFit", "BumpHunt", "bump_hunt", "dijet_function", "fit_background", "scan"]

SQRT_S = 13_000.0
WILKS_THRESHOLD = stats.chi2.ppf(0.95, df=1)


def dijet_function(mjj: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """The dijet function at ``mjj`` (GeV) for 3, 4 or 5 parameters (events per GeV)."""
    x = np.asarray(mjj, dtype=float) / SQRT_S
    p = np.zeros(5)
    p[: len(parameters)] = parameters
    log_x = np.log(x)
    return p[0] * (1 - x) ** p[1] * x ** -(p[2] + p[3] * log_x + p[4] * log_x**2)


def _design(mjj: np.ndarray) -> np.ndarray:
    """Columns of ln f = ln p0 + p1 ln(1 − x) − p2 ln x − p3 ln² x − p4 ln³ x, linear in
    (ln p0, p1, …, p4)."""
    x = np.asarray(mjj, dtype=float) / SQRT_S
    log_x = np.log(x)
    return np.column_stack([np.ones_like(x), np.log1p(-x), -log_x, -(log_x**2), -(log_x**3)])


class _Integrator:
    """Expected counts per bin by Simpson's rule, with the design matrices computed once."""

    def __init__(self, edges: np.ndarray):
        low, high = edges[:-1], edges[1:]
        self.designs = [_design(m) for m in (low, 0.5 * (low + high), high)]
        self.width = (high - low) / 6

    def __call__(self, log_parameters: np.ndarray) -> np.ndarray:
        n = len(log_parameters)
        low, mid, high = (np.exp(d[:, :n] @ log_parameters) for d in self.designs)
        return self.width * (low + 4 * mid + high)


@dataclass(frozen=True)
class BackgroundFit:
    """A fitted background: parameters (p0 in events/GeV, p1…), ln p0 (fitted, finite where
    p0 overflows), −2 ln L (saturated), χ²/ndf and the expected counts."""

    parameters: tuple[float, ...]
    log_p0: float
    deviance: float
    chi2: float
    ndf: int
    expected: tuple[float, ...]
    valid: bool

    @property
    def chi2_ndf(self) -> float:
        return self.chi2 / self.ndf if self.ndf > 0 else float("nan")


def _starting_values(counts: np.ndarray, edges: np.ndarray, n_parameters: int) -> np.ndarray:
    """Linear least squares of log(density) on the log-linear form of the dijet function."""
    mid = 0.5 * (edges[:-1] + edges[1:])
    x = mid / SQRT_S
    filled = counts > 0
    log_x = np.log(x[filled])
    design = np.column_stack(
        [np.ones(filled.sum()), np.log(1 - x[filled]), -log_x, -(log_x**2), -(log_x**3)]
    )[:, :n_parameters]
    target = np.log(counts[filled] / np.diff(edges)[filled])
    weights = np.sqrt(counts[filled])
    solution, *_ = np.linalg.lstsq(design * weights[:, None], target * weights, rcond=None)
    return solution


def _fit(
    counts: np.ndarray, edges: np.ndarray, n_parameters: int, used: np.ndarray
) -> BackgroundFit:
    counts = np.asarray(counts, dtype=float)
    log_counts = np.log(np.where(counts > 0, counts, 1.0))

    integrate = _Integrator(edges)

    def deviance(values):
        with np.errstate(all="ignore"):
            mu = integrate(np.asarray(values))
        if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return 1e300
        terms = mu - counts + counts * (log_counts - np.log(mu))
        return 2 * np.sum(terms[used])

    start = _starting_values(np.where(used, counts, 0.0), edges, n_parameters)
    names = ["log_p0", *(f"p{i}" for i in range(1, n_parameters))]
    minuit = Minuit(deviance, start, name=names)
    minuit.errordef = Minuit.LEAST_SQUARES  # the deviance is −2 ln L: Δ = 1 is one σ
    minuit.migrad(ncall=10_000)
    if not minuit.valid:
        minuit.simplex().migrad(ncall=10_000)
    values = np.array(minuit.values)
    with np.errstate(over="ignore"):  # p0 can exceed 1e308 when p2, p3 are large: keep ln p0
        parameters = np.array([np.exp(values[0]), *values[1:]])
    expected = integrate(values)
    fitted = used & (expected > 0)
    chi2 = float(np.sum((counts[fitted] - expected[fitted]) ** 2 / expected[fitted]))
    return BackgroundFit(
        parameters=tuple(float(v) for v in parameters),
        log_p0=float(values[0]),
        deviance=float(minuit.fval),
        chi2=chi2,
        ndf=int(np.count_nonzero(counts[used]) - n_parameters),
        expected=tuple(float(v) for v in expected),
        valid=bool(minuit.valid),
    )


def fit_background(
    counts: np.ndarray, edges: np.ndarray, masked: slice | None = None
) -> BackgroundFit:
    """The dijet-function fit with 3, 4 or 5 parameters, chosen by Wilks' test.

    ``masked`` bins (a slice) are left out of the likelihood, e.g. a candidate signal window.
    """
    used = np.ones(len(counts), dtype=bool)
    if masked is not None:
        used[masked] = False
    best = _fit(counts, edges, 3, used)
    for n in (4, 5):
        candidate = _fit(counts, edges, n, used)
        if not (candidate.valid and best.deviance - candidate.deviance > WILKS_THRESHOLD):
            break
        best = candidate
    return best


def _local_significance(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    n, b = np.asarray(observed, float), np.maximum(np.asarray(expected, float), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 2 * (np.where(n > 0, n * np.log(n / b), 0.0) - (n - b))
    return np.sign(n - b) * np.sqrt(np.maximum(q, 0.0))


def scan(counts: np.ndarray, expected: np.ndarray, window_bins: int) -> np.ndarray:
    """Local significance of every window of ``window_bins`` adjacent bins (signed)."""
    kernel = np.ones(window_bins)
    observed = np.convolve(counts, kernel, mode="valid")
    background = np.convolve(expected, kernel, mode="valid")
    return _local_significance(observed, background)


def _hunt(counts: np.ndarray, edges: np.ndarray, window_bins: int):
    """Fit, find the most significant window, refit with it masked, and rescan."""
    first = fit_background(counts, edges)
    best = int(np.argmax(scan(counts, np.array(first.expected), window_bins)))
    fit = fit_background(counts, edges, masked=slice(best, best + window_bins))
    local = scan(counts, np.array(fit.expected), window_bins)
    return fit, local, int(np.argmax(local))


@dataclass(frozen=True)
class BumpHunt:
    """The result of :func:`bump_hunt`, JSON-ready via :meth:`to_dict`."""

    window: tuple[float, float]
    local_significance: float
    global_significance: float
    global_p_value: float
    n_toys: int
    observed: float
    expected: float
    fit: BackgroundFit
    scan: tuple[float, ...]

    def to_dict(self) -> dict:
        """Plain types for strict JSON: a NaN or infinite number (χ²/ndf without degrees of
        freedom, a p0 beyond 1e308, whose ln p0 is kept) becomes None."""
        out = asdict(self)
        out["fit"]["chi2_ndf"] = self.fit.chi2_ndf
        out["fit"]["n_parameters"] = len(self.fit.parameters)
        return _finite_or_none(out)


def _finite_or_none(value):
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def bump_hunt(
    counts: np.ndarray,
    edges: np.ndarray,
    window_bins: int = 3,
    n_toys: int = 200,
    seed: int = 0,
) -> BumpHunt:
    """Fit the background, scan for the most significant excess, and correct for the
    look-elsewhere effect with ``n_toys`` background-only pseudo-experiments.

    Args:
        counts: the m_jj histogram (events per bin).
        edges: its bin edges in GeV (variable widths allowed).
        window_bins: the window width in bins; with bins that follow the m_jj resolution, 3
            bins cover about ±1.5 σ.
        n_toys: pseudo-experiments for the global significance.
        seed: the toys' random seed.
    """
    counts = np.asarray(counts, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if counts.ndim != 1 or len(edges) != len(counts) + 1:
        raise ValueError(
            f"expected counts of n bins and n + 1 edges, got {counts.shape}, {edges.shape}"
        )
    if window_bins < 1 or window_bins > len(counts):
        raise ValueError(f"window_bins must lie in 1..{len(counts)}, got {window_bins}")
    fit, local, best = _hunt(counts, edges, window_bins)
    expected = np.array(fit.expected)
    rng = np.random.default_rng(seed)
    maxima = np.empty(n_toys)
    for k in range(n_toys):
        maxima[k] = _hunt(rng.poisson(expected).astype(float), edges, window_bins)[1].max()
    p_global = (1 + np.sum(maxima >= local[best])) / (1 + n_toys)
    return BumpHunt(
        window=(float(edges[best]), float(edges[best + window_bins])),
        local_significance=float(local[best]),
        global_significance=max(float(stats.norm.isf(p_global)), 0.0),
        global_p_value=float(p_global),
        n_toys=n_toys,
        observed=float(counts[best : best + window_bins].sum()),
        expected=float(expected[best : best + window_bins].sum()),
        fit=fit,
        scan=tuple(float(v) for v in local),
    )
