"""The dijet processor: executors agree bit for bit, the cutflow and the physics are sane."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
from coffea import processor
from coffea.nanoevents import PFNanoAODSchema
from jetad.processors import DijetAnomalyProcessor

from conftest import FIXTURE_FILESET
from jetad.datasets import feature_rows, load_fileset
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, export, train


@pytest.fixture(scope="module")
def lhco_model(tmp_path_factory):
    fileset = load_fileset(FIXTURE_FILESET)
    rows, _ = feature_rows(FEATURE_SETS["lhco"], list(fileset["qcd_dijet"]["files"]))
    trained = train(rows, TrainConfig.for_model("vae", epochs=3))
    return export(
        trained, tmp_path_factory.mktemp("m") / "vae.pt", "lhco", FEATURE_SETS["lhco"].names
    )


def _run(executor, model, jets="fatjet"):
    fileset = {
        k: v for k, v in load_fileset(FIXTURE_FILESET).items() if k in ("qcd_dijet", "wprime_xy")
    }
    runner = processor.Runner(executor=executor, schema=PFNanoAODSchema, chunksize=80)
    return runner(fileset, processor_instance=DijetAnomalyProcessor({"vae": model}, jets=jets))


def test_iterative_and_futures_agree_bit_for_bit(lhco_model):
    iterative = _run(processor.IterativeExecutor(), lhco_model)
    futures = _run(processor.FuturesExecutor(workers=2), lhco_model)
    assert np.array_equal(iterative["mjj"].values(flow=True), futures["mjj"].values(flow=True))
    assert np.array_equal(
        iterative["mjj"].variances(flow=True), futures["mjj"].variances(flow=True)
    )
    assert iterative["cutflow"] == futures["cutflow"]


def test_cutflow_cuts_and_mjj_peak(lhco_model):
    out = _run(processor.IterativeExecutor(), lhco_model)
    flow = out["cutflow"]["wprime_xy"]
    assert flow["all"] == 200 and flow["all"] >= flow["two jets"] >= flow["leading pT"] > 10
    h = out["mjj"]
    signal = h[{"dataset": "wprime_xy", "model": "vae", "cut": "none"}]
    centers = signal.axes[0].centers
    assert 3000 < centers[np.argmax(signal.values())] < 3800
    none = h[{"dataset": "qcd_dijet", "model": "vae", "cut": "none"}].values().sum()
    tight = h[{"dataset": "qcd_dijet", "model": "vae", "cut": "eff10"}].values().sum()
    assert 0 < tight < none
    assert set(h.axes["cut"]) == {"none", "eff10", "eff1", "eff0p1"}


def test_reclustered_jets(lhco_model):
    out = _run(processor.IterativeExecutor(), lhco_model, jets="recluster")
    assert out["cutflow"]["qcd_dijet"]["leading pT"] > 50
    with pytest.raises(ValueError, match="jets must be 'fatjet' or 'recluster'"):
        DijetAnomalyProcessor({}, jets="ak4")
    assert ak.sum(out["mjj"].values()) > 0
