"""τ_N against fjcontrib, CMSSW, analytic cases and IR/collinear safety."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from conftest import load_events
from jetad.constituents import fatjet_constituents
from jetad.observables import nsubjettiness, tau21, tau32, tau43
from reference import cluster_sequence, toy_jets

FJ_AXES = {"onepass_kt": "OnePass_KT_Axes", "kt": "KT_Axes", "wta_kt": "WTA_KT_Axes"}


@pytest.mark.parametrize(
    ("axes", "beta", "r0"),
    [
        ("onepass_kt", 1.0, 0.8),
        ("onepass_kt", 0.5, 1.0),
        ("onepass_kt", 2.0, 0.8),
        ("kt", 1.0, 0.8),
        ("wta_kt", 1.0, 0.8),
        ("wta_kt", 2.0, 1.0),
    ],
)
def test_equals_fjcontrib(generated_jets, axes, beta, r0):
    ours = ak.to_numpy(nsubjettiness(generated_jets, nmax=4, beta=beta, r0=r0, axes=axes))
    reference = cluster_sequence(generated_jets).njettiness(
        njets=[1, 2, 3, 4], axes_definition=FJ_AXES[axes], beta=beta, R0=r0
    )
    assert len(ours) > 1000
    np.testing.assert_allclose(ours, ak.to_numpy(reference), rtol=1e-5, atol=1e-12)
    expected, ratio = ak.to_numpy(reference), ak.to_numpy(tau43(ours))
    defined = expected[:, 2] > 0  # τ43 = τ4/τ3, NaN for jets of three or fewer particles
    np.testing.assert_allclose(ratio[defined], expected[defined, 3] / expected[defined, 2],
                               rtol=1e-5)  # fmt: skip
    assert np.all(np.isnan(ratio[~defined]))


def test_reproduces_cmssw_on_real_pfnano(realdata):
    events = load_events(realdata / "pfnano.root")
    taus = nsubjettiness(fatjet_constituents(events))
    for n in (1, 2, 3):
        ratio = ak.flatten(taus[..., n - 1] / events.FatJet[f"tau{n}"])
        assert abs(np.median(ratio) - 1) < 0.005, (n, np.median(ratio))


def test_single_particle_has_tau1_zero_and_pair_tau2_zero():
    jets = toy_jets([(500.0, 0.1, 1.0, 0.0)], [(300.0, 0.0, 0.0, 0.0), (200.0, 0.3, 0.2, 0.0)])
    taus = ak.to_numpy(nsubjettiness(jets, nmax=3))
    np.testing.assert_array_equal(taus[0], [0.0, 0.0, 0.0])
    assert taus[1, 0] > 0
    np.testing.assert_array_equal(taus[1, 1:], [0.0, 0.0])


def test_two_particle_tau1_is_analytic():
    # the one-pass axis of two particles converges onto the harder one for β = 1,
    # so τ1 = pT_soft · ΔR / (pT_total · R0)
    jets = toy_jets([(300.0, 0.0, 0.0, 0.0), (100.0, 0.4, 0.0, 0.0)])
    tau1 = ak.to_numpy(nsubjettiness(jets, nmax=1, r0=0.8))[0, 0]
    assert tau1 == pytest.approx(100.0 * 0.4 / (400.0 * 0.8), rel=1e-3)


def test_infrared_and_collinear_safety(generated_jets):
    jets = generated_jets[ak.num(generated_jets) >= 5][:50]
    taus = ak.to_numpy(nsubjettiness(jets))
    soft = ak.concatenate(
        [
            jets,
            ak.zip(
                {
                    "pt": jets.pt[:, :1] * 0,
                    "eta": jets.eta[:, :1] + 0.05,
                    "phi": jets.phi[:, :1],
                    "mass": jets.mass[:, :1] * 0,
                }
            ),
        ],
        axis=1,
    )
    np.testing.assert_allclose(ak.to_numpy(nsubjettiness(soft)), taus, rtol=1e-9, atol=1e-14)
    first = jets[:, :1]
    half = ak.zip({"pt": first.pt / 2, "eta": first.eta, "phi": first.phi, "mass": first.mass / 2})
    split = ak.concatenate([half, half, jets[:, 1:][["pt", "eta", "phi", "mass"]]], axis=1)
    np.testing.assert_allclose(ak.to_numpy(nsubjettiness(split)), taus, rtol=1e-9, atol=1e-14)


def test_degenerate_jets_do_not_crash():
    jets = toy_jets([], [(100.0, 0.0, 3.1, 0.0)], [(60.0, 0.0, 3.13, 0.1), (40.0, 0.1, -3.13, 0.0)])
    taus = ak.to_numpy(nsubjettiness(jets, nmax=2))
    assert np.all(np.isnan(taus[0]))
    np.testing.assert_array_equal(taus[1], [0.0, 0.0])
    # across φ = ±π the pair is 0.1 apart, not 2π − 0.03
    dr = np.hypot(0.1, 2 * np.pi - 3.13 * 2)
    assert taus[2, 0] == pytest.approx(40.0 * dr / (100.0 * 0.8), rel=1e-2)
    empty = nsubjettiness(ak.unflatten(jets, [0, 3, 0]))
    assert ak.to_list(ak.num(empty, axis=1)) == [0, 3, 0]


def test_ratios_are_nan_where_undefined():
    jets = toy_jets(
        [(100.0, 0.0, 0.0, 0.0)],
        [(60.0, 0.0, 0.0, 0.0), (40.0, 0.2, 0.1, 0.0), (10.0, -0.2, 0.3, 0.0)],
    )
    taus = nsubjettiness(jets)
    assert np.isnan(tau21(taus)[0]) and np.isnan(tau32(taus)[0])
    assert 0 < tau21(taus)[1] < 1 and tau32(taus)[1] == 0


def test_rejects_bad_arguments(generated_jets):
    with pytest.raises(ValueError, match="unknown axes 'anti_kt'; valid: kt, wta_kt, onepass_kt"):
        nsubjettiness(generated_jets, axes="anti_kt")
    with pytest.raises(ValueError, match="levels"):
        nsubjettiness(generated_jets.pt[0])
