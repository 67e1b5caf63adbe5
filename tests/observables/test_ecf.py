"""Energy correlation functions against fjcontrib and a brute-force formula."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.observables import energy_correlation, energy_correlations
from reference import cluster_sequence, numpy_jets, theta_matrix, toy_jets


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_c2_d2_n2_equal_fjcontrib(generated_jets, beta):
    ours = energy_correlations(generated_jets, beta)
    sequence = cluster_sequence(generated_jets)
    for kind in ("c2", "d2", "n2"):
        reference = sequence.exclusive_jets_energy_correlator(njets=1, func=kind, beta=beta)
        np.testing.assert_allclose(
            ak.to_numpy(ours[kind]), ak.to_numpy(ak.flatten(reference, axis=None)), rtol=1e-5
        )


@pytest.mark.parametrize("beta", [0.5, 1.0])
def test_e2_e3_equal_brute_force(generated_jets, beta):
    jets = generated_jets[:60]
    ours = energy_correlations(jets, beta)
    for k, (z, rap, phi) in enumerate(numpy_jets(jets)):
        theta = theta_matrix(rap, phi, beta)
        e2 = 0.5 * np.einsum("i,j,ij->", z, z, theta)
        e3 = np.einsum("i,j,k,ij,ik,jk->", z, z, z, theta, theta, theta) / 6
        assert ours.e2[k] == pytest.approx(e2, rel=1e-10)
        assert ours.e3[k] == pytest.approx(e3, rel=1e-10)


def test_equal_pt_two_prong_jet():
    # two equal-pT prongs ΔR = 0.4 apart: e2 = ¼ R^β, e3 = 0, so C2 = D2 = N2 = 0
    jets = toy_jets([(250.0, 0.0, 0.0, 0.0), (250.0, 0.4, 0.0, 0.0)])
    ecf = energy_correlations(jets, beta=2.0)
    assert ecf.e2[0] == pytest.approx(0.25 * 0.4**2)
    assert ecf.c2[0] == 0 and ecf.d2[0] == 0 and ecf.n2[0] == 0
    # a third, soft prong at the midpoint: e3 = z1 z2 z3 (0.4 · 0.2 · 0.2)^β
    jets = toy_jets([(250.0, 0.0, 0.0, 0.0), (250.0, 0.4, 0.0, 0.0), (10.0, 0.2, 0.0, 0.0)])
    z = np.array([250, 250, 10]) / 510
    ecf = energy_correlations(jets, beta=1.0)
    e2 = z[0] * z[1] * 0.4 + z[0] * z[2] * 0.2 + z[1] * z[2] * 0.2
    e3 = z.prod() * 0.4 * 0.2 * 0.2
    assert ecf.c2[0] == pytest.approx(e3 / e2**2, rel=1e-12)
    assert ecf.n2[0] == pytest.approx(z.prod() * 0.2 * 0.2 / e2**2, rel=1e-12)


def test_undefined_values_policy():
    jets = toy_jets([], [(100.0, 0.0, 0.0, 0.0)])
    ecf = energy_correlations(jets)
    assert all(np.isnan(ecf[k][0]) for k in ("e2", "e3", "c2", "d2", "n2"))
    assert ecf.e2[1] == 0 and ecf.e3[1] == 0 and np.isnan(ecf.c2[1])


def test_single_kind_and_errors(generated_jets):
    jets = generated_jets[:10]
    np.testing.assert_array_equal(
        energy_correlation(jets, "c2", beta=0.5), energy_correlations(jets, 0.5).c2
    )
    with pytest.raises(ValueError, match="unknown energy correlation 'c3'; valid: e2, e3"):
        energy_correlation(jets, "c3")


def test_without_n2_is_the_same_c2_d2(generated_jets):
    """Skipping ₂e3 leaves e2, e3, C2 and D2 bit-identical and makes e3_2 and N2 NaN; the
    single-kind call picks the cheaper path by itself."""
    full = energy_correlations(generated_jets, beta=0.5)
    lean = energy_correlations(generated_jets, beta=0.5, with_n2=False)
    for kind in ("e2", "e3", "c2", "d2"):
        assert ak.array_equal(full[kind], lean[kind], equal_nan=True)
    assert np.all(np.isnan(ak.to_numpy(lean.n2))) and np.all(np.isnan(ak.to_numpy(lean.e3_2)))
    single = energy_correlation(generated_jets, "c2", beta=0.5)
    assert ak.array_equal(single, full.c2, equal_nan=True)
