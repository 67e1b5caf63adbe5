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

__all__ = ["AXES", "nsubjettiness", "tau21", "tau32"]

AXES = {"kt": 0, "wta_kt": 1, "onepass_kt": 2}
_PRECISION = 1e-4
_MAX_ITERATIONS = 1000
_MAX_RAP = 1e5


@numba.njit(cache=True)
def _rap_phi(px, py, pz, e):
    pt2 = px * px + py * py
    if pt2 == 0.0 and e == abs(pz):
        rap = _MAX_RAP + abs(pz)
        return (rap if pz >= 0 else -rap), 0.0
    phi = np.arctan2(py, px) if pt2 > 0 else 0.0
    if phi < 0:
        phi += TWO_PI
    m2 = max(e * e - pt2 - pz * pz, 0.0)
    e_plus_pz = e + abs(pz)
    rap = 0.5 * np.log((pt2 + m2) / (e_plus_pz * e_plus_pz))
    return (-rap if pz > 0 else rap), phi


@numba.njit(cache=True)
def _exclusive_kt(pt, rap, phi, mass, nmax, wta, seeds):
    """Exclusive-kT clustering of one jet; ``seeds[N-1, :N]`` get the N-jet (rap, phi).

    ``seeds`` has shape (nmax, nmax, 2). Only N < number of particles are filled.
    """
    n = len(pt)
    px = pt * np.cos(phi)
    py = pt * np.sin(phi)
    mt = np.sqrt(pt * pt + mass * mass)
    pz = mt * np.sinh(rap)
    e = mt * np.cosh(rap)
    kt2 = pt * pt
    jrap = rap.copy()
    jphi = phi.copy()
    active = np.ones(n, dtype=np.bool_)
    nn_dist = np.full(n, np.inf)
    nn = np.full(n, -1)

    def distance(i, j):
        drap = jrap[i] - jrap[j]
        dphi = wrap_phi(jphi[i] - jphi[j])
        return min(kt2[i], kt2[j]) * (drap * drap + dphi * dphi)

    for i in range(n):
        for j in range(i + 1, n):
            d = distance(i, j)
            if d < nn_dist[i]:
                nn_dist[i], nn[i] = d, j
            if d < nn_dist[j]:
                nn_dist[j], nn[j] = d, i
    remaining = n
    while remaining > 1:
        best, a = np.inf, -1
        for i in range(n):
            if active[i] and nn_dist[i] < best:
                best, a = nn_dist[i], i
        b = nn[a]
        if wta:
            harder = a if pt[a] >= pt[b] else b
            new_pt = np.sqrt(kt2[a]) + np.sqrt(kt2[b])
            r, f = jrap[harder], jphi[harder]
            px[a], py[a] = new_pt * np.cos(f), new_pt * np.sin(f)
            pz[a], e[a] = new_pt * np.sinh(r), new_pt * np.cosh(r)
            kt2[a], jrap[a], jphi[a] = new_pt * new_pt, r, f
            pt[a] = new_pt
        else:
            px[a] += px[b]
            py[a] += py[b]
            pz[a] += pz[b]
            e[a] += e[b]
            kt2[a] = px[a] * px[a] + py[a] * py[a]
            jrap[a], jphi[a] = _rap_phi(px[a], py[a], pz[a], e[a])
            pt[a] = np.sqrt(kt2[a])
        active[b] = False
        nn_dist[b] = np.inf
        remaining -= 1
        for i in range(n):
            if active[i] and (i == a or nn[i] == a or nn[i] == b):
                nn_dist[i], nn[i] = np.inf, -1
                for j in range(n):
                    if j != i and active[j]:
                        d = distance(i, j)
                        if d < nn_dist[i]:
                            nn_dist[i], nn[i] = d, j
            elif active[i] and i != a:
                d = distance(i, a)
                if d < nn_dist[i]:
                    nn_dist[i], nn[i] = d, a
        if remaining <= nmax:
            k = 0
            for i in range(n):
                if active[i]:
                    seeds[remaining - 1, k, 0] = jrap[i]
                    seeds[remaining - 1, k, 1] = jphi[i]
                    k += 1


@numba.njit(cache=True)
def _refine(pt, rap, phi, axes, beta):
    """fjcontrib's one-pass minimisation of the conical measure, in place on ``axes``."""
    n_axes = axes.shape[0]
    n = len(pt)
    precision2 = _PRECISION * _PRECISION
    new = np.empty((n_axes, 3))
    assignment = np.empty(n, dtype=np.int64)
    cmp = np.inf
    iteration = 0
    ever_assigned = np.zeros(n_axes, dtype=np.bool_)
    while cmp > _PRECISION and iteration < _MAX_ITERATIONS:
        iteration += 1
        new[:] = 0.0
        for i in range(n):
            best = np.inf
            for k in range(n_axes):
                drap = axes[k, 0] - rap[i]
                dphi = wrap_phi(axes[k, 1] - phi[i])
                d2 = drap * drap + dphi * dphi
                if d2 < best:
                    best, assignment[i] = d2, k
        for i in range(n):
            k = assignment[i]
            drap = axes[k, 0] - rap[i]
            dphi = wrap_phi(axes[k, 1] - phi[i])
            d2 = precision2 + drap * drap + dphi * dphi
            if beta == 1.0:
                w = 1.0 / np.sqrt(d2)
            elif beta == 2.0:
                w = 1.0
            elif beta == 0.0:
                w = 1.0 / d2
            else:
                w = d2 ** (0.5 * beta - 1.0)
            w *= pt[i]
            delta = phi[i] - axes[k, 1]
            shifted = phi[i]
            if delta > np.pi:
                shifted -= TWO_PI
            elif delta < -np.pi:
                shifted += TWO_PI
            new[k, 0] += w * rap[i]
            new[k, 1] += w * shifted
            new[k, 2] += w
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
            axes[k, 0], axes[k, 1] = _MAX_RAP, 0.0


@numba.njit(cache=True)
def _tau(pt, rap, phi, axes, beta, r0):
    numerator = 0.0
    denominator = 0.0
    for i in range(len(pt)):
        best = np.inf
        for k in range(axes.shape[0]):
            drap = axes[k, 0] - rap[i]
            dphi = wrap_phi(axes[k, 1] - phi[i])
            d2 = drap * drap + dphi * dphi
            if d2 < best:
                best = d2
        numerator += pt[i] * best ** (0.5 * beta)
        denominator += pt[i]
    return numerator / (denominator * r0**beta)


@numba.njit(cache=True, parallel=False)
def _nsubjettiness_kernel(offsets, pt, rap, phi, mass, nmax, beta, r0, axes_kind):
    n_jets = len(offsets) - 1
    out = np.zeros((n_jets, nmax))
    seeds = np.empty((nmax, nmax, 2))
    for j in range(n_jets):
        lo, hi = offsets[j], offsets[j + 1]
        n = hi - lo
        if n == 0:
            out[j, :] = np.nan
            continue
        if n == 1:
            continue
        p, r, f = pt[lo:hi], rap[lo:hi], phi[lo:hi]
        _exclusive_kt(p.copy(), r, f, mass[lo:hi], nmax, axes_kind == 1, seeds)
        for order in range(1, min(nmax, n - 1) + 1):
            axes = seeds[order - 1, :order].copy()
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
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV).
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
