"""Infrared and collinear safety of the IRC-safe observables on generated jets."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetad.observables import efp, energy_correlations, nsubjettiness, soft_drop

IRC_SAFE = {
    "tau": lambda c: ak.to_numpy(nsubjettiness(c)),
    "ecf": lambda c: np.column_stack([ak.to_numpy(energy_correlations(c, b).c2) for b in (0.5, 2)]),
    "efp": lambda c: ak.to_numpy(efp(c, "d<=4")),
    "msoftdrop": lambda c: ak.to_numpy(soft_drop(c).msoftdrop),
}


@pytest.fixture(scope="module")
def jets(generated_jets):
    selected = generated_jets[ak.num(generated_jets) >= 5][:40]
    return ak.zip(
        {f: ak.values_astype(selected[f], np.float64) for f in ("pt", "eta", "phi", "mass")}
    )


@pytest.mark.parametrize("name", IRC_SAFE)
def test_zero_pt_particle_changes_nothing(jets, name):
    first = jets[:, :1]
    soft = ak.zip(
        {"pt": first.pt * 0, "eta": first.eta + 0.3, "phi": first.phi - 0.2, "mass": first.mass * 0}
    )
    observable = IRC_SAFE[name]
    np.testing.assert_allclose(
        observable(ak.concatenate([jets, soft], axis=1)), observable(jets), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", IRC_SAFE)
def test_collinear_split_changes_nothing(jets, name):
    first = jets[:, :1]
    half = ak.zip(
        {"pt": first.pt * 0.5, "eta": first.eta, "phi": first.phi, "mass": first.mass * 0.5}
    )
    split = ak.concatenate([half, half, jets[:, 1:]], axis=1)
    observable = IRC_SAFE[name]
    np.testing.assert_allclose(observable(split), observable(jets), rtol=1e-9, atol=1e-12)
