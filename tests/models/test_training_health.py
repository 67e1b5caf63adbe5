"""Training health: divergence detected and reported, epoch choice never at a non-finite epoch,
working points checked at export and at load, stacked ensembles equal to members one by one."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.cli import main
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, TrainingDiverged, export, load_metadata, train
from jetad.models.export import check_working_points
from jetad.models.stopping import choose_epoch, divergence

#: An Adadelta step that makes every member's loss overflow in its first epoch.
EXPLODING_LR = 1e4


@pytest.fixture(scope="module")
def lhco_rows():
    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"])
    return rows


def test_paper_optimiser_defaults():
    config = TrainConfig.for_model("vae")
    assert (config.optimizer, config.learning_rate, config.rho, config.eps) == (
        "adadelta", 1e-3, 0.95, 1e-7,
    )


@pytest.mark.parametrize("policy", ["drop", "retry"])
def test_all_members_diverging_raises_with_every_member_named(lhco_rows, policy):
    config = TrainConfig.for_model(
        "vae", epochs=3, ensemble=2, learning_rate=EXPLODING_LR, on_divergence=policy
    )
    with pytest.raises(TrainingDiverged) as caught:
        train(lhco_rows, config)
    message = str(caught.value)
    assert "\n" not in message and "nothing was kept" in message
    attempts = 1 if policy == "drop" else 1 + config.max_retries
    assert message.count("diverged at epoch") == 2 * attempts
    assert "member 0 (seed 0, lr 10000)" in message and "member 1 (seed 1, lr 10000)" in message


def test_retry_with_a_smaller_step_recovers_the_member(lhco_rows):
    # lr 100 explodes; the retries train at 10 and then 1, which this sample tolerates
    trained = train(lhco_rows, TrainConfig.for_model("vae", epochs=4, learning_rate=100.0))
    statuses = [(r.attempt, r.status) for r in trained.reports]
    assert statuses[0] == (0, "diverged") and statuses[-1][1] == "healthy"
    assert trained.reports[-1].seed == 100_000 * trained.reports[-1].attempt
    assert trained.reports[-1].learning_rate == pytest.approx(100.0 * 0.1**statuses[-1][0])
    assert len(trained.members) == 1
    assert all(np.isfinite(v).all() for v in trained.histories[0].values())


def test_divergence_rule():
    assert divergence(1.0, {"loss": 1.0}, reference=10.0) is None
    assert "train_loss is nan" in divergence(math.nan, {"loss": 1.0}, reference=10.0)
    assert "val_kl" not in (divergence(1.0, {"kl": math.inf}, 10.0) or "") and "kl is inf" in (
        divergence(1.0, {"kl": math.inf}, 10.0)
    )
    assert "100x the initial" in divergence(2e3, {"loss": 1.0}, reference=10.0)
    assert divergence(-50.0, {"loss": -50.0}, reference=0.001) is None  # floored at 1


def test_epoch_choice_never_selects_a_non_finite_epoch():
    nan = math.nan
    # the KL peaks at epoch 5, but that epoch's validation loss is NaN
    kl = [1, 2, 3, 4, 5, 6, 5.5, 5, 4, 3, 2]
    loss = [9, 8, 7, 6, 5, nan, 4.5, 4, 3, 2.5, nan]
    epoch, rule = choose_epoch("vae", {"val_kl": kl, "val_loss": loss})
    assert (epoch, rule) == (9, "min_val_loss")
    healthy = [9, 8, 7, 6, 5, 4, 4.5, 4, 3, 2.5, 3]
    assert choose_epoch("vae", {"val_kl": kl, "val_loss": healthy}) == (5, "kl_peak")
    assert choose_epoch("nae", {"val_emd": [1.0, 0.5, nan]}) == (1, "last_finite")
    assert choose_epoch("wnae", {"val_emd": [1.0, nan, 0.5]}) == (2, "min_val_emd")
    with pytest.raises(ValueError, match="no epoch with every validation metric finite"):
        choose_epoch("ae", {"val_loss": [nan, nan]})


def test_stacked_ensemble_equals_members_trained_one_by_one(lhco_rows):
    config = TrainConfig.for_model("vae", epochs=8, ensemble=3, seed=4, batch_size=32,
                                   learning_rate=1.0)
    together = train(lhco_rows, config)
    one_by_one = train(lhco_rows, TrainConfig(**{**config.to_dict(), "vectorize": False}))
    assert together.chosen_epochs == one_by_one.chosen_epochs
    for a, b in zip(together.histories, one_by_one.histories, strict=True):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-4, err_msg=key)
    for a, b in zip(together.members, one_by_one.members, strict=True):
        for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
            np.testing.assert_allclose(p.detach(), q.detach(), rtol=1e-3, atol=1e-5,
                                       err_msg=name)
    assert together.histories[0] != together.histories[1]  # members differ by seed


def _histories_close(a, b, rtol: float) -> None:
    for x, y in zip(a.histories, b.histories, strict=True):
        for key in x:
            np.testing.assert_allclose(x[key], y[key], rtol=rtol, err_msg=key)


@pytest.mark.skipif(shutil.which("c++") is None, reason="torch.compile needs a C++ compiler")
def test_compiled_stacked_training_equals_eager(lhco_rows):
    """``torch_compile`` fuses the step's element-wise work; the members are those of the
    eager step to float rounding (the last, shorter batch of an epoch runs eagerly)."""
    config = TrainConfig.for_model("vae", epochs=3, ensemble=2, seed=4, batch_size=64)
    eager = train(lhco_rows, config)
    compiled = train(lhco_rows, TrainConfig(**{**config.to_dict(), "torch_compile": True}))
    assert len(lhco_rows) * 0.75 % 64 != 0  # both kinds of batch ran
    _histories_close(compiled, eager, rtol=1e-4)
    with pytest.raises(ValueError, match="applies to the stacked ensembles .* not to wnae"):
        TrainConfig.for_model("wnae", torch_compile=True)


def test_training_goes_on_without_a_compiler(lhco_rows, monkeypatch):
    """Where torch.compile fails (no C++ compiler), one warning says so and the members are
    those of the eager step."""
    from jetad.models import stacked

    def no_compiler(*args):
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore text")

    monkeypatch.setattr(stacked, "_compiled_losses", lambda: no_compiler)
    monkeypatch.setattr(stacked, "_COMPILE_FAILED", [])
    config = TrainConfig.for_model("vae", epochs=2, ensemble=2, seed=4, batch_size=64)
    with pytest.warns(UserWarning, match="torch.compile is unavailable here .RuntimeError: "
                                         "InvalidCxxCompiler: No working C.. compiler found.; "
                                         "training without it"):
        fallen_back = train(lhco_rows, TrainConfig(**{**config.to_dict(), "torch_compile": True}))
    _histories_close(fallen_back, train(lhco_rows, config), rtol=0)


def test_gradient_clipping_per_member_matches_torch():
    from jetad.models.networks import VAE
    from jetad.models.stacked import StackedMembers

    torch.manual_seed(0)
    networks = [VAE(6, [16], 1) for _ in range(2)]
    stacked = StackedMembers(networks)
    x, noise = torch.randn(2, 32, 6), torch.randn(2, 32, 1)
    loss, _ = stacked.losses(x, noise)
    loss.sum().backward()
    stacked.clip_grad_norm(0.5)
    for k, network in enumerate(networks):
        mean, log_var = network.encode(x[k])
        z = mean + noise[k] * (0.5 * log_var).exp()
        mse = ((network.decoder(z) - x[k]) ** 2).mean()
        (network.alpha * mse + network.kl(mean, log_var).mean()).backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 0.5)
        for name, p in network.named_parameters():
            grad = stacked.params[name].grad[k]
            grad = grad.T if name.endswith("weight") else grad[0]
            torch.testing.assert_close(grad, p.grad, msg=name)


def test_export_refuses_non_finite_working_points(lhco_rows, tmp_path):
    trained = train(lhco_rows, TrainConfig.for_model("vae", epochs=2))
    with torch.no_grad():
        trained.members[0].encoder[0].weight.fill_(math.nan)
    with pytest.raises(ValueError, match="cannot export .*vae.pt.*not finite"):
        export(trained, tmp_path / "vae.pt", "lhco", FEATURE_SETS["lhco"].names)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="must rise"):
        check_working_points({"eff10": 3.0, "eff1": 2.0, "eff0p1": 4.0}, "x")


@pytest.fixture(scope="module")
def nan_model(lhco_rows, tmp_path_factory):
    path = export(
        train(lhco_rows, TrainConfig.for_model("vae", epochs=2)),
        tmp_path_factory.mktemp("nan") / "vae.pt",
        "lhco",
        FEATURE_SETS["lhco"].names,
    )
    metadata = json.loads(path.with_suffix(".json").read_text())
    metadata["working_points"] = {"eff10": math.nan, "eff1": math.nan, "eff0p1": math.nan}
    path.with_suffix(".json").write_text(json.dumps(metadata))
    return path


def test_models_with_nan_working_points_are_refused_in_one_line(nan_model, tmp_path):
    with pytest.raises(ValueError, match="working points are not finite"):
        load_metadata(nan_model)
    fileset = tmp_path / "fileset.json"
    fileset.write_text(json.dumps({"qcd": {"files": {str(FIXTURES / "qcd_dijet.root"): "Events"}}}))
    commands = {
        "run": ["run", "dijet", "--fileset", str(fileset), "--model", f"vae={nan_model}",
                "--output", str(tmp_path / "run")],
        "evaluate": ["evaluate", "--model", str(nan_model), "--background",
                     str(FIXTURES / "qcd_dijet.root"), "--signal",
                     str(FIXTURES / "wprime_xy.root"), "--output", str(tmp_path / "eval")],
        "ntuple": ["ntuple", "--fileset", str(fileset), "--features", "lhco", "--model",
                   f"vae={nan_model}", "--output", str(tmp_path / "nt")],
    }
    for name, arguments in commands.items():
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 1, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        error = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(error) == 1 and str(nan_model.with_suffix(".json")) in error[0], name
        assert "not finite" in error[0], name


def test_cli_train_that_diverges_writes_nothing(tmp_path):
    output = tmp_path / "vae.pt"
    result = CliRunner().invoke(
        main,
        ["train", "--model", "vae", "--features", "lhco", "--epochs", "2", "--quiet",
         "--learning-rate", str(EXPLODING_LR), "--on-divergence", "drop",
         "--background", str(FIXTURES / "qcd_dijet.root"), "--output", str(output)],
    )
    assert result.exit_code == 1
    error = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(error) == 1 and "every member of the vae diverged" in error[0]
    assert not list(tmp_path.iterdir())


def test_cli_train_records_the_rule_of_each_epoch(tmp_path):
    output = tmp_path / "vae.pt"
    result = CliRunner().invoke(
        main,
        ["train", "--model", "vae", "--features", "lhco", "--epochs", "3", "--ensemble", "2",
         "--quiet", "--background", str(FIXTURES / "qcd_dijet.root"), "--output", str(output)],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("by min_val_loss") + result.output.count("by kl_peak") == 2
    history = json.loads(output.with_suffix(".history.json").read_text())
    assert len(history["epoch_rules"]) == 2 and len(history["members"]) == 2
    metadata = load_metadata(output)
    assert metadata["config"]["learning_rate"] == 1e-3
    assert metadata["epoch_rules"] == history["epoch_rules"]
