"""N-subjettiness τ_N (Thaler, Van Tilburg), normalized measure, batched with numba.

τ_N^(β) = Σ_k pT_k · min_a ΔR_{a,k}^β / (Σ_k pT_k · R0^β), with ΔR in rapidity and azimuth.

Axes, as fjcontrib's ``Nsubjettiness`` names them:

- ``"kt"``: the exclusive-kT subjets (E-scheme, R = ∞) of the jet;
- ``"wta_kt"``: the same with winner-take-all recombination;
- ``"onepass_kt"`` (CMS default): kT axes refined by iterating the conical-measure Lloyd
  update until the mean axis displacement is below 10⁻⁴ (at most 1000 iterations).

A jet with no more than N constituents has τ_N = 0, as in fjcontrib; a jet with no
constituents has τ_N = NaN.
"""

from __future__ import annotations

import awkward as ak
import numba
import numpy as np

from jetad.observables._batch import TWO_PI, JetBatch, jet_map, wrap_phi
from jetad.observables._clustering import MAX_RAP, cluster_tree, exclusive_axes

__all__ = ["AXES", "nsubjettiness", "tau21", "tau32"]

AXES = {"kt": 0, "wta_kt": 1, "onepass_kt": 2}
_PRECISION = 1e-4
_MAX_ITERATIONS = 1000


# error_model="numpy": a float division by zero gives inf instead of raising, so numba does
# not test every divisor, and the loop of the weights' square roots and divisions vectorises
# (the kernel 1.3x faster, bench/pipeline.py --breakdown; the same bits: the divisors are > 0)
@numba.njit(cache=True, error_model="numpy")
def _refine(pt, rap, phi, axes, beta):
    """fjcontrib's one-pass minimisation of the conical measure, in place on ``axes``.

    Each Lloyd iteration assigns every particle to its nearest axis and moves each axis to
    the weighted centroid of its particles. The loops run over particles innermost, keeping
    the nearest axis by selection, so LLVM vectorises the distances and the weights' square
    roots; the centroids are summed particle by particle, as in fjcontrib (for one axis in
    registers, not through memory), so the axes are the same to the last bit.
    """
    n_axes = axes.shape[0]
    n = len(pt)
    precision2 = _PRECISION * _PRECISION
    new = np.empty((n_axes, 3))
    assignment = np.empty(n, dtype=np.int64)
    nearest2 = np.empty(n)  # ΔR² to the nearest axis so far
    weight = np.empty(n)  # first its regularised ΔR², δR² + ε², then the weight
    shifted = np.empty(n)  # φ moved by 2π to the nearest axis' side of the 0/2π seam
    cmp = np.inf
    iteration = 0
    ever_assigned = np.zeros(n_axes, dtype=np.bool_)
    while cmp > _PRECISION and iteration < _MAX_ITERATIONS:
        iteration += 1
        nearest2[:] = np.inf
        for k in range(n_axes):  # the first nearest axis on a tie, as fjcontrib
            axis_rap, axis_phi = axes[k, 0], axes[k, 1]
            for i in range(n):
                drap = axis_rap - rap[i]
                dphi = wrap_phi(axis_phi - phi[i])
                d2 = drap * drap + dphi * dphi
                delta = phi[i] - axis_phi
                side = phi[i] - TWO_PI if delta > np.pi else phi[i]
                side = phi[i] + TWO_PI if delta < -np.pi else side
                closer = d2 < nearest2[i]
                nearest2[i] = d2 if closer else nearest2[i]
                assignment[i] = k if closer else assignment[i]
                regularised = precision2 + drap * drap + dphi * dphi
                weight[i] = regularised if closer else weight[i]
                shifted[i] = side if closer else shifted[i]
        if beta == 1.0:  # (δR² + ε²)^(β/2 − 1) pT, one loop per case: branch-free
            for i in range(n):
                weight[i] = 1.0 / np.sqrt(weight[i]) * pt[i]
        elif beta == 2.0:
            weight[:] = pt
        elif beta == 0.0:
            for i in range(n):
                weight[i] = 1.0 / weight[i] * pt[i]
        else:
            for i in range(n):
                weight[i] = weight[i] ** (0.5 * beta - 1.0) * pt[i]
        new[:] = 0.0
        if n_axes == 1:  # τ1: every particle on the one axis
            sum_rap = sum_phi = sum_weight = 0.0
            for i in range(n):
                sum_rap += weight[i] * rap[i]
                sum_phi += weight[i] * shifted[i]
                sum_weight += weight[i]
            new[0, 0], new[0, 1], new[0, 2] = sum_rap, sum_phi, sum_weight
        else:
            for i in range(n):
                k = assignment[i]
                new[k, 0] += weight[i] * rap[i]
                new[k, 1] += weight[i] * shifted[i]
                new[k, 2] += weight[i]
        cmp = 0.0
        for k in range(n_axes):
            if new[k, 2] == 0.0:
                continue
            r = new[k, 0] / new[k, 2]
            f = np.fmod(new[k, 1] / new[k, 2] + TWO_PI, TWO_PI)
            drap = axes[k, 0] - r
            dphi = wrap_phi(axes[k, 1] - f)
            cmp += np.sqrt(drap * drap + dphi * dphi)
            axes[k, 0], axes[k, 1] = r, f
            ever_assigned[k] = True
        cmp /= n_axes
    for k in range(n_axes):  # an axis that never had a particle is a zero PseudoJet
        if not ever_assigned[k]:
            axes[k, 0], axes[k, 1] = MAX_RAP, 0.0


@numba.njit(cache=True, error_model="numpy")
def _tau(pt, rap, phi, axes, beta, r0):
    nearest2 = np.full(len(pt), np.inf)
    for k in range(axes.shape[0]):  # particles innermost: vectorised
        axis_rap, axis_phi = axes[k, 0], axes[k, 1]
        for i in range(len(pt)):
            drap = axis_rap - rap[i]
            dphi = wrap_phi(axis_phi - phi[i])
            nearest2[i] = min(nearest2[i], drap * drap + dphi * dphi)
    numerator = 0.0
    denominator = 0.0
    for i in range(len(pt)):
        numerator += pt[i] * nearest2[i] ** (0.5 * beta)
        denominator += pt[i]
    return numerator / (denominator * r0**beta)


@numba.njit(cache=True, error_model="numpy")
def _nsubjettiness_kernel(offsets, pt, rap, phi, mass, nmax, beta, r0, axes_kind):
    n_jets = len(offsets) - 1
    out = np.zeros((n_jets, nmax))
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        n = hi - lo
        if n == 0:
            out[j, :] = np.nan
            continue
        if n == 1:
            continue
        p, r, f = pt[lo:hi], rap[lo:hi], phi[lo:hi]
        _, yphi, children = cluster_tree(p, r, f, mass[lo:hi], 1, axes_kind == 1)
        for order in range(1, min(nmax, n - 1) + 1):
            axes = exclusive_axes(yphi, children, order)
            if axes_kind == 2:
                _refine(p, r, f, axes, beta)
            out[j, order - 1] = _tau(p, r, f, axes, beta, r0)
    return out


def nsubjettiness(
    constituents: ak.Array,
    nmax: int = 4,
    beta: float = 1.0,
    r0: float = 0.8,
    axes: str = "onepass_kt",
) -> ak.Array:
    """τ_1 … τ_nmax of every jet, shape ``[..., nmax]`` (dimensionless).

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV),
            or their :func:`~jetad.observables.flatten_jets` shared with other observables.
        nmax: the largest N (≤ 20).
        beta: the angular exponent β > 0.
        r0: the characteristic jet radius R0 of the normalisation.
        axes: ``"onepass_kt"`` (default, as CMS NanoAOD), ``"kt"`` or ``"wta_kt"``.

    Example:
        >>> taus = nsubjettiness(events.FatJet.constituents.pf)  # doctest: +SKIP
        >>> tau21 = taus[..., 1] / taus[..., 0]                  # doctest: +SKIP
    """
    if axes not in AXES:
        raise ValueError(f"unknown axes {axes!r}; valid: {', '.join(AXES)}")
    if not 1 <= nmax <= 20:
        raise ValueError(f"nmax must lie in 1..20, got {nmax}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")

    def kernel(batch: JetBatch) -> np.ndarray:
        return _nsubjettiness_kernel(
            batch.offsets,
            batch.pt,
            batch.rap,
            batch.phi,
            batch.mass,
            nmax,
            float(beta),
            float(r0),
            AXES[axes],
        )

    return jet_map(constituents, kernel)


def _ratio(numerator: ak.Array, denominator: ak.Array) -> ak.Array:
    """numerator / denominator, NaN where the denominator is 0 (the ratio is undefined)."""
    return ak.where(denominator > 0, numerator / ak.where(denominator > 0, denominator, 1), np.nan)


def tau21(taus: ak.Array) -> ak.Array:
    """τ21 = τ2/τ1 from :func:`nsubjettiness` output; NaN where τ1 = 0."""
    return _ratio(taus[..., 1], taus[..., 0])


def tau32(taus: ak.Array) -> ak.Array:
    """τ32 = τ3/τ2 from :func:`nsubjettiness` output; NaN where τ2 = 0."""
    return _ratio(taus[..., 2], taus[..., 1])


def tau43(taus: ak.Array) -> ak.Array:
    """τ43 = τ4/τ3 from :func:`nsubjettiness` output with ``nmax ≥ 4``; NaN where τ3 = 0."""
    return _ratio(taus[..., 3], taus[..., 2])
