"""Figures of merit of an anomaly score: ROC AUC, SIC = ε_S/√ε_B, ε_B⁻¹ at ε_S = 0.5."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = ["figures_of_merit", "roc_curve", "roc_auc", "thresholds_at_efficiency"]


def roc_auc(background: np.ndarray, signal: np.ndarray) -> float:
    """P(score_signal > score_background), ties counted half (the Mann–Whitney U statistic)."""
    scores = np.concatenate([background, signal])
    ranks = rankdata(scores)
    n_b, n_s = len(background), len(signal)
    return float((ranks[n_b:].sum() - n_s * (n_s + 1) / 2) / (n_b * n_s))


def roc_curve(background: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ε_B, ε_S) for every threshold on the union of scores, a higher score being anomalous."""
    thresholds = np.unique(np.concatenate([background, signal]))[::-1]
    background, signal = np.sort(background), np.sort(signal)
    eff_b = 1.0 - np.searchsorted(background, thresholds, side="left") / len(background)
    eff_s = 1.0 - np.searchsorted(signal, thresholds, side="left") / len(signal)
    return eff_b, eff_s


def figures_of_merit(background: np.ndarray, signal: np.ndarray, min_background: int = 5) -> dict:
    """AUC, SIC_max (over thresholds keeping ≥ ``min_background`` background events) and
    ε_B⁻¹ at ε_S = 0.5."""
    background = np.asarray(background, dtype=float)
    signal = np.asarray(signal, dtype=float)
    eff_b, eff_s = roc_curve(background, signal)
    enough = eff_b * len(background) >= min_background
    sic = np.where(enough, eff_s / np.sqrt(np.where(eff_b > 0, eff_b, 1.0)), 0.0)
    at_half = eff_b[np.searchsorted(eff_s, 0.5, side="left")] if np.any(eff_s >= 0.5) else np.nan
    return {
        "auc": roc_auc(background, signal),
        "sic_max": float(sic.max()) if sic.size else float("nan"),
        "inverse_eff_b_at_eff_s_0p5": float(1.0 / at_half) if at_half > 0 else float("inf"),
        "n_background": int(len(background)),
        "n_signal": int(len(signal)),
    }


def thresholds_at_efficiency(background: np.ndarray, efficiencies: dict[str, float]) -> dict:
    """Score thresholds above which the given fractions of ``background`` lie."""
    background = np.asarray(background, dtype=float)
    return {name: float(np.quantile(background, 1.0 - eff)) for name, eff in efficiencies.items()}
