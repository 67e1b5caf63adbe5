"""Mass-decorrelated working points: score thresholds that follow m_jj.

A fixed threshold on a score that changes with m_jj keeps a different fraction of QCD at each
m_jj and sculpts the spectrum the bump hunt fits. As in the CMS anomaly-detection dijet search
(quantile regression of the score on m_jj), the threshold for a QCD efficiency ε is the
(1 − ε) quantile of the score as a smooth function of m_jj, fitted on background events after
the analysis' selection:

    t_ε(m_jj) = Σ_k c_k u^k,   u = ln(m_jj / 1 TeV),  k = 0 … degree,

by minimising the quantile (pinball) loss Σ max(τ r, (τ − 1) r), r = score − t_ε, τ = 1 − ε —
a linear programme, solved exactly with scipy's HiGHS (what scikit-learn's QuantileRegressor
does; no new dependency). Outside the fitted m_jj range the threshold stays at its edge value.
By default the polynomial becomes a spline, t_ε += Σ_j d_j max(u − u_j, 0)^degree, with knots u_j
at m_jj quantiles, as many as the sample affords (:func:`auto_knots`): a score whose quantile
bends more than a quadratic can follow otherwise leaves a bump in the kept spectrum.

The thresholds are stored in the model's metadata as ``mjj_working_points``
(``{"eff10_mjj": {"coefficients": [...], "mjj_range": [low, high], "efficiency": 0.1}}``); the
dijet processor then fills cuts ``eff10_mjj``… beside the fixed ones.

For jet tagging, :func:`mass_weights` gives the outlier-exposure sample of the constituent VAE
the background's jet-mass distribution (Cheng et al.), so the exposure cannot teach the model
to tell jets apart by their mass.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "auto_knots",
    "calibrate",
    "fit_quantile_threshold",
    "flatness",
    "mass_weights",
    "mjj_thresholds",
    "quantile_threshold",
]

REFERENCE_MASS = 1000.0  # GeV: u = ln(m_jj / 1 TeV) keeps the polynomial well conditioned
#: The default spline's piece holds at least this many events above the threshold, so that its
#: local quantile is known to about 10%, and has at most ``MOST_KNOTS`` knots: with 8, every
#: m_jj bin of 198k generated QCD events kept 0.8–1.3% at a 1% cut (a quadratic: 1.28% over
#: 3.2–3.6 TeV, a 4σ excess that the bump hunt took for a 2.3σ global signal; README).
EVENTS_PER_PIECE, MOST_KNOTS = 100, 8


def auto_knots(rows: int, efficiency: float) -> int:
    """The knots of the default threshold spline for ``rows`` events at ``efficiency``: as many
    as keep ``EVENTS_PER_PIECE`` events above the threshold in every piece, at most
    ``MOST_KNOTS``; none (the polynomial) when the sample cannot afford one."""
    affordable = int(np.floor(rows * efficiency / EVENTS_PER_PIECE)) - 1
    return int(np.clip(affordable, 0, MOST_KNOTS))


def _design(mjj: np.ndarray, degree: int, knots: np.ndarray) -> np.ndarray:
    """Columns u^0 … u^degree, then max(u − k, 0)^degree for every knot k (a spline of
    ``degree`` in u = ln(m_jj / 1 TeV), as a truncated-power basis)."""
    u = np.log(np.asarray(mjj, dtype=float) / REFERENCE_MASS)
    powers = np.vander(u, degree + 1, increasing=True)
    hinges = [np.maximum(u - k, 0.0) ** degree for k in knots]
    return np.column_stack([powers, *hinges]) if hinges else powers


def fit_quantile_threshold(
    score: np.ndarray,
    mjj: np.ndarray,
    efficiency: float,
    degree: int = 2,
    knots: int | None = None,
) -> dict:
    """The (1 − ``efficiency``) quantile of ``score`` as a polynomial of ln m_jj (GeV), or,
    with ``knots`` > 0, a spline of that degree with knots at equally spaced quantiles of m_jj;
    ``None`` (the default): :func:`auto_knots` of the finite rows.

    A score whose quantile bends more than a quadratic in ln m_jj can follow leaves a
    quadratic's residual as a bump in the kept m_jj spectrum: on 198k generated QCD events the
    VAE's 1% cut kept 1.28% in 3.2–3.6 TeV (``bench/search.py --large``, README); knots let the
    threshold bend locally.

    Returns:
        ``{"coefficients", "mjj_range", "efficiency"}`` (and ``"knots"`` in u = ln(m_jj /
        1 TeV) when there are any), JSON-ready.
    """
    from scipy.optimize import linprog

    score, mjj = np.asarray(score, dtype=float), np.asarray(mjj, dtype=float)
    finite = np.isfinite(score) & np.isfinite(mjj) & (mjj > 0)
    score, mjj = score[finite], mjj[finite]
    if len(score) < 10 * (degree + 1) or not 0 < efficiency < 1:
        raise ValueError(
            f"a quantile threshold of degree {degree} at efficiency {efficiency} needs at least "
            f"{10 * (degree + 1)} finite rows, got {len(score)}"
        )
    knots = auto_knots(len(score), efficiency) if knots is None else knots
    u_knots = np.log(np.quantile(mjj, np.linspace(0, 1, knots + 2)[1:-1]) / REFERENCE_MASS)
    design = _design(mjj, degree, u_knots)
    # The dual of the pinball-loss LP (Koenker & Bassett): max scoreᵀa subject to
    # designᵀa = ε·designᵀ1, 0 ≤ a ≤ 1; the coefficients are the equality constraints' dual
    # values: degree + 1 constraints instead of n rows, far faster than the primal on tens of
    # thousands of events, with the same coefficients (tests/test_decorrelation.py checks the
    # exact sample quantile at degree 0).
    result = linprog(-score, A_eq=design.T, b_eq=efficiency * design.sum(axis=0), bounds=(0, 1),
                     method="highs")  # fmt: skip
    if not result.success:
        raise ValueError(f"the quantile regression did not converge: {result.message}")
    coefficients = -result.eqlin.marginals
    fit = {
        "coefficients": [float(c) for c in coefficients],
        "mjj_range": [float(mjj.min()), float(mjj.max())],
        "efficiency": float(efficiency),
    }
    return fit | ({"knots": [float(k) for k in u_knots]} if knots else {})


def quantile_threshold(parameters: Mapping, mjj) -> np.ndarray:
    """The threshold of :func:`fit_quantile_threshold`'s ``parameters`` at ``mjj`` (GeV),
    constant beyond the fitted range. Works on numpy and (flat) awkward arrays."""
    low, high = parameters["mjj_range"]
    u = np.log(np.minimum(np.maximum(mjj, low), high) / REFERENCE_MASS)  # ufuncs: awkward too
    knots = parameters.get("knots", [])
    coefficients = parameters["coefficients"]
    degree = len(coefficients) - len(knots) - 1
    value = 0.0 * u
    for power, coefficient in enumerate(coefficients[: degree + 1]):
        value = value + coefficient * u**power
    for knot, coefficient in zip(knots, coefficients[degree + 1 :], strict=True):
        value = value + coefficient * np.maximum(u - knot, 0.0) ** degree
    return value


def mjj_thresholds(metadata: Mapping, mjj) -> dict:
    """``{cut: per-event threshold}`` for every m_jj-dependent working point of a model."""
    return {
        name: quantile_threshold(parameters, mjj)
        for name, parameters in metadata.get("mjj_working_points", {}).items()
    }


def flatness(score: np.ndarray, mjj: np.ndarray, threshold, quantiles: int = 4) -> list[float]:
    """The fraction of events above ``threshold`` (a number or per-event thresholds) in each
    m_jj quantile: flat when the cut does not depend on m_jj."""
    edges = np.quantile(mjj, np.linspace(0, 1, quantiles + 1))
    index = np.clip(np.searchsorted(edges, mjj, side="right") - 1, 0, quantiles - 1)
    passed = score > threshold
    return [float(passed[index == q].mean()) for q in range(quantiles)]


def calibrate(model_path, background, degree: int = 2, knots: int | None = None) -> dict:
    """Fit every working point of the model at ``model_path`` as a function of m_jj on the
    ``background`` files (after the feature set's selection), store them in its metadata as
    ``mjj_working_points`` and return, per working point, the efficiency in m_jj quartiles
    with the fixed and the m_jj-dependent threshold (``degree``, ``knots``: as
    :func:`fit_quantile_threshold`; the knots each working point was given are recorded in
    ``mjj_calibration``)."""
    import json

    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set
    from jetad.models import load_metadata, score_matrix
    from jetad.models.export import WORKING_POINTS, metadata_path

    metadata = load_metadata(model_path)
    feature_set = get_feature_set(metadata["feature_set"])
    rows, summary = feature_rows(feature_set, background, also=("mjj",))
    rows = np.asarray(np.ma.filled(rows, np.nan))
    score = score_matrix(model_path, rows[:, :-1])[:, 0]
    mjj = rows[:, -1]
    fits, report = {}, {}
    for name, efficiency in WORKING_POINTS.items():
        fit = fit_quantile_threshold(score, mjj, efficiency, degree, knots)
        fits[f"{name}_mjj"] = fit
        report[name] = {
            "fixed": flatness(score, mjj, metadata["working_points"][name]),
            "mjj": flatness(score, mjj, quantile_threshold(fit, mjj)),
        }
    metadata["mjj_working_points"] = fits
    metadata["mjj_calibration"] = {"files": summary["files"], "rows": summary["rows"],
                                   "degree": degree,
                                   "knots": {name: len(fit.get("knots", []))
                                             for name, fit in fits.items()}}  # fmt: skip
    metadata_path(model_path).write_text(json.dumps(metadata, indent=2) + "\n")
    return report


def mass_weights(
    mass: np.ndarray, reference_mass: np.ndarray, bins: int = 40
) -> np.ndarray:
    """Per-jet weights that give ``mass`` the distribution of ``reference_mass``.

    Histogram-ratio reweighting: ``bins`` equal bins spanning the reference's range; a jet in
    bin k gets p_ref(k) / p(k); jets outside the reference's range, or in a bin where the
    reference has none, get 0. The weights are normalised to a mean of 1 over ``mass``.

    Args:
        mass: the jet masses to reweight, e.g. the outlier-exposure jets' (GeV).
        reference_mass: the target's jet masses, e.g. the QCD training jets' (GeV).
        bins: histogram bins; each should hold enough of both samples.

    Raises:
        ValueError: when no jet of ``mass`` lies where the reference has jets.
    """
    mass = np.asarray(mass, dtype=float)
    reference_mass = np.asarray(reference_mass, dtype=float)
    edges = np.histogram_bin_edges(reference_mass, bins=bins)
    reference, _ = np.histogram(reference_mass, edges)
    ours, _ = np.histogram(mass, edges)
    ratio = np.divide(
        reference / reference.sum(),
        ours / max(ours.sum(), 1),
        out=np.zeros(len(reference)),
        where=ours > 0,
    )
    index = np.clip(np.searchsorted(edges, mass, side="right") - 1, 0, bins - 1)
    inside = (mass >= edges[0]) & (mass <= edges[-1])
    weights = np.where(inside, ratio[index], 0.0)
    if not weights.sum() > 0:
        raise ValueError(
            f"no jet mass lies in the reference's range [{edges[0]:.1f}, {edges[-1]:.1f}] GeV"
        )
    return weights * (len(weights) / weights.sum())
