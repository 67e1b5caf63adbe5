"""Soft drop against fjcontrib's SoftDrop through scikit-hep fastjet."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.observables import soft_drop
from reference import cluster_sequence, toy_jets


@pytest.mark.parametrize(("zcut", "beta"), [(0.1, 0.0), (0.1, 1.0), (0.2, 2.0)])
def test_equals_fjcontrib(generated_jets, zcut, beta):
    ours = soft_drop(generated_jets, zcut=zcut, beta=beta, r0=0.8)
    reference = cluster_sequence(generated_jets).exclusive_jets_softdrop_grooming(
        njets=1, beta=beta, symmetry_cut=zcut, R0=0.8
    )
    mass = ak.to_numpy(ak.flatten(reference.msoftdrop, axis=None))
    # fjcontrib's signed mass of a single massless constituent is ±1e-5 GeV of rounding
    np.testing.assert_allclose(ak.to_numpy(ours.msoftdrop), mass, rtol=1e-5, atol=1e-4)
    groomed = ak.to_numpy(ak.flatten(reference.symmetrysoftdrop, axis=None)) >= 0
    assert groomed.mean() > 0.95
    zg = ak.flatten(reference.symmetrysoftdrop, axis=None)[groomed]
    rg = ak.flatten(reference.deltaRsoftdrop, axis=None)[groomed]
    np.testing.assert_allclose(ak.to_numpy(ours.zg)[groomed], ak.to_numpy(zg), rtol=1e-9)
    np.testing.assert_allclose(ak.to_numpy(ours.rg)[groomed], ak.to_numpy(rg), rtol=1e-9)
    assert np.all(ak.to_numpy(ours.zg)[~groomed] == 0)


def test_soft_wide_angle_radiation_is_groomed():
    core = [(400.0, 0.0, 0.0, 0.0), (300.0, 0.05, 0.05, 0.0)]
    jets = toy_jets(core, [*core, (5.0, 0.6, 0.3, 0.0)])
    sd = soft_drop(jets)
    assert sd.msoftdrop[1] == pytest.approx(sd.msoftdrop[0], rel=1e-12)
    assert sd.zg[0] == pytest.approx(300 / 700)


def test_degenerate_jets():
    sd = soft_drop(toy_jets([], [(50.0, 1.0, -3.0, 0.14)]))
    assert np.isnan(sd.msoftdrop[0])
    assert sd.msoftdrop[1] == pytest.approx(0.14) and sd.zg[1] == 0 and sd.rg[1] == 0
