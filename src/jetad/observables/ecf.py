"""Energy correlation functions and their ratios C2, D2 (Larkoski, Salam, Thaler) and N2
(Moult, Necib, Thaler), batched with numba.

With z_i = pT_i / Σ_j pT_j and θ_ij = ΔR_ij (rapidity–azimuth):

- e2^(β) = Σ_{i<j} z_i z_j θ_ij^β  (= ₁e2^(β))
- e3^(β) = Σ_{i<j<k} z_i z_j z_k (θ_ij θ_ik θ_jk)^β
- ₂e3^(β) = Σ_{i<j<k} z_i z_j z_k · (product of the two smallest of θ_ij, θ_ik, θ_jk)^β
- C2 = e3/e2², D2 = e3/e2³, N2 = ₂e3/e2²

Policy for undefined values: a jet without constituents gets NaN everywhere; a jet whose
e2 is 0 (one constituent, or all collinear) has e2 = e3 = 0 and NaN ratios.
"""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np

from jetad.observables._batch import JetBatch, jet_map, wrap_phi

__all__ = ["KINDS", "energy_correlation", "energy_correlations"]

KINDS = ("e2", "e3", "e3_2", "c2", "d2", "n2")


@numba.njit(cache=True, error_model="numpy")
def _e3(z, theta):
    """e3 of one jet: Σ_{a<b<c} z_a z_b z_c θ_ab θ_ac θ_bc."""
    n = len(z)
    e3 = 0.0
    for a in range(n):
        for b in range(a + 1, n):
            zab, tab = z[a] * z[b], theta[a, b]
            for c in range(b + 1, n):
                e3 += zab * z[c] * tab * theta[a, c] * theta[b, c]
    return e3


@numba.njit(cache=True, error_model="numpy")
def _e3_and_e3_2(z, theta):
    """e3 and ₂e3 of one jet in one triple sum (₂e3: the product of the two smallest angles,
    i.e. the product of all three over the largest)."""
    n = len(z)
    e3 = 0.0
    e3_2 = 0.0
    for a in range(n):
        for b in range(a + 1, n):
            zab, tab = z[a] * z[b], theta[a, b]
            for c in range(b + 1, n):
                tac, tbc = theta[a, c], theta[b, c]
                zabc = zab * z[c]
                e3 += zabc * tab * tac * tbc
                largest = max(tab, tac, tbc)
                if largest > 0.0:
                    e3_2 += zabc * tab * tac * tbc / largest
    return e3, e3_2


@numba.njit(cache=True, error_model="numpy")
def _ecf_kernel(offsets, pt, rap, phi, beta, with_e3_2):
    """(e2, e3, ₂e3) per jet; ₂e3 NaN unless ``with_e3_2`` (e3 alone is half the work)."""
    n_jets = len(offsets) - 1
    out = np.full((n_jets, 3), np.nan)
    half_beta = 0.5 * beta
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        n = hi - lo
        if n == 0:
            continue
        total = 0.0
        for i in range(lo, hi):
            total += pt[i]
        z = pt[lo:hi] / total
        theta = np.zeros((n, n))
        e2 = 0.0
        for a in range(n):
            for b in range(a + 1, n):
                drap = rap[lo + a] - rap[lo + b]
                dphi = wrap_phi(phi[lo + a] - phi[lo + b])
                t = (drap * drap + dphi * dphi) ** half_beta
                theta[a, b] = t
                theta[b, a] = t
                e2 += z[a] * z[b] * t
        out[j, 0] = e2
        if with_e3_2:
            out[j, 1], out[j, 2] = _e3_and_e3_2(z, theta)
        else:
            out[j, 1] = _e3(z, theta)
    return out


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def energy_correlations(
    constituents: ak.Array, beta: float = 1.0, with_n2: bool = True
) -> ak.Array:
    """All of e2, e3, e3_2 (= ₂e3), C2, D2 and N2 at one β, as a record per jet.

    The O(n³) triple sum is done once and shared by every ratio.

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV),
            or their :func:`~jetad.observables.flatten_jets` shared with other observables.
        beta: the angular exponent β > 0 (the WNAE inputs use C2 at β = 0.5).
        with_n2: False skips ₂e3 (e3_2 and N2 are then NaN), half the triple sum's time; e2,
            e3, C2 and D2 are the same to the last bit.
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")

    def kernel(batch: JetBatch) -> dict[str, np.ndarray]:
        e2, e3, e3_2 = _ecf_kernel(batch.offsets, batch.pt, batch.rap, batch.phi, float(beta),
                                   bool(with_n2)).T  # fmt: skip
        return {
            "e2": e2,
            "e3": e3,
            "e3_2": e3_2,
            "c2": _safe_divide(e3, e2**2),
            "d2": _safe_divide(e3, e2**3),
            "n2": _safe_divide(e3_2, e2**2),
        }

    return jet_map(constituents, kernel)


def energy_correlation(constituents: ak.Array, kind: str, beta: float = 1.0) -> ak.Array:
    """One energy-correlation observable per jet: ``kind`` in e2, e3, e3_2, c2, d2, n2.

    Example:
        >>> c2 = energy_correlation(constituents, "c2", beta=0.5)  # doctest: +SKIP
    """
    if kind not in KINDS:
        raise ValueError(f"unknown energy correlation {kind!r}; valid: {', '.join(KINDS)}")
    return energy_correlations(constituents, beta, with_n2=kind in ("e3_2", "n2"))[kind]
