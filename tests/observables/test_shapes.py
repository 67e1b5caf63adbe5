"""pTD and axis major/minor against brute-force numpy."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.observables import axes, ptd
from jetad.observables.shapes import jet_shapes
from reference import toy_jets


def test_ptd_and_axes_equal_brute_force(generated_jets):
    jets = generated_jets[:100]
    ours_ptd, ours_axes = ptd(jets), axes(jets)
    for k, jet in enumerate(ak.to_list(jets)):
        pt = np.array([c["pt"] for c in jet], dtype=np.float64)
        eta = np.array([c["eta"] for c in jet], dtype=np.float64)
        phi = np.array([c["phi"] for c in jet], dtype=np.float64)
        assert ours_ptd[k] == pytest.approx(np.sqrt((pt**2).sum()) / pt.sum(), rel=1e-12)
        dphi = (phi - phi[np.argmax(pt)] + np.pi) % (2 * np.pi) - np.pi
        cov = np.cov(np.vstack([eta, dphi]), aweights=pt**2, bias=True)
        minor, major = np.sqrt(np.clip(np.linalg.eigvalsh(cov), 0, None))
        assert ours_axes.major[k] == pytest.approx(major, rel=1e-8)
        assert ours_axes.minor[k] == pytest.approx(minor, rel=1e-6, abs=1e-9)


def test_jet_pt_is_the_constituent_sum(generated_jets):
    """``jet_shapes(...).pt`` (svj8's ``jet_pt``) is |Σ p⃗_T| of the constituents (GeV)."""
    jets = generated_jets[:200]
    pt, phi = ak.values_astype(jets.pt, np.float64), ak.values_astype(jets.phi, np.float64)
    px, py = ak.sum(pt * np.cos(phi), axis=-1), ak.sum(pt * np.sin(phi), axis=-1)
    np.testing.assert_allclose(
        ak.to_numpy(jet_shapes(jets).pt), np.hypot(ak.to_numpy(px), ak.to_numpy(py)), rtol=1e-12
    )


def test_analytic_two_particles_across_phi_boundary():
    jets = toy_jets([(100.0, 0.0, np.pi - 0.05, 0.0), (100.0, 0.0, -np.pi + 0.05, 0.0)])
    assert axes(jets).major[0] == pytest.approx(0.05)
    assert axes(jets).minor[0] == pytest.approx(0.0, abs=1e-9)
    assert ptd(jets)[0] == pytest.approx(np.sqrt(2) / 2)


def test_undefined_values():
    jets = toy_jets([], [(10.0, 1.0, 1.0, 0.0)])
    assert np.isnan(ptd(jets)[0]) and np.isnan(axes(jets).major[0])
    assert ptd(jets)[1] == 1 and axes(jets).major[1] == 0
    assert jet_shapes(jets).pt.tolist() == [0.0, 10.0]
