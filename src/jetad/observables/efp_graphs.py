"""The multigraphs that index energy flow polynomials, and energyflow-style selectors.

A graph is a tuple of edges ``(a, b)`` with ``a < b`` on vertices ``0 … n−1``; a repeated edge
is a multi-edge. Connected graphs are *prime*; a disconnected graph is *composite*, and its EFP
is the product of its components' EFPs. The graph with one vertex and no edge (d = 0) is the
constant EFP = 1.

Graphs are enumerated, not read from a table: connected graphs with d edges are grown from
those with d − 1 by adding an edge between two vertices or to a new vertex, and deduplicated by
a canonical form (the smallest sorted edge list over all vertex relabellings).

**Order.** Graphs are sorted by the number of edges d, then the number of vertices n, then the
number of prime components p, then the canonical edge list. ``d <= 5`` gives 102 graphs, of
which 54 are prime, as in energyflow.
"""

from __future__ import annotations

import itertools
import operator
import re
from dataclasses import dataclass
from functools import cache

__all__ = ["Graph", "efp_graphs", "parse_selector"]

Edges = tuple[tuple[int, int], ...]
MAX_DEGREE = 6


@dataclass(frozen=True)
class Graph:
    """One EFP multigraph.

    Attributes:
        edges: the canonical edge list (multi-edges repeated).
        n: the number of vertices.
        components: the prime components, as canonical edge lists (one for a prime graph).
    """

    edges: Edges
    n: int
    components: tuple[Edges, ...]

    @property
    def d(self) -> int:
        """The number of edges (the degree of the polynomial in the angles)."""
        return len(self.edges)

    @property
    def p(self) -> int:
        """The number of prime components."""
        return len(self.components)

    @property
    def prime(self) -> bool:
        return self.p == 1


def _n_vertices(edges: Edges) -> int:
    return 1 + max((b for _, b in edges), default=0)


def _invariant(edges: Edges, n: int) -> list[tuple]:
    """A relabelling-invariant signature per vertex: degree, multiplicities, neighbour degrees."""
    degree = [0] * n
    multiplicity: dict[tuple[int, int], int] = {}
    for a, b in edges:
        degree[a] += 1
        degree[b] += 1
        multiplicity[a, b] = multiplicity.get((a, b), 0) + 1
    signature = []
    for v in range(n):
        touching = [(k, a if b == v else b) for (a, b), k in multiplicity.items() if v in (a, b)]
        signature.append(
            (
                degree[v],
                tuple(sorted(k for k, _ in touching)),
                tuple(sorted(degree[u] for _, u in touching)),
            )
        )
    return signature


def _canonical(edges: Edges, n: int) -> Edges:
    """The smallest sorted edge list over relabellings that order vertices by invariant."""
    signature = _invariant(edges, n)
    classes = [[v for v in range(n) if signature[v] == key] for key in sorted(set(signature))]
    best = None
    for orders in itertools.product(*(itertools.permutations(c) for c in classes)):
        perm = [0] * n
        for label, v in enumerate(itertools.chain.from_iterable(orders)):
            perm[v] = label
        relabelled = tuple(sorted((min(perm[a], perm[b]), max(perm[a], perm[b])) for a, b in edges))
        if best is None or relabelled < best:
            best = relabelled
    return best


@cache
def _connected(d: int) -> tuple[Edges, ...]:
    """Canonical connected multigraphs with exactly ``d`` edges."""
    if d == 0:
        return ((),)
    if d == 1:
        return (((0, 1),),)
    found = set()
    for graph in _connected(d - 1):
        n = _n_vertices(graph)
        candidates = [(a, b) for a in range(n) for b in range(a + 1, n)]
        candidates += [(a, n) for a in range(n)]
        for edge in candidates:
            grown = (*graph, edge)
            found.add(_canonical(grown, _n_vertices(grown)))
    return tuple(sorted(found))


def _compose(components: tuple[Edges, ...]) -> tuple[Edges, int]:
    edges, offset = [], 0
    for component in components:
        edges += [(a + offset, b + offset) for a, b in component]
        offset += _n_vertices(component)
    return tuple(edges), offset


@cache
def _all_graphs(dmax: int) -> tuple[Graph, ...]:
    if not 0 <= dmax <= MAX_DEGREE:
        raise ValueError(f"EFP graphs are enumerated up to d = {MAX_DEGREE}, got d <= {dmax}")
    primes = [g for d in range(1, dmax + 1) for g in _connected(d)]

    def multisets(start: int, budget: int):
        """Non-decreasing tuples of prime indices with at most ``budget`` edges in all."""
        for i in range(start, len(primes)):
            if len(primes[i]) <= budget:
                yield (i,)
                for rest in multisets(i, budget - len(primes[i])):
                    yield (i, *rest)

    graphs = [Graph((), 1, ((),))]
    for combo in multisets(0, dmax):
        components = tuple(primes[i] for i in combo)
        edges, n = _compose(components)
        graphs.append(Graph(edges, n, components))
    return tuple(sorted(graphs, key=lambda g: (g.d, g.n, g.p, g.edges)))


_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_CLAUSE = re.compile(r"^\s*([dnp])\s*(<=|>=|==|<|>)\s*(\d+)\s*$")


def parse_selector(selector: str | tuple[str, ...]) -> list[tuple[str, str, int]]:
    """Clauses ``(variable, operator, value)`` of a selector such as ``"d<=5 & p==1"``.

    Variables: ``d`` (edges), ``n`` (vertices), ``p`` (prime components). Clauses are joined
    by ``&`` or ``,``, or given as a tuple of strings, as energyflow's ``EFPSet('d<=5', 'p==1')``.
    """
    parts = selector if isinstance(selector, tuple | list) else re.split(r"[&,]", selector)
    clauses = []
    for part in parts:
        match = _CLAUSE.match(part)
        if not match:
            raise ValueError(
                f"cannot parse EFP selector clause {part.strip()!r}; "
                "expected e.g. 'd<=5', 'n==3', 'p==1'"
            )
        clauses.append((match[1], match[2], int(match[3])))
    if not any(var == "d" and op in ("<=", "<", "==") for var, op, _ in clauses):
        raise ValueError(f"EFP selector {selector!r} needs an upper bound on d, e.g. 'd<=5'")
    return clauses


def efp_graphs(selector: str | tuple[str, ...] = "d<=5", prime: bool = False) -> list[Graph]:
    """The graphs selected by ``selector`` (and only prime ones if ``prime``), in EFP order.

    Example:
        >>> len(efp_graphs("d<=5")), len(efp_graphs("d<=5", prime=True))
        (102, 54)
        >>> efp_graphs("d==1")[0].edges
        ((0, 1),)
    """
    clauses = parse_selector(selector)
    dmax = max(
        value - (op == "<") for var, op, value in clauses if var == "d" and op in ("<=", "<", "==")
    )
    selected = []
    for graph in _all_graphs(min(dmax, MAX_DEGREE) if dmax <= MAX_DEGREE else dmax):
        values = {"d": graph.d, "n": graph.n, "p": graph.p}
        if all(_OPS[op](values[var], value) for var, op, value in clauses):
            if graph.prime or not prime:
                selected.append(graph)
    return selected
