"""The pass-fraction hunt: a bump in the fraction of events an anomaly cut keeps, per m_jj bin.

After a cut that keeps ~1% of the QCD, the dijet function fitted to the *kept* spectrum alone
has few events to learn its shape from and as many free parameters as the Wilks test grants,
and the W′ of the search bench sits at 3.5 TeV, a few bins above the selection's turn-on where
the fit range starts and the function bends most easily: with a perfect tagger (every W′ kept,
with a random 1% of the QCD) at S/B = 1% the dijet-function hunt gave 2.53σ local where S/√B
within ±1σ is 10.9, this hunt 5.74σ (``python bench/search.py --ceiling-only``). The events
the cut *rejects* hold the shape 99 times better. Given the number of events n_i in each m_jj
bin, the number k_i that pass the cut is binomial, k_i ~ Bin(n_i, π_i), whatever the
spectrum's shape; the background hypothesis is a pass fraction smooth in m_jj,

    logit π_i = Σ_j c_j u_i^j,   u = ln(m_jj / 1 TeV),   j = 0 … degree,

and a signal that the cut keeps more often than the QCD raises π in a window. **Use it on cuts
that follow m_jj** (``jetad.decorrelation``), whose QCD fraction is flat by construction: a
fixed cut's fraction bends more than the quadratic follows (on 106k generated QCD events alone
the VAE's fixed 10% and 1% cuts gave 4.2σ and 3.9σ local, 2.6σ and 2.3σ global, and a CWoLa
classifier's, which tells a signal region from its sidebands, a step the fit cannot follow at
all; ``python bench/search.py --background-only``). Each window's local Z is the
profile-likelihood ratio of a logit shift a over the window, the smooth fraction refitted with
it: Z = sign(â)·√(2 Δ ln L), so a bump the smooth fraction can absorb is not counted twice.
The global significance comes from binomial toys of the fitted fractions with the same n_i,
refitted and scanned with every width; the same toys give the goodness of fit. This is the
pass/fail background estimate of the CMS anomaly-detection dijet search (the failing events,
times a smooth ratio, model the passing ones: arXiv:2412.03747), without the dijet function.
Conditioning on n_i also makes the test blind to the spectrum's turn-on, so the scan starts
where the selection's spectrum does, not above its peak.

Unit-weight events are assumed (data, pseudo-data): the binomial needs counts. All m_jj in GeV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from jetad.bumphunt.hunt import (
    Window,
    _check_region,
    _finite_or_none,
    best_windows,
    global_p_value,
    largest_local,
)
from jetad.bumphunt.spectrum import WIDTHS, Spectrum

__all__ = ["PassFractionHunt", "pass_fraction_hunt"]

REFERENCE_MASS = 1000.0  # GeV
#: The scan keeps bins whose total count is at least this fraction of the fullest bin's.
MIN_FRACTION_OF_PEAK = 0.01


def _design(edges: np.ndarray, degree: int) -> np.ndarray:
    centres = 0.5 * (edges[:-1] + edges[1:])
    return np.vander(np.log(centres / REFERENCE_MASS), degree + 1, increasing=True)


def _log_likelihood(k: np.ndarray, n: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Σ_i k_i ln π_i + (n_i − k_i) ln(1 − π_i) over the last axis, π = expit(η)."""
    return np.sum(k * special.log_expit(eta) + (n - k) * special.log_expit(-eta), axis=-1)


def _deviance(k: np.ndarray, n: np.ndarray, eta: np.ndarray) -> float:
    """−2 ln L of the binomial fit against the saturated model."""
    saturated = np.clip(k / np.where(n > 0, n, 1.0), 1e-300, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.sum(np.where(k > 0, k * np.log(saturated), 0.0)
                      + np.where(n > k, (n - k) * np.log1p(-np.minimum(saturated, 1 - 1e-16)),
                                 0.0))  # fmt: skip
    return float(2 * (best - _log_likelihood(k, n, eta)))


def _fit_fractions(k: np.ndarray, n: np.ndarray, designs: np.ndarray, iterations: int = 30):
    """Logistic fits of k_i of n_i on each of ``designs`` (fits × bins × parameters) at once,
    by Newton–Raphson (IRLS) with a small ridge for windows that hold no event: the linear
    predictors η (fits × bins) and the coefficients."""
    total = np.clip(k.sum() / n.sum(), 1e-9, 1 - 1e-9)
    coefficients = np.zeros((designs.shape[0], designs.shape[2]))
    coefficients[:, 0] = special.logit(total)
    ridge = 1e-9 * np.eye(designs.shape[2])
    for _ in range(iterations):
        eta = np.einsum("fbp,fp->fb", designs, coefficients)
        pi = special.expit(eta)
        information = np.einsum("fbp,fb,fbq->fpq", designs, n * pi * (1 - pi), designs)
        gradient = np.einsum("fbp,fb->fp", designs, k - n * pi)
        step = np.linalg.solve(information + ridge, gradient[..., None])[..., 0]
        coefficients = np.clip(coefficients + step, -50.0, 50.0)
        if np.max(np.abs(step)) < 1e-8:
            break
    return np.einsum("fbp,fp->fb", designs, coefficients), coefficients


def _scan(k: np.ndarray, n: np.ndarray, design: np.ndarray, widths: Sequence[int]):
    """The background fit (η, coefficients) and, per width, the signed local Z of every
    window: the profile-likelihood ratio of a logit shift a in the window, the smooth fraction
    refitted with it, Z = sign(â)·√(2 Δ ln L)."""
    eta0, coefficients0 = _fit_fractions(k, n, design[None])
    null = _log_likelihood(k, n, eta0[0])
    scans = []
    for width in widths:
        positions = len(k) - width + 1
        indicator = np.zeros((positions, len(k), 1))
        for j in range(positions):
            indicator[j, j : j + width, 0] = 1.0
        designs = np.concatenate([np.broadcast_to(design, (positions, *design.shape)),
                                  indicator], axis=2)  # fmt: skip
        eta, coefficients = _fit_fractions(k, n, designs)
        gain = np.maximum(2 * (_log_likelihood(k, n, eta) - null), 0.0)
        scans.append((width, np.sign(coefficients[:, -1]) * np.sqrt(gain)))
    return eta0[0], coefficients0[0], scans


@dataclass(frozen=True)
class PassFractionHunt:
    """The result of :func:`pass_fraction_hunt`, JSON-ready via :meth:`to_dict`: the best
    window (GeV) and its local and global significance, the events passing in it and those the
    smooth fraction expects, the fitted logit coefficients and the fitted fraction of every bin
    of ``fit_range`` (the scan's bins), the fit's binomial deviance and
    its goodness-of-fit p-value from the toys, each width's best window and scan, and the toys'
    largest local Z."""

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
    coefficients: tuple[float, ...]
    fraction: tuple[float, ...]
    deviance: float
    windows: tuple[Window, ...]
    toy_maxima: tuple[float, ...]

    def to_dict(self) -> dict:
        return _finite_or_none(asdict(self))


def scan_range(passed: np.ndarray, total: np.ndarray) -> slice:
    """The bins the scan uses: from the first whose total count reaches
    ``MIN_FRACTION_OF_PEAK`` of the fullest bin's to the last where the cut is expected to keep
    at least one event (total count × the overall pass fraction ≥ 1). Beyond it a single
    passing event would read as a many-σ local excess, which the asymptotic Z cannot describe
    (on 106k QCD alone it gave 3.1σ local at 6–7 TeV from one or two events)."""
    passed, total = np.asarray(passed, dtype=float), np.asarray(total, dtype=float)
    if not passed.any():
        raise ValueError("no event passes the cut: nothing to hunt in")
    enough = np.flatnonzero(total >= MIN_FRACTION_OF_PEAK * total.max())
    kept = np.flatnonzero(total * passed.sum() / total.sum() >= 1.0)
    if len(kept) == 0:
        raise ValueError("no m_jj bin is expected to keep one event after the cut")
    return slice(int(enough[0]), int(kept[-1]) + 1)


def pass_fraction_hunt(
    passed: Spectrum,
    failed: Spectrum,
    widths: Sequence[int] = WIDTHS,
    n_toys: int = 200,
    seed: int = 0,
    degree: int = 2,
    region: tuple[float, float] | None = None,
) -> PassFractionHunt:
    """Scan the fraction of events that pass an anomaly cut for a local excess (see the
    module), with the look-elsewhere effect from ``n_toys`` binomial pseudo-experiments.

    Args:
        passed: the m_jj spectrum of the events the cut keeps (unit weights).
        failed: the spectrum of those it rejects, with the same bins.
        widths: window widths in bins.
        n_toys: pseudo-experiments for the global significance and the goodness of fit.
        seed: the toys' random seed.
        degree: of the logit of the smooth pass fraction in ln m_jj.
        region: search only the windows centred in this m_jj range (GeV), as
            :func:`jetad.bumphunt.bump_hunt`; the toys search the same windows.

    Raises:
        ValueError: weighted spectra, different binnings, too few bins for the widths, or
            no window centred in ``region``.
    """
    if not np.array_equal(passed.edges, failed.edges):
        raise ValueError("the passing and failing spectra need the same m_jj bins")
    if not (passed.unit_weight and failed.unit_weight):
        raise ValueError("the pass-fraction hunt needs unit-weight counts (data, pseudo-data)")
    k_all, n_all = passed.sumw, passed.sumw + failed.sumw
    used = scan_range(k_all, n_all)
    k, n, edges = k_all[used], n_all[used], passed.edges[used.start : used.stop + 1]
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1 or max(widths) > len(k) - degree - 2:
        raise ValueError(
            f"window widths must lie in 1..{len(k) - degree - 2} bins for {len(k)} bins in "
            f"the scan and a fraction of degree {degree}, got {widths}"
        )
    # an empty bin carries no information on the fraction (its weight n π (1 − π) is 0), but it
    # stays in the windows' sums so that every window spans the same m_jj
    _check_region(edges, widths, region)
    design = _design(edges, degree)
    eta, coefficients, scans = _scan(k, n, design, widths)
    pi = special.expit(eta)
    windows = best_windows(edges, scans, region)
    best = max(windows, key=lambda w: w.local_significance)
    window = slice(best.start_bin, best.start_bin + best.width_bins)
    deviance = _deviance(k, n, eta)

    rng = np.random.default_rng(seed)
    maxima, deviances = np.empty(n_toys), np.empty(n_toys)
    counts = n.astype(np.int64)
    for t in range(n_toys):
        toy = rng.binomial(counts, np.clip(pi, 0.0, 1.0)).astype(float)
        toy_eta, _, toy_scans = _scan(toy, n, design, widths)
        maxima[t] = largest_local(edges, toy_scans, region)
        deviances[t] = _deviance(toy, n, toy_eta)
    p_global = global_p_value(maxima, best.local_significance)
    return PassFractionHunt(
        window=(best.low, best.high),
        width_bins=best.width_bins,
        fit_range=(float(edges[0]), float(edges[-1])),
        local_significance=best.local_significance,
        global_significance=float(np.clip(stats.norm.isf(p_global), 0.0, None)),
        global_p_value=float(p_global),
        gof_p_value=float((1 + np.sum(deviances >= deviance)) / (1 + n_toys))
        if n_toys
        else np.nan,
        n_toys=n_toys,
        observed=float(k[window].sum()),
        expected=float(np.sum(n[window] * pi[window])),
        coefficients=tuple(float(c) for c in coefficients),
        fraction=tuple(float(f) for f in pi),
        deviance=deviance,
        windows=tuple(windows),
        toy_maxima=tuple(maxima.tolist()),
    )
