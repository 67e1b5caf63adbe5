"""Sequential-recombination clustering of one jet's constituents, as numba kernels.

Shared by N-subjettiness (exclusive-kT seed axes) and soft drop (the C/A tree). The
generalised-kT distance is d_ij = min(pT_i^2p, pT_j^2p) · ΔR_ij² with R = ∞ (no beam
distance), so every step merges the closest pair until one jet is left: p = 1 is kT, p = 0 is
Cambridge/Aachen. As in fastjet's N2Plain strategy, each cluster's geometric nearest neighbour
is cached, so a jet of n constituents costs O(n²).

Node k < n is constituent k; node n + m is the m-th merging. Rapidity and azimuth follow
fastjet's conventions (φ in [0, 2π)).
"""

from __future__ import annotations

import numba
import numpy as np

from jetad.observables._batch import TWO_PI, wrap_phi

__all__ = ["cluster_tree", "exclusive_axes", "rap_phi"]

MAX_RAP = 1e5


@numba.njit(cache=True, error_model="numpy")
def rap_phi(px, py, pz, e):
    """fastjet's rapidity and azimuth of a four-momentum (rapidity ±1e5 along the beam)."""
    pt2 = px * px + py * py
    if pt2 == 0.0 and e == abs(pz):
        rap = MAX_RAP + abs(pz)
        return (rap if pz >= 0 else -rap), 0.0
    phi = np.arctan2(py, px) if pt2 > 0 else 0.0
    if phi < 0:
        phi += TWO_PI
    m2 = max(e * e - pt2 - pz * pz, 0.0)
    e_plus_pz = e + abs(pz)
    rap = 0.5 * np.log((pt2 + m2) / (e_plus_pz * e_plus_pz))
    return (-rap if pz > 0 else rap), phi


@numba.njit(cache=True, inline="always", error_model="numpy")
def _dr2(rap_a, phi_a, rap_b, phi_b):
    drap = rap_a - rap_b
    dphi = wrap_phi(phi_a - phi_b)
    return drap * drap + dphi * dphi


@numba.njit(cache=True, error_model="numpy")
def _distances(i, count, srap, sphi, out):
    """ΔR² of slots ``0..count-1`` to slot ``i`` into ``out`` (∞ for ``i`` itself); a
    branch-free loop, so vectorised."""
    for k in range(count):
        out[k] = _dr2(srap[i], sphi[i], srap[k], sphi[k])
    out[i] = np.inf


@numba.njit(cache=True, error_model="numpy")
def _first_min(values, count):
    """The smallest of ``values[:count]`` and its index (the first on a tie)."""
    best, index = np.inf, -1
    for k in range(count):
        if values[k] < best:
            best, index = values[k], k
    return best, index


@numba.njit(cache=True, error_model="numpy")
def cluster_tree(pt, rap, phi, mass, p, winner_take_all):
    """Cluster one jet completely.

    Args:
        pt, rap, phi, mass: the constituents (GeV, φ in [0, 2π)).
        p: the generalised-kT exponent (1 kT, 0 C/A).
        winner_take_all: recombine as WTA (pT sum along the harder branch, massless) instead of
            the E-scheme four-vector sum.

    Returns:
        ``p4`` (2n−1, 4) node four-momenta (px, py, pz, E), ``yphi`` (2n−1, 2) their rapidity
        and azimuth, and ``children`` (2n−1, 2), −1 for constituents.
    """
    n = len(pt)
    size = 2 * n - 1
    p4 = np.zeros((size, 4))
    yphi = np.zeros((size, 2))
    node_pt = np.zeros(size)
    children = np.full((size, 2), -1)
    for k in range(n):  # one loop: no temporary array per line
        mt = np.sqrt(pt[k] * pt[k] + mass[k] * mass[k])
        p4[k, 0] = pt[k] * np.cos(phi[k])
        p4[k, 1] = pt[k] * np.sin(phi[k])
        p4[k, 2] = mt * np.sinh(rap[k])
        p4[k, 3] = mt * np.cosh(rap[k])
    yphi[:n, 0] = rap
    yphi[:n, 1] = phi
    node_pt[:n] = pt
    # The live clusters occupy slots 0..count-1 (a removed slot is refilled by the last one, so
    # every scan shrinks as clustering proceeds). As in fastjet's N2Plain strategy, the pair of
    # smallest d_ij is a geometric nearest-neighbour pair, so each slot caches only its nearest
    # neighbour in ΔR; a merge rescans just the slots whose neighbour it took away.
    weight = pt ** (2 * p) if p != 0 else np.ones(n)
    node = np.arange(n)  # slot -> node id
    srap, sphi = rap.copy(), phi.copy()  # slot -> rapidity, azimuth
    nn = np.full(n, -1)
    nn_dr2 = np.full(n, np.inf)
    to_a = np.empty(n)  # ΔR² of every slot to one slot
    stale = np.empty(n, dtype=np.bool_)
    for a in range(n):  # ΔR² is exactly symmetric: row a updates every slot's neighbour, and
        _distances(a, n, srap, sphi, to_a)  # taking rows in order keeps the first on a tie
        for k in range(n):
            closer = to_a[k] < nn_dr2[k]
            nn_dr2[k] = to_a[k] if closer else nn_dr2[k]
            nn[k] = a if closer else nn[k]
    best, a = np.inf, -1
    for i in range(n):
        d = min(weight[i], weight[nn[i]]) * nn_dr2[i]
        if d < best:
            best, a = d, i
    count = n
    for m in range(n - 1):
        b = nn[a]
        na, nb, new = node[a], node[b], n + m
        if winner_take_all:
            harder = na if node_pt[na] >= node_pt[nb] else nb
            new_pt = node_pt[na] + node_pt[nb]
            r, f = yphi[harder, 0], yphi[harder, 1]
            p4[new] = (
                new_pt * np.cos(f),
                new_pt * np.sin(f),
                new_pt * np.sinh(r),
                new_pt * np.cosh(r),
            )
            yphi[new, 0], yphi[new, 1] = r, f
            node_pt[new] = new_pt
        else:
            for c in range(4):  # a scalar sum: no temporary array per merge
                p4[new, c] = p4[na, c] + p4[nb, c]
            yphi[new, 0], yphi[new, 1] = rap_phi(p4[new, 0], p4[new, 1], p4[new, 2], p4[new, 3])
            node_pt[new] = np.hypot(p4[new, 0], p4[new, 1])
        children[new, 0], children[new, 1] = na, nb
        if m == n - 2:
            break
        node[a] = new
        weight[a] = node_pt[new] ** (2 * p) if p != 0 else 1.0
        srap[a], sphi[a] = yphi[new, 0], yphi[new, 1]
        # slot b is gone: the last slot moves into it; pointers to b or to the merged a are
        # stale (rescanned below), pointers to the last slot now mean b
        merged, last = a, count - 1
        if b != last:
            node[b], weight[b], srap[b], sphi[b] = node[last], weight[last], srap[last], sphi[last]
            nn[b], nn_dr2[b] = nn[last], nn_dr2[last]
            if a == last:
                a = b
        count -= 1
        # Sweeps over the slots, each branch-free or nearly so (vectorised): ΔR² to the merged
        # cluster, with every other slot's cached neighbour updated by it; the merged
        # cluster's own neighbour; a rescan of the slots whose neighbour is gone; the next
        # pair. A slot's update depends only on its own cache, so the values and ties are
        # those of fastjet's single loop.
        for i in range(count):
            d = _dr2(srap[i], sphi[i], srap[a], sphi[a])
            to_a[i] = d
            j = nn[i]
            lost = ((j == merged) | (j == b)) & (i != a)
            stale[i] = lost
            closer = (d < nn_dr2[i]) & ~lost & (i != a)
            nn[i] = a if closer else (b if j == last else j)
            nn_dr2[i] = d if closer else nn_dr2[i]
        to_a[a] = np.inf
        nn_dr2[a], nn[a] = _first_min(to_a, count)
        for i in range(count):
            if stale[i]:
                _distances(i, count, srap, sphi, to_a)  # to_a is not needed any more
                nn_dr2[i], nn[i] = _first_min(to_a, count)
        best, closest = np.inf, -1
        for i in range(count):
            d = min(weight[i], weight[nn[i]]) * nn_dr2[i]
            if d < best:
                best, closest = d, i
        a = closest
    return p4, yphi, children


@numba.njit(cache=True, error_model="numpy")
def exclusive_axes(yphi, children, n_jets):
    """(rapidity, φ) of the ``n_jets`` exclusive jets: the nodes alive after n − n_jets merges."""
    size = len(yphi)
    n = (size + 1) // 2
    created = n + (n - n_jets)  # nodes with a smaller id exist at that point
    parent = np.full(size, size)
    for k in range(n, size):
        parent[children[k, 0]] = k
        parent[children[k, 1]] = k
    axes = np.empty((n_jets, 2))
    j = 0
    for k in range(created):
        if parent[k] >= created:
            axes[j, 0], axes[j, 1] = yphi[k, 0], yphi[k, 1]
            j += 1
    return axes
