"""The ONNX export scores like the TorchScript model, NaN policy and metadata included."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.cli import main
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, export, load_metadata, score_matrix, train

pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("model", ["vae", "ae"])
def test_onnx_scores_equal_torchscript(model, tmp_path):
    from jetad.models.onnx_format import OnnxScorer

    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"])
    trained = train(rows, TrainConfig.for_model(model, epochs=2, ensemble=2))
    path = export(trained, tmp_path / f"{model}.pt", "lhco", FEATURE_SETS["lhco"].names)
    result = CliRunner().invoke(main, ["export-onnx", str(path)])
    assert result.exit_code == 0, result.output
    onnx_path = path.with_suffix(".onnx")
    assert f"wrote {onnx_path}" in result.output

    scorer = OnnxScorer(onnx_path)
    assert scorer.metadata == load_metadata(path)
    assert scorer.score_names == tuple(load_metadata(path)["scores"])
    test = np.array(rows, dtype=np.float32)
    test[5, 2] = np.nan  # the NaN policy: a non-finite feature scores NaN
    test[7, 0] = np.inf
    onnx_scores, torch_scores = scorer(test), score_matrix(path, test)
    assert onnx_scores.shape == torch_scores.shape == (len(rows), len(scorer.score_names))
    assert np.isnan(onnx_scores[[5, 7]]).all() and np.isnan(torch_scores[[5, 7]]).all()
    np.testing.assert_allclose(onnx_scores, torch_scores, rtol=1e-5, atol=1e-6)
    assert scorer(test[:0]).shape == (0, len(scorer.score_names))
    with pytest.raises(ValueError, match=r"rows × 6 feature matrix \(mj1, tau21_j1"):
        scorer(test[:, :3])


def test_onnx_export_refuses_a_non_model(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    result = CliRunner().invoke(main, ["export-onnx", str(bad)])
    assert result.exit_code == 1
    assert "has no metadata file" in result.output


def test_a_model_onnx_cannot_express_is_refused_in_one_line(tmp_path):
    """The ℓ+X VAE's Gaussian-CDF likelihood (log_ndtr) has no ONNX opset-17 operator."""
    rows, _ = feature_rows(FEATURE_SETS["hlt21"], [FIXTURES / "ttbar.root"])
    trained = train(rows, TrainConfig.for_model("hltvae", epochs=1),
                    features=FEATURE_SETS["hlt21"].names)  # fmt: skip
    path = export(trained, tmp_path / "hlt.pt", "hlt21", FEATURE_SETS["hlt21"].names)
    result = CliRunner().invoke(main, ["export-onnx", str(path)])
    assert result.exit_code == 1
    assert "cannot convert" in result.output and "log_ndtr" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not path.with_suffix(".onnx").exists()
