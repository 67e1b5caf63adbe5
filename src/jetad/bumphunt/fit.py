"""The background fit: the dijet function integrated over each bin (Simpson), its weighted-
Poisson likelihood with gradient and Hessian, Newton's method with iminuit as the fallback, and
Wilks' test for the number of parameters; see :mod:`jetad.bumphunt`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from iminuit import Minuit
from scipy import stats

from jetad.bumphunt.spectrum import SQRT_S, Spectrum

__all__ = ["WILKS_THRESHOLD", "BackgroundFit", "fit_background"]

WILKS_THRESHOLD = stats.chi2.ppf(0.95, df=1)


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
