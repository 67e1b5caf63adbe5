"""Latent characterisation: the frozen encoder, the decoder's use of m_jj, the grids, the
localisation statistic on an analytic case, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.characterisation import (
    DecoderConfig,
    characterise,
    fit_mass_decoder,
    localisation,
    vae_encoder,
)
from jetad.cli import main
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, export, train

LHCO = FEATURE_SETS["lhco"]
FAST = DecoderConfig(hidden=(32, 32), batch_size=64, epochs=60, patience=60, seed=2)


@pytest.fixture(scope="module")
def pseudo_data():
    """The selected QCD and W′ fixture events: (features, m_jj in GeV, truth)."""
    parts = []
    for process in ("qcd_dijet", "wprime_xy"):
        rows, _ = feature_rows(LHCO, [FIXTURES / f"{process}.root"], also=("mjj",))
        parts.append(np.asarray(rows, dtype=float))
    truth = np.r_[np.zeros(len(parts[0])), np.ones(len(parts[1]))]
    rows = np.concatenate(parts)
    return rows[:, :-1], rows[:, -1], truth


@pytest.fixture(scope="module")
def vae_path(pseudo_data, tmp_path_factory):
    x, _, _ = pseudo_data
    trained = train(x, TrainConfig.for_model("vae", epochs=5, batch_size=64, seed=1))
    return export(trained, tmp_path_factory.mktemp("vae") / "vae.pt", "lhco", LHCO.names)


def test_the_encoder_stays_frozen(pseudo_data, vae_path):
    x, mjj, _ = pseudo_data
    preprocessing, vae, metadata = vae_encoder(vae_path)
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    fit_mass_decoder(preprocessing, vae, x, mjj, DecoderConfig(epochs=3, batch_size=64))
    after = vae.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert metadata["feature_set"] == "lhco"


def test_the_decoder_uses_mjj(pseudo_data, vae_path):
    """A toy column that is a function of m_jj alone (0.1 m_jj) is reconstructed far better
    by the (z, m) decoder than by one given z alone (at the events' latent means)."""
    from jetad.characterisation import decode

    x, mjj, _ = pseudo_data
    toy = x.copy()
    toy[:, 3] = 0.1 * mjj
    trained = train(toy, TrainConfig.for_model("vae", epochs=5, batch_size=64, seed=1))
    preprocessing, vae = trained.preprocessing, trained.members[0]
    losses = {}
    for use_mass in (True, False):
        config = DecoderConfig(**{**FAST.__dict__, "use_mass": use_mass})
        decoder, _ = fit_mass_decoder(preprocessing, vae, toy, mjj, config)
        with torch.no_grad():
            zbar = vae.encode(preprocessing(torch.from_numpy(toy.astype(np.float32))))[0]
        decoded = decode(preprocessing, decoder, zbar.numpy(), mjj)
        losses[use_mass] = np.sqrt(np.mean((decoded[:, 3] - toy[:, 3]) ** 2))
    assert losses[True] < 0.5 * losses[False]


def test_grids_and_pictures(pseudo_data, vae_path, tmp_path):
    from jetad.plotting import plot_characterisation

    x, mjj, truth = pseudo_data
    preprocessing, vae, _ = vae_encoder(vae_path)
    decoder, _ = fit_mass_decoder(preprocessing, vae, x, mjj, DecoderConfig(epochs=3))
    units = [f.unit for f in LHCO.features]
    result = characterise(preprocessing, vae, decoder, x, mjj, LHCO.names, units, truth == 1,
                          n_slices=10, grid=25, min_events=10)  # fmt: skip
    assert result.decoded.shape == (6, 25, 25)
    assert np.isfinite(result.decoded).all()
    assert mjj.min() <= result.mjj_grid[0] < result.mjj_grid[-1] <= mjj.max()
    assert np.all(np.diff(result.mjj_grid) > 0) and np.all(np.diff(result.z_grid) > 0)
    assert result.profiles.shape[0] == 6 and result.profiles.shape[1] == len(result.mjj_centres)
    assert set(result.pulls) == {"background", "signal"}
    assert result.localisation["feature"] in LHCO.names
    paths = plot_characterisation(result, tmp_path)
    assert all(p.stat().st_size > 10_000 for p in paths)
    too_few = characterise(preprocessing, vae, decoder, x, mjj, LHCO.names, units, n_slices=4)
    assert too_few.localisation["statistic"] is None
    assert "m_jj slices, 8 needed" in too_few.localisation["reason"]


def test_localisation_finds_a_local_feature():
    """An analytic case: smooth quadratic profiles with noise 0.01, one with a step of 0.15 in
    one slice (15σ; the interpolations of its neighbours feel it too): T > 7 there; without
    it, T stays at the level of the largest noise."""
    rng = np.random.default_rng(3)
    centres = np.exp(np.linspace(np.log(2000), np.log(5000), 14))
    u = np.log(centres / 2000)
    smooth = np.stack([1 + 0.3 * u - 0.2 * u**2, 0.5 - 0.1 * u])
    noisy = smooth + rng.normal(0, 0.01, smooth.shape)
    quiet = localisation(noisy, centres, ["a", "b"])
    assert quiet["statistic"] < 6  # the largest of 28 residuals in units of a spread of 14
    bumped = noisy.copy()
    bumped[1, 8] += 0.15
    found = localisation(bumped, centres, ["a", "b"])
    assert found["feature"] == "b" and found["mjj"] == pytest.approx(centres[8])
    assert found["statistic"] > 7


def test_bad_input_is_one_line(vae_path, tmp_path, pseudo_data):
    x, _, _ = pseudo_data
    ae = export(train(x, TrainConfig.for_model("ae", epochs=2, batch_size=64)),
                tmp_path / "ae.pt", "lhco", LHCO.names)  # fmt: skip
    runner = CliRunner()
    data = ["--data", str(FIXTURES / "qcd_dijet.root")]
    result = runner.invoke(main, ["characterise", "--model", str(ae), *data, "-o", str(tmp_path)])
    assert result.exit_code == 1 and "needs a VAE" in result.output and "ae.pt" in result.output
    result = runner.invoke(main, ["characterise", "--model", str(vae_path), *data,
                                  "--member", "3", "-o", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 1 and "has members 0–0, not 3" in result.output
    result = runner.invoke(main, ["characterise", "--model", str(vae_path), *data,
                                  "-o", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 1 and "at least 500" in result.output
    assert len(result.output.strip().splitlines()) == 1
