"""Energy flow polynomials (Komiske, Metodiev, Thaler), batched over many jets.

For a multigraph G with N vertices and edges E,

    EFP_G = Σ_{i1…iN} z_{i1} ⋯ z_{iN} Π_{(k,l)∈E} θ_{i_k i_l},   θ_ij = ΔR_ij^β,

with z_i = pT_i / Σ_j pT_j, ΔR in rapidity–azimuth, and sums over *all* index tuples (θ_ii = 0).

**Algorithm.** energyflow contracts each graph with one einsum per jet. Here jets are sorted by
multiplicity and padded into blocks of similar size, and every prime graph is contracted by
variable elimination: a leaf vertex becomes a batched matrix–vector product (O(n²)), a vertex
of degree two becomes a batched matrix product θ diag(f) θ (O(n³)); every graph with d ≤ 5 has
treewidth ≤ 2, so nothing larger is needed. Intermediate vectors and matrices are memoised by
their expression, so graphs that share a sub-contraction (most of them) compute it once per
block. Composite graphs are products of their prime components.

A jet without constituents gives NaN for every EFP.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

import awkward as ak
import numpy as np

from jetad.observables._batch import TWO_PI, JetBatch, jet_map
from jetad.observables.efp_graphs import Edges, Graph, efp_graphs

__all__ = ["efp", "efp_graphs", "efp_names"]

#: Upper bound on block size × n² (float64 entries per cached matrix): 1 MiB matrices keep a
#: block's working set near the cache; measured 1.29× faster than 8 MiB (2^20 entries) and
#: faster than 2^16 or 2^15 on 3000 AK8 jets, one thread.
_BLOCK_ENTRIES = 1 << 17


def _transpose(expr: tuple) -> tuple:
    kind = expr[0]
    if kind in ("theta", "chain_sym"):
        return expr
    if kind == "T":
        return expr[1]
    if kind == "had":
        return ("had", *sorted((_transpose(e) for e in expr[1:]), key=repr))
    if kind == "chain":
        _, left, vector, right = expr
        flipped = ("chain", _transpose(right), vector, _transpose(left))
        return flipped if repr(flipped) < repr(expr) else ("T", expr)
    return ("T", expr)


def _chain(left: tuple, vector: tuple, right: tuple) -> tuple:
    """left · diag(vector) · right, marked symmetric when it equals its own transpose.

    Of a product and its transpose, only the one with the smaller ``repr`` is ever computed;
    the other is its transposed view.
    """
    if right == _transpose(left):
        return ("chain_sym", left, vector, right)
    product = ("chain", left, vector, right)
    flipped = ("chain", _transpose(right), vector, _transpose(left))
    return ("T", flipped) if repr(flipped) < repr(product) else product


def _had(*exprs: tuple) -> tuple:
    return exprs[0] if len(exprs) == 1 else ("had", *sorted(exprs, key=repr))


@cache
def _plan(edges: Edges) -> tuple:
    """The scalar expression of a connected graph, by min-degree variable elimination."""
    n = 1 + max((b for _, b in edges), default=0)
    multiplicity: dict[tuple[int, int], int] = defaultdict(int)
    for edge in edges:
        multiplicity[edge] += 1
    matrix: dict[tuple[int, int], tuple] = {e: ("theta", k) for e, k in multiplicity.items()}
    vector = {v: ("z",) for v in range(n)}
    alive = set(range(n))

    def edge(u: int, v: int) -> tuple | None:
        if (u, v) in matrix:
            return matrix[u, v]
        if (v, u) in matrix:
            return _transpose(matrix[v, u])
        return None

    def neighbours(v: int) -> list[int]:
        return sorted(u for u in alive if u != v and edge(u, v) is not None)

    while len(alive) > 1:
        v = min(alive, key=lambda x: (len(neighbours(x)), x))
        around = neighbours(v)
        if len(around) == 1:
            (u,) = around
            vector[u] = _had(vector[u], ("mv", edge(u, v), vector[v]))
        elif len(around) == 2:
            a, b = around
            product = _chain(edge(a, v), vector[v], edge(v, b))
            existing = edge(a, b)
            new = product if existing is None else _had(existing, product)
            matrix.pop((b, a), None)
            matrix[a, b] = new
        else:
            raise ValueError(f"graph {edges} has treewidth > 2; not supported")
        for u in around:
            matrix.pop((u, v), None)
            matrix.pop((v, u), None)
        alive.remove(v)
    (last,) = alive
    return ("sum", vector[last])


class _Block:
    """Padded z (B, n) and ΔR (B, n, n) of a block of jets, with memoised sub-contractions."""

    def __init__(self, z: np.ndarray, delta_r2: np.ndarray, beta: float):
        self.z = z
        if beta == 2.0:
            theta = delta_r2
        elif beta == 1.0:
            theta = np.sqrt(delta_r2)
        else:
            theta = delta_r2 ** (0.5 * beta)
        self.memo: dict[tuple, np.ndarray] = {("theta", 1): theta}

    def __call__(self, expr: tuple) -> np.ndarray:
        if expr in self.memo:
            return self.memo[expr]
        kind = expr[0]
        if kind == "z":
            value = self.z
        elif kind == "theta":  # θ^k as θ^(k−1) · θ: a multiplication, not a pow
            value = self(("theta", expr[1] - 1)) * self.memo["theta", 1]
        elif kind == "T":
            value = np.swapaxes(self(expr[1]), 1, 2)
        elif kind == "had":
            value = self(expr[1])
            for other in expr[2:]:
                value = value * self(other)
        elif kind == "mv":
            value = np.matmul(self(expr[1]), self(expr[2])[:, :, None])[:, :, 0]
        elif kind in ("chain", "chain_sym"):
            _, left, vector, right = expr
            value = np.matmul(self(left) * self(vector)[:, None, :], self(right))
        elif kind == "sum":
            value = self(expr[1]).sum(axis=1)
        else:
            raise AssertionError(kind)
        self.memo[expr] = value
        return value


def _blocks(batch: JetBatch):
    """Yield (jet indices, z, ΔR²) for blocks of jets of similar multiplicity, zero-padded."""
    counts = np.diff(batch.offsets)
    order = np.argsort(counts, kind="stable")
    start = 0
    while start < len(order):
        size = max(int(counts[order[start]]), 1)
        width = int(np.ceil(size / 8) * 8)
        stop = start
        limit = max(1, _BLOCK_ENTRIES // (width * width))
        while stop < len(order) and counts[order[stop]] <= width and stop - start < limit:
            stop += 1
        jets = order[start:stop]
        index = batch.offsets[jets][:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < counts[jets][:, None]
        index = np.where(valid, index, 0)
        pt = np.where(valid, batch.pt[index] if len(batch.pt) else 0.0, 0.0)
        rap = np.where(valid, batch.rap[index] if len(batch.rap) else 0.0, 0.0)
        phi = np.where(valid, batch.phi[index] if len(batch.phi) else 0.0, 0.0)
        total = pt.sum(axis=1, keepdims=True)
        z = pt / np.where(total > 0, total, 1.0)
        drap = rap[:, :, None] - rap[:, None, :]
        dphi = np.abs(phi[:, :, None] - phi[:, None, :])
        dphi = np.where(dphi > np.pi, TWO_PI - dphi, dphi)
        yield jets, z, drap**2 + dphi**2
        start = stop


def _evaluate(batch: JetBatch, graphs: list[Graph], beta: float) -> np.ndarray:
    primes = sorted({c for g in graphs for c in g.components if c})
    out = np.empty((batch.n_jets, len(graphs)))
    empty = np.diff(batch.offsets) == 0
    for jets, z, delta_r2 in _blocks(batch):
        block = _Block(z, delta_r2, beta)
        values = {c: block(_plan(c)) for c in primes}
        for column, graph in enumerate(graphs):
            result = np.ones(len(jets))
            for component in graph.components:
                if component:
                    result = result * values[component]
            out[jets, column] = result
    out[empty] = np.nan
    return out


def efp_names(selector: str | tuple[str, ...] = "d<=5", prime: bool = False) -> list[str]:
    """Column names of :func:`efp`: ``efp_d{d}_k{k}``, k counting graphs of degree d in order."""
    names, seen = [], defaultdict(int)
    for graph in efp_graphs(selector, prime):
        names.append(f"efp_d{graph.d}_k{seen[graph.d]}")
        seen[graph.d] += 1
    return names


def efp(
    constituents: ak.Array,
    selector: str | tuple[str, ...] = "d<=5",
    beta: float = 1.0,
    prime: bool = False,
) -> ak.Array:
    """Energy flow polynomials of every jet, one column per graph, shape ``[..., n_graphs]``.

    Args:
        constituents: ``[events ×] jets × constituents`` with ``pt, eta, phi, mass`` (GeV),
            or their :func:`~jetad.observables.flatten_jets` shared with other observables.
        selector: which graphs, as energyflow writes it: ``"d<=5"``, ``"d<=5 & p==1"``,
            ``("d<=4", "n<=3")``. The columns follow :func:`efp_graphs` order, and
            ``efp_graphs(selector, prime)[k].edges`` is the graph of column k.
        beta: the angular exponent of θ_ij = ΔR_ij^β.
        prime: keep only the prime (connected) graphs.

    Example:
        >>> efp1 = efp(constituents, "d==1")[..., 0]   # Σ_ij z_i z_j ΔR_ij  # doctest: +SKIP
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    graphs = efp_graphs(selector, prime)
    if not graphs:
        raise ValueError(f"EFP selector {selector!r} selects no graph")

    def kernel(batch: JetBatch) -> np.ndarray:
        return _evaluate(batch, graphs, float(beta))

    return jet_map(constituents, kernel)
