"""AE/VAE training, epoch-selection rules, preprocessing and the TorchScript round trip."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch

from jetad.features import FEATURE_SETS, feature_matrix
from jetad.models import (
    TrainConfig,
    export,
    figures_of_merit,
    kl_peak_epoch,
    load_metadata,
    min_epoch,
    roc_auc,
    score_matrix,
    train,
)
from jetad.models.preprocessing import fit_preprocessing


@pytest.fixture(scope="module")
def lhco(fixture_events):
    """LHCO features of the QCD and W' fixtures (finite rows only)."""
    import awkward as ak

    lhco = FEATURE_SETS["lhco"]

    def rows(events):
        matrix = feature_matrix(ak.drop_none(lhco(events)), lhco.names)
        return matrix[np.all(np.isfinite(matrix), axis=1)]

    return rows(fixture_events["qcd_dijet"]), rows(fixture_events["wprime_xy"])


@pytest.mark.parametrize("model", ["vae", "ae"])
def test_loss_falls(lhco, model):
    config = TrainConfig(model=model, epochs=15, batch_size=32, seed=3, latent=2)
    trained = train(lhco[0], config)
    history = trained.histories[0]
    assert np.mean(history["train_loss"][-3:]) < history["train_loss"][0]
    assert 0 <= trained.chosen_epochs[0] < 15


def test_training_is_deterministic(lhco):
    config = TrainConfig(model="vae", epochs=3, batch_size=32, seed=5, ensemble=2)
    first, second = train(lhco[0], config), train(lhco[0], config)
    assert first.histories == second.histories
    assert first.histories[0] != first.histories[1]  # members differ by seed only


def test_torchscript_round_trip_and_metadata(lhco, tmp_path):
    config = TrainConfig(model="vae", epochs=3, batch_size=32, ensemble=2)
    trained = train(lhco[0], config)
    path = export(trained, tmp_path / "vae.pt", "lhco", FEATURE_SETS["lhco"].names)
    loaded = torch.jit.load(str(path))
    x = torch.from_numpy(lhco[1].astype(np.float32))
    with torch.no_grad():
        pre = trained.preprocessing(x)
        direct = torch.stack([m.scores(pre) for m in trained.members]).mean(dim=0)
        np.testing.assert_array_equal(loaded(x).numpy(), direct.numpy())
    metadata = load_metadata(path)
    assert metadata["features"] == list(FEATURE_SETS["lhco"].names)
    assert metadata["scores"] == ["kl_background", "kl", "mse", "elbo"]
    wp = metadata["working_points"]
    assert wp["eff10"] <= wp["eff1"] <= wp["eff0p1"]
    bad = x.clone()
    bad[0, 2] = float("nan")
    bad[1, 0] = float("inf")
    scores = score_matrix(path, bad.numpy())
    assert np.all(np.isnan(scores[:2])) and np.all(np.isfinite(scores[2:]))


def test_kl_peak_rule_on_synthetic_histories():
    rising_then_falling = [1, 2, 3, 4, 5, 6, 5.5, 5, 4, 3, 2, 1]
    assert kl_peak_epoch(rising_then_falling) == 5
    assert kl_peak_epoch([1, 2, 3, 4, 5, 6, 5, 4, 3]) is None  # fell only 3 epochs
    assert kl_peak_epoch([1, 2, 3, 2, 1, 0, -1, -2, -3]) is None  # rose only 2 epochs
    noisy = [0, 1, 0.5, 1, 2, 3, 4, 5, 7, 6, 5, 4, 3, 2, 8]
    assert kl_peak_epoch(noisy) == 8
    assert min_epoch([3.0, 1.0, 2.0, 1.0]) == 1
    with pytest.raises(ValueError, match="no finite value"):
        min_epoch([np.nan])


def test_preprocessing_kinds():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.exponential(3.0, 5000), rng.normal(5, 2, 5000), np.ones(5000)])
    tensor = torch.from_numpy(x.astype(np.float32))
    maxabs = fit_preprocessing("maxabs", x)(tensor).numpy()
    assert np.allclose(np.abs(maxabs).max(axis=0), 1.0, atol=1e-6)
    standard = fit_preprocessing("standard", x)(tensor).numpy()
    assert np.allclose(standard[:, :2].mean(axis=0), 0, atol=1e-4) and np.all(standard[:, 2] == 0)
    robust = fit_preprocessing("robust", x)(tensor).numpy()
    assert np.allclose(np.median(robust[:, :2], axis=0), 0, atol=1e-3)
    quantile = fit_preprocessing("quantile", x[:, :2])(tensor[:, :2]).numpy()
    assert np.allclose(quantile.mean(axis=0), 0, atol=0.05)
    assert np.allclose(quantile.std(axis=0), 1, atol=0.1)
    for kind in ("maxabs", "standard", "robust", "quantile", "none"):
        module = fit_preprocessing(kind, x[:, :2])
        scripted = torch.jit.script(module)
        np.testing.assert_array_equal(
            scripted(tensor[:, :2]).numpy(), module(tensor[:, :2]).numpy()
        )
    with pytest.raises(ValueError, match="unknown preprocessing 'minmax'"):
        fit_preprocessing("minmax", x)


def test_figures_of_merit():
    rng = np.random.default_rng(2)
    background, signal = rng.normal(0, 1, 20000), rng.normal(1, 1, 20000)
    fom = figures_of_merit(background, signal)
    # two unit Gaussians one sigma apart: AUC = Φ(1/√2)
    assert fom["auc"] == pytest.approx(0.7602, abs=0.01)
    assert roc_auc(signal, background) == pytest.approx(1 - fom["auc"])
    assert fom["inverse_eff_b_at_eff_s_0p5"] == pytest.approx(1 / 0.1587, rel=0.05)
    assert fom["sic_max"] > 1


def test_cli_train_and_evaluate(tmp_path):
    import json

    from click.testing import CliRunner

    from conftest import FIXTURES
    from jetad.cli import main

    for kind in ("vae", "wnae"):
        output = tmp_path / f"{kind}.pt"
        arguments = [
            "train",
            "--model",
            kind,
            "--features",
            "svj8",
            "--epochs",
            "2",
            "--background",
            str(FIXTURES / "ttbar.root"),
            "--output",
            str(output),
        ]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, result.output
        assert output.with_suffix(".training.png").exists()
    model = tmp_path / "ae.pt"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--model",
            "ae",
            "--features",
            "svj8",
            "--epochs",
            "3",
            "--background",
            str(FIXTURES / "ttbar.root"),
            "--output",
            str(model),
        ],
    )
    assert result.exit_code == 0, result.output
    for suffix in (".pt", ".json", ".history.json", ".training.png"):
        assert model.with_suffix(suffix).exists()
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--model",
            str(model),
            "--background",
            str(FIXTURES / "ttbar.root"),
            "--signal",
            str(FIXTURES / "svj.root"),
            "--output",
            str(tmp_path / "eval"),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert 0 <= metrics["mse"]["auc"] <= 1
    assert (tmp_path / "eval" / "roc.png").exists() and (tmp_path / "eval" / "sic.png").exists()
    bad = CliRunner().invoke(
        main,
        [
            "train",
            "--features",
            "svj8",
            "--background",
            str(tmp_path / "missing.root"),
            "--output",
            str(tmp_path / "x.pt"),
        ],
    )
    assert bad.exit_code == 1 and "cannot read" in bad.output and "missing.root" in bad.output


def test_wnae_trains_and_validation_leaves_the_buffer_alone(fixture_events):
    import awkward as ak

    from jetad.models.wnae import WNAE, LangevinSampler, SamplerConfig

    svj8 = FEATURE_SETS["svj8"]
    matrix = feature_matrix(ak.flatten(svj8(fixture_events["ttbar"])), svj8.names)
    matrix = matrix[np.all(np.isfinite(matrix), axis=1)]
    config = TrainConfig.for_model("wnae", epochs=8, learning_rate=5e-3, batch_size=64)
    trained = train(matrix, config)
    history = trained.histories[0]
    assert history["val_emd"][-1] < history["val_emd"][0]
    assert trained.chosen_epochs[0] == int(np.argmin(history["val_emd"]))
    assert trained.score_names == ("energy",)

    sampler = LangevinSampler(SamplerConfig(), n_features=8)
    network = WNAE(8, [10, 10], 6, "relu")
    data = torch.randn(32, 8)
    sampler.loss(network, data)
    before = sampler.buffer.clone()
    sampler.validation(network, data)
    assert torch.equal(sampler.buffer, before) and len(before) == 32
    negatives = sampler.run(network.mse, sampler.noise(16), create_graph=False)
    assert negatives.min() >= -3 and negatives.max() <= 3


def test_nae_pretrains_then_lowers_its_loss(fixture_events):
    import awkward as ak

    svj8 = FEATURE_SETS["svj8"]
    matrix = feature_matrix(ak.flatten(svj8(fixture_events["ttbar"])), svj8.names)
    matrix = matrix[np.all(np.isfinite(matrix), axis=1)]
    config = TrainConfig.for_model("nae", epochs=8, pretrain_epochs=3, learning_rate=2e-3)
    trained = train(matrix, config)
    loss = trained.histories[0]["train_loss"]
    assert loss[2] < loss[0] and loss[-1] < loss[3]  # both phases make progress
    assert trained.chosen_epochs == [7] and trained.score_names == ("energy",)


def test_constituent_vae_with_outlier_exposure(fixture_events):
    import awkward as ak

    from jetad.models.training import _oe_weight

    c20 = FEATURE_SETS["constituents20"]

    def rows(name):
        matrix = feature_matrix(ak.flatten(c20(fixture_events[name])), c20.names)
        return matrix[np.all(np.isfinite(matrix), axis=1)]

    qcd, svj = rows("qcd_dijet"), rows("svj")
    plain = train(qcd, TrainConfig.for_model("cvae", epochs=12, batch_size=64))
    # 460 jets are too few for the cvae to learn (its loss only fluctuates): check health
    assert plain.reports[0].status == "healthy"
    assert np.all(np.isfinite(plain.histories[0]["train_loss"]))
    for kind in ("mse", "kl"):
        exposed = train(qcd, TrainConfig.for_model("cvae", epochs=6, oe=kind), outliers=svj)
        assert np.all(np.isfinite(exposed.histories[0]["train_loss"]))
    config = TrainConfig.for_model("cvae", oe="mse", oe_period=10)
    assert [_oe_weight(config, e) for e in (0, 2, 5, 9, 10)] == [0.0, 0.8, 2.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="needs both config.oe and an outlier sample"):
        train(qcd, TrainConfig.for_model("cvae", oe="kl"))
    with pytest.raises(ValueError, match="constituent VAE \\(cvae\\) only"):
        TrainConfig.for_model("vae", oe="kl")


def test_lepton_trigger_vae_likelihoods(fixture_events):
    from jetad.models.hltvae import HLT21_LIKELIHOODS

    hlt21 = FEATURE_SETS["hlt21"]
    assert tuple(HLT21_LIKELIHOODS) == hlt21.names
    rows = [
        feature_matrix(ak.drop_none(hlt21(fixture_events[n])), hlt21.names)
        for n in ("wjets", "zjets")
    ]
    background = np.concatenate(rows)
    background = background[np.all(np.isfinite(background), axis=1)]
    trained = train(background, TrainConfig.for_model("hltvae", epochs=12))
    history = trained.histories[0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert trained.score_names == ("loss",)
    network = trained.members[0]
    x = torch.from_numpy(background[:50].astype(np.float32))
    scripted = torch.jit.script(network)
    with torch.no_grad():
        np.testing.assert_allclose(scripted.scores(x).numpy(), network.scores(x).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="needs the feature names of its 8 columns"):
        train(background[:, :8], TrainConfig.for_model("hltvae", epochs=1))
    with pytest.raises(ValueError, match="no likelihood for \\['tau21'\\]"):
        train(background[:, :2], TrainConfig.for_model("hltvae", epochs=1),
              features=("lep_pt", "tau21"))


def test_lepton_trigger_vae_trains_on_hlt18_nano(tmp_path, fixture_events):
    """Each feature's likelihood comes from its name: the 18 NanoAOD features train and score."""
    from click.testing import CliRunner

    from conftest import FIXTURES
    from jetad.cli import main
    from jetad.models.hltvae import LIKELIHOODS, LOGNORMAL
    from jetad.scoring import AnomalyScorer

    output = tmp_path / "hlt18.pt"
    result = CliRunner().invoke(main, [
        "train", "--model", "hltvae", "--features", "hlt18_nano", "--epochs", "3", "--quiet",
        "--background", str(FIXTURES / "wjets.root"), "--background", str(FIXTURES / "ttbar.root"),
        "--output", str(output),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    names = FEATURE_SETS["hlt18_nano"].names
    assert len(names) == 18 and LIKELIHOODS["lep_iso_neu_pho"] == LOGNORMAL
    state = torch.jit.load(str(output)).state_dict()
    lognormal = [names[i] for i in state["members.0.lognormal_x"].tolist()]
    assert lognormal == [n for n in names if LIKELIHOODS[n] == LOGNORMAL]
    assert state["members.0.poisson_x"].numel() == 0  # no hadron counts in NanoAOD
    table = FEATURE_SETS["hlt18_nano"](fixture_events["ttbar"])
    scores = AnomalyScorer(output, feature_set="hlt18_nano")(ak.drop_none(table)[list(names)])
    assert np.isfinite(ak.to_numpy(scores[:, 0])).mean() > 0.9
