"""EFPs against a brute-force einsum over all index tuples, and the graph enumeration."""

from __future__ import annotations

import importlib
import string
from collections import Counter

import awkward as ak
import numpy as np
import pytest

from jetad.observables import efp, efp_graphs, efp_names
from reference import numpy_jets, theta_matrix, toy_jets


def brute_force(z: np.ndarray, theta: np.ndarray, edges, n_vertices: int) -> float:
    """Σ over all N-tuples of Π z · Π θ, spelled out as one einsum (energyflow's definition)."""
    letters = string.ascii_letters
    operands = [z] * n_vertices + [theta] * len(edges)
    subscripts = [letters[v] for v in range(n_vertices)] + [
        letters[a] + letters[b] for a, b in edges
    ]
    return np.einsum(",".join(subscripts) + "->", *operands, optimize="greedy")


def test_graph_counts_match_energyflow():
    graphs = efp_graphs("d<=5")
    assert len(graphs) == 102 and sum(g.prime for g in graphs) == 54
    assert Counter(g.d for g in graphs if g.prime) == {0: 1, 1: 1, 2: 2, 3: 5, 4: 12, 5: 33}
    assert len(efp_graphs("d<=6")) == 314 and len(efp_graphs("d<=6", prime=True)) == 157
    assert [g.edges for g in efp_graphs("d<=5", prime=True)] == [
        g.edges for g in efp_graphs("d<=5 & p==1")
    ]
    assert [g.edges for g in efp_graphs("d<=2")] == [
        (),
        ((0, 1),),
        ((0, 1), (0, 1)),
        ((0, 2), (1, 2)),
        ((0, 1), (2, 3)),
    ]
    names = efp_names("d<=2")
    assert names == ["efp_d0_k0", "efp_d1_k0", "efp_d2_k0", "efp_d2_k1", "efp_d2_k2"]


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_every_d5_efp_equals_brute_force(generated_jets, beta):
    jets = generated_jets[ak.num(generated_jets) <= 60][:25]
    graphs = efp_graphs("d<=5")
    ours = ak.to_numpy(efp(jets, "d<=5", beta=beta))
    for k, (z, rap, phi) in enumerate(numpy_jets(jets)):
        theta = theta_matrix(rap, phi, beta)
        expected = [brute_force(z, theta, g.edges, g.n) for g in graphs]
        np.testing.assert_allclose(ours[k], expected, rtol=1e-10, atol=1e-300)


def test_equal_pt_two_prong_values():
    # two prongs of equal pT at ΔR = R: EFP1 = Σ_ij z_i z_j θ_ij = 2 · ¼ · R^β
    r, beta = 0.6, 1.0
    jets = toy_jets([(300.0, 0.0, 0.0, 0.0), (300.0, r, 0.0, 0.0)])
    edges = [g.edges for g in efp_graphs("d<=3")]
    values = dict(zip(edges, ak.to_numpy(efp(jets, "d<=3"))[0], strict=True))
    assert values[()] == pytest.approx(1.0)
    assert values[((0, 1),)] == pytest.approx(0.5 * r**beta)
    # a path of two edges: Σ z_a z_b z_c θ_ab θ_bc = 2 · ⅛ · R² ; a triangle vanishes
    assert values[((0, 2), (1, 2))] == pytest.approx(0.25 * r**2)
    assert values[((0, 1), (0, 2), (1, 2))] == pytest.approx(0.0)
    assert values[((0, 1), (2, 3))] == pytest.approx((0.5 * r) ** 2)


def test_degenerate_and_selector_errors():
    out = ak.to_numpy(efp(toy_jets([], [(5.0, 0.0, 0.0, 0.0)]), "d<=2"))
    assert np.all(np.isnan(out[0]))
    np.testing.assert_array_equal(out[1], [1.0, 0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="cannot parse EFP selector clause 'q<3'"):
        efp_graphs("d<=3 & q<3")
    with pytest.raises(ValueError, match="needs an upper bound on d"):
        efp_graphs("p==1")


def test_program_transpose_step():
    # No d <= 5 schedule needs a transposed matrix, but the kernel supports one: the same
    # bilinear form zᵀ M z with M = θ Z θ² computed through M and through its transpose
    module = importlib.import_module("jetad.observables.efp")  # the package exports efp()
    rng = np.random.default_rng(3)
    n = 7
    pt, rap, phi = rng.uniform(1, 50, n), rng.normal(0, 0.3, n), rng.uniform(0, 0.5, n)
    had_m, had_v, transpose, mv, chain, total = range(6)
    program = np.array(
        [
            (had_m, 1, 0, 0, 0),  # θ²
            (chain, 2, 0, 0, 1),  # θ Z θ²
            (transpose, 3, 2, 0, 0),
            (mv, 1, 2, 0, 0),
            (had_v, 2, 1, 0, 0),
            (total, 0, 2, 0, 0),
            (mv, 3, 3, 0, 0),
            (had_v, 4, 3, 0, 0),
            (total, 1, 4, 0, 0),
        ]
    )
    assert (module._HAD_M, module._HAD_V, module._T, module._MV, module._CHAIN, module._SUM) == (
        had_m, had_v, transpose, mv, chain, total
    )
    values = module._run_program(np.array([0, n]), pt, rap, phi, 1.0, program, 4, 5, 2)[0]
    z = pt / pt.sum()
    theta = np.hypot(rap[:, None] - rap[None, :], phi[:, None] - phi[None, :])
    expected = z @ (theta @ np.diag(z) @ theta**2) @ z
    np.testing.assert_allclose(values, [expected, expected], rtol=1e-13)
