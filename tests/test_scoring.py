"""Columnar scoring with coffea's torch_wrapper: Runner, dask, empty chunks, refusals."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from coffea import processor
from coffea.nanoevents import PFNanoAODSchema

from conftest import FIXTURES, load_events
from jetad.features import FEATURE_SETS, feature_matrix
from jetad.models import TrainConfig, export, score_matrix, train
from jetad.scoring import AnomalyScorer


@pytest.fixture(scope="module")
def svj8_model(tmp_path_factory, fixture_events):
    svj8 = FEATURE_SETS["svj8"]
    matrix = feature_matrix(ak.flatten(svj8(fixture_events["ttbar"])), svj8.names)
    matrix = matrix[np.all(np.isfinite(matrix), axis=1)]
    trained = train(
        matrix,
        TrainConfig(
            model="ae",
            epochs=3,
            latent=3,
            hidden=(10, 10),
            preprocessing="quantile",
            optimizer="adam",
            learning_rate=1e-3,
        ),
    )
    return export(trained, tmp_path_factory.mktemp("model") / "ae.pt", "svj8", svj8.names)


class ScoreProcessor(processor.ProcessorABC):
    """Scores every FatJet and returns the flat scores, for comparison."""

    def __init__(self, model_path):
        self.scorer = AnomalyScorer(model_path, feature_set="svj8")

    def process(self, events):
        scores = self.scorer(FEATURE_SETS["svj8"](events))
        return {
            events.metadata["dataset"]: {
                "entry": [events.metadata["entrystart"]],
                "scores": [ak.to_numpy(ak.flatten(scores[..., 0]))],
            }
        }

    def postprocess(self, accumulator):
        return accumulator


def test_runner_scoring_equals_direct(svj8_model):
    fileset = {"svj": {"files": {str(FIXTURES / "svj.root"): "Events"}}}
    runner = processor.Runner(
        executor=processor.IterativeExecutor(), schema=PFNanoAODSchema, chunksize=70
    )
    out = runner(fileset, processor_instance=ScoreProcessor(svj8_model))["svj"]
    order = np.argsort(out["entry"])
    in_runner = np.concatenate([out["scores"][i] for i in order])
    events = load_events(FIXTURES / "svj.root")
    svj8 = FEATURE_SETS["svj8"]
    direct = score_matrix(svj8_model, feature_matrix(ak.flatten(svj8(events)), svj8.names))
    # float32 matrix products differ in the last bit between batch sizes
    np.testing.assert_allclose(in_runner, direct[:, 0], rtol=1e-6)


def test_eager_virtual_dask_and_empty(svj8_model):
    scorer = AnomalyScorer(svj8_model, feature_set="svj8")
    svj8 = FEATURE_SETS["svj8"]
    eager = scorer(svj8(load_events(FIXTURES / "svj.root")))
    virtual = scorer(svj8(load_events(FIXTURES / "svj.root", mode="virtual")))
    lazy = scorer(svj8(load_events(FIXTURES / "svj.root", mode="dask")))
    for other in (virtual, lazy.compute()):
        assert ak.array_equal(eager, other, equal_nan=True, dtype_exact=False)
    assert ak.all(ak.num(eager) == ak.num(load_events(FIXTURES / "svj.root").FatJet))
    assert len(scorer(svj8(load_events(FIXTURES / "svj.root")[:0]))) == 0


def test_mismatched_model_is_refused(svj8_model):
    with pytest.raises(
        ValueError, match=r"trained on feature set 'svj8' \['axis_major'.*not 'lhco'"
    ):
        AnomalyScorer(svj8_model, feature_set="lhco")
    with pytest.raises(ValueError, match=r"expects features \['axis_major'.*got \['ptd'\]"):
        AnomalyScorer(svj8_model, features=("ptd",))
    scorer = AnomalyScorer(svj8_model)
    with pytest.raises(ValueError, match="the feature table lacks"):
        scorer(ak.zip({"ptd": [0.5]}))
