"""jetad.kinematics against analytic cases, on every kind of input it takes."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.kinematics import (
    delta_phi,
    delta_r,
    four_momenta,
    invariant_mass,
    mass_squared,
    ptetaphim,
    summed,
)


def test_four_momenta_and_back():
    """(pt, η, φ, m) → (px, py, pz, E) is pt(cos φ, sin φ, sinh η) and E = √(p² + m²), in
    float64 from float32 columns, and ``ptetaphim`` inverts it."""
    particles = ak.zip({
        "pt": [[100.0, 50.0], [20.0]],
        "eta": [[0.0, 1.0], [-2.0]], "phi": [[0.0, np.pi / 2], [-3.0]],
        "mass": [[0.0, 10.0], [0.13957]],
    })  # fmt: skip
    particles = ak.values_astype(particles, np.float32)
    p4 = four_momenta(particles)
    assert ak.type(p4.px).content.content.primitive == "float64"
    assert p4.px[0, 0] == 100.0 and p4.E[0, 0] == 100.0 and p4.pz[0, 0] == 0.0
    phi = float(np.float32(np.pi / 2))  # the float32 column's φ, not π/2
    assert p4.px[0, 1] == pytest.approx(50.0 * np.cos(phi), rel=1e-15)
    assert p4.py[0, 1] == pytest.approx(50.0 * np.sin(phi), rel=1e-15)
    assert p4.pz[0, 1] == pytest.approx(50.0 * np.sinh(1.0))
    assert p4.E[0, 1] == pytest.approx(np.hypot(50.0 * np.cosh(1.0), 10.0))
    back = ptetaphim(p4.px, p4.py, p4.pz, p4.E)
    for field in ("pt", "eta", "phi"):
        expected = ak.values_astype(particles[field], np.float64)
        assert ak.all(abs(back[field] - expected) < 1e-12 * (1 + abs(expected)))
    assert ak.all(abs(back["mass"] - particles.mass) < 1e-6)


def test_invariant_mass_of_back_to_back_pairs_on_every_input_kind():
    """Two massless particles back to back with energy E each have m = 2E; m² < 0 from
    rounding is clipped to 0; numpy in, numpy out; dask-awkward equals eager."""
    dak = pytest.importorskip("dask_awkward")
    energy = np.array([50.0, 400.0, 1750.0])
    pairs = ak.zip({"pt": np.stack([energy, energy], axis=1).tolist(), "eta": [[0.0, 0.0]] * 3,
                    "phi": [[0.0, np.pi]] * 3, "mass": [[0.0, 0.0]] * 3})  # fmt: skip
    eager = invariant_mass(*summed(four_momenta(pairs)))
    np.testing.assert_allclose(ak.to_numpy(eager), 2 * energy, rtol=1e-14)
    lazy = invariant_mass(*summed(four_momenta(dak.from_awkward(pairs, npartitions=2))))
    assert ak.array_equal(lazy.compute(), eager)
    columns = tuple(ak.to_numpy(c) for c in summed(four_momenta(pairs)))
    as_numpy = invariant_mass(*columns)
    assert isinstance(as_numpy, np.ndarray) and np.array_equal(as_numpy, ak.to_numpy(eager))
    # a light-like vector whose m² rounds below zero
    assert mass_squared(np.array([3.0]), np.array([4.0]), np.array([0.0]),
                        np.array([5.0 - 1e-15]))[0] == 0.0  # fmt: skip
    assert mass_squared(ak.Array([3.0]), ak.Array([4.0]), ak.Array([0.0]),
                        ak.Array([5.0 - 1e-15]))[0] == 0.0  # fmt: skip


def test_delta_phi_wraps_into_minus_pi_to_pi_and_delta_r():
    """Δφ = φ1 − φ2 wrapped into (−π, π]; ΔR = √(Δη² + Δφ²)."""
    phi1 = np.array([3.0, -3.0, 0.5, np.pi, 0.0])
    phi2 = np.array([-3.0, 3.0, 0.25, 0.0, np.pi])
    expected = np.array([6.0 - 2 * np.pi, 2 * np.pi - 6.0, 0.25, np.pi, np.pi])
    np.testing.assert_allclose(delta_phi(phi1, phi2), expected, atol=1e-15)
    wrapped = delta_phi(ak.Array([phi1.tolist()]), ak.Array(phi2.tolist())[None, :])
    assert np.all((ak.to_numpy(wrapped) > -np.pi) & (ak.to_numpy(wrapped) <= np.pi))
    eta1, eta2 = np.array([0.0, 1.0]), np.array([0.3, -1.0])
    np.testing.assert_allclose(delta_r(eta1, phi1[:2], eta2, phi2[:2]),
                               np.hypot(eta1 - eta2, expected[:2]), rtol=1e-15)  # fmt: skip
