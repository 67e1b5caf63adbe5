"""The processors: executors agree bit for bit, the cutflows and the physics are sane, real
NanoAOD, missing branches and empty files."""

from __future__ import annotations

import itertools
from pathlib import Path

import awkward as ak
import hist
import numpy as np
import pytest
from jetad.processors import DijetAnomalyProcessor, LeptonTriggerProcessor, SemivisibleJetProcessor

from conftest import FIXTURE_FILESET, FIXTURES
from jetad.analysis import histograms, run_dask_awkward, run_processor, skipped_files
from jetad.datasets import feature_rows, load_fileset
from jetad.features import FEATURE_SETS
from jetad.generate.nanoaod import read_events, write_events
from jetad.histograms import nominal
from jetad.models import TrainConfig, export, train

#: analysis: (processor, models' feature set, model type, training processes, datasets run)
ANALYSES = {
    "dijet": (DijetAnomalyProcessor, "lhco", "vae", ("qcd_dijet",), ("qcd_dijet", "wprime_xy")),
    "svj": (SemivisibleJetProcessor, "svj8", "ae", ("ttbar",), ("svj", "ttbar")),
    "lepton": (LeptonTriggerProcessor, "hlt21", "hltvae", ("ttbar", "wjets"), ("ttbar", "zjets")),
}


def _train(feature_set: str, model: str, processes, directory) -> str:
    files = [FIXTURES / f"{p}.root" for p in processes]
    rows, _ = feature_rows(FEATURE_SETS[feature_set], files)
    trained = train(rows, TrainConfig.for_model(model, epochs=3))
    path = directory / f"{feature_set}.pt"
    return str(export(trained, path, feature_set, FEATURE_SETS[feature_set].names))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models")
    trained = {name: _train(fs, model, procs, directory)
               for name, (_, fs, model, procs, _) in ANALYSES.items()}  # fmt: skip
    trained["hlt18_nano"] = _train("hlt18_nano", "vae", ("ttbar", "wjets"), directory)
    return trained


def _processor(analysis, models):
    return ANALYSES[analysis][0]({"model": models[analysis]})


def _fileset(analysis):
    chosen = ANALYSES[analysis][4]
    return {k: v for k, v in load_fileset(FIXTURE_FILESET).items() if k in chosen}


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _by_category(h) -> dict:
    """``{(dataset, model[, cut]): (values, variances)}``: categories in any order compare."""
    names = [a.name for a in h.axes if isinstance(a, hist.axis.StrCategory)]
    found = {}
    for key in itertools.product(*(list(h.axes[n]) for n in names)):
        one = h[dict(zip(names, key, strict=True))]
        found[key] = (one.values(flow=True), one.variances(flow=True))
    return found


def _assert_identical(a: dict, b: dict) -> None:
    ha, hb = histograms(a), histograms(b)
    assert ha.keys() == hb.keys() and ha
    for name in ha:
        ca, cb = _by_category(ha[name]), _by_category(hb[name])
        assert ca.keys() == cb.keys(), name
        for key, (values, variances) in ca.items():
            assert np.array_equal(values, cb[key][0]), (name, key)
            assert np.array_equal(variances, cb[key][1]), (name, key)
    assert a["cutflow"] == b["cutflow"]


@pytest.mark.slow
@pytest.mark.parametrize("analysis", list(ANALYSES))
def test_executors_agree_bit_for_bit(analysis, models, scheduler):
    fileset = _fileset(analysis)
    runs = {
        executor: run_processor(
            _processor(analysis, models),
            fileset,
            executor=executor,
            chunksize=70,
            scheduler=scheduler,
        )  # fmt: skip
        for executor in ("iterative", "futures", "dask")
    }
    _assert_identical(runs["iterative"], runs["futures"])
    _assert_identical(runs["iterative"], runs["dask"])
    assert all(n == 200 for n in runs["dask"]["processed"].values())


@pytest.mark.slow
def test_dask_awkward_path_equals_the_runner(models, scheduler):
    fileset = _fileset("dijet")
    eager = run_processor(_processor("dijet", models), fileset, executor="iterative",
                          chunksize=100)  # fmt: skip
    lazy = run_dask_awkward(_processor("dijet", models), fileset, chunksize=100,
                            scheduler=scheduler)  # fmt: skip
    for name, h in histograms(eager).items():
        other = histograms(lazy)[name]
        np.testing.assert_allclose(other.values(flow=True), h.values(flow=True), rtol=1e-12)
    assert lazy["cutflow"] == eager["cutflow"]
    assert lazy["processed"] == eager["processed"]


def test_dijet_cutflow_cuts_and_mjj_peak(models):
    out = run_processor(_processor("dijet", models), _fileset("dijet"), executor="iterative")
    flow = out["cutflow"]["wprime_xy"]
    assert flow["all"] == 200 and flow["all"] >= flow["two jets"] >= flow["leading pT"]
    assert flow["leading pT"] >= flow["delta eta"] > 10
    assert flow["signal (truth)"] == flow["delta eta"]
    assert out["cutflow"]["qcd_dijet"]["signal (truth)"] == 0
    h = nominal(out["mjj"])
    signal = h[{"dataset": "wprime_xy", "model": "model", "cut": "none"}]
    assert 3000 < signal.axes[0].centers[np.argmax(signal.values())] < 3800
    none = h[{"dataset": "qcd_dijet", "model": "model", "cut": "none"}].values().sum()
    tight = h[{"dataset": "qcd_dijet", "model": "model", "cut": "eff10"}].values().sum()
    assert 0 < tight < none
    assert set(h.axes["cut"]) == {"none", "eff10", "eff1", "eff0p1"}


def test_working_points_hold_after_the_processors_selection(models):
    """A model's rows are the events the processor selects, its metadata says so, and its
    working points keep the stated QCD fraction of them (binomial errors of the validation
    rows that set them and of the events counted here)."""
    from jetad.models.export import load_metadata
    from jetad.observables.dijet import DijetSelection

    metadata = load_metadata(models["dijet"])
    assert metadata["selection"] == DijetSelection().to_dict()
    _, summary = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"])
    out = run_processor(_processor("dijet", models), _fileset("dijet"), executor="iterative")
    selected = out["cutflow"]["qcd_dijet"]["delta eta"]
    assert summary["rows"] + summary["dropped_nonfinite"] == selected
    mjj = nominal(out["mjj"])[{"dataset": "qcd_dijet", "model": "model"}]
    total = mjj[{"cut": "none"}].values(flow=True).sum()
    for cut, efficiency in metadata["working_point_efficiencies"].items():
        passed = mjj[{"cut": cut}].values(flow=True).sum() / total
        error = np.sqrt(efficiency * (1 - efficiency) * (1 / metadata["n_validation"] + 1 / total))
        assert abs(passed - efficiency) < 3 * error + 1 / total, (cut, passed)


def test_a_model_from_another_selection_is_named(models):
    with pytest.warns(UserWarning, match="working points computed on .*leading_ptmin.: 1200"):
        DijetAnomalyProcessor({"model": models["dijet"]}, leading_ptmin=1500.0)


def test_reclustered_dijets(models):
    fileset = _fileset("dijet")
    out = run_processor(DijetAnomalyProcessor({}, jets="recluster"), fileset, executor="iterative")
    assert out["cutflow"]["qcd_dijet"]["leading pT"] > 50
    assert out["mjj"][{"model": "none", "cut": "none"}].values().sum() > 0
    with pytest.raises(ValueError, match="jets must be 'fatjet' or 'recluster'"):
        DijetAnomalyProcessor({}, jets="ak4")


def test_semivisible_jets_mt_above_mjj(models):
    out = run_processor(_processor("svj", models), _fileset("svj"), executor="iterative")
    flow = out["cutflow"]["svj"]
    assert flow["all"] >= flow["two jets"] >= flow["delta eta"] > 50
    assert flow["unscored (model)"] == 0
    mjj = nominal(out["mjj"])[{"dataset": "svj", "model": "model", "cut": "none"}]
    mt = nominal(out["mt"])[{"dataset": "svj", "model": "model", "cut": "none"}]
    assert mjj.values(flow=True).sum() == pytest.approx(mt.values(flow=True).sum())
    mean = lambda h: np.average(h.axes[0].centers, weights=h.values())  # noqa: E731
    assert mean(mt) > mean(mjj) > 500  # M_T ≥ m_jj event by event
    assert set(out["mt"].axes["cut"]) == {"none", "eff10", "eff1", "eff0p1"}


def test_lepton_trigger_features_and_score(models):
    out = run_processor(_processor("lepton", models), _fileset("lepton"), executor="iterative")
    flow = out["cutflow"]
    assert flow["ttbar"]["one lepton"] > 100 and flow["zjets"]["one lepton"] > 100
    assert flow["ttbar"]["unscored (model)"] == 0
    lep_pt = nominal(out["features"]["lep_pt"])
    lep_pt = lep_pt[{"dataset": "zjets", "model": "model", "cut": "none"}]
    weights = out["score"]["model"][{"dataset": "zjets", "model": "model"}].values(flow=True)
    assert lep_pt.values(flow=True).sum() == pytest.approx(weights.sum())
    assert lep_pt.axes[0].centers[np.argmax(lep_pt.values())] > 23
    with pytest.raises(ValueError, match="needs hlt21 or hlt18_nano"):
        LeptonTriggerProcessor({"m": models["dijet"]})


@pytest.mark.realdata
@pytest.mark.parametrize("analysis", ["dijet", "svj", "lepton", "lepton_nano"])
def test_every_processor_runs_on_real_nanoaod(realdata, models, analysis):
    files = sorted(realdata.glob("*.root"))
    fileset = {path.stem: {"files": {str(path): "Events"}} for path in files}
    if analysis == "lepton_nano":
        instance = LeptonTriggerProcessor({"pf": models["lepton"], "nano": models["hlt18_nano"]})
    else:
        instance = _processor(analysis, models)
    out = run_processor(instance, fileset, executor="iterative")
    assert skipped_files(out, fileset) == []
    assert out["processed"][str(realdata / "nano_dy.root")] == 40
    if analysis == "lepton_nano":  # no PF candidates: the 21-feature model cannot score
        dy = out["cutflow"]["nano_dy"]
        assert dy["one lepton"] > 10
        assert dy["unscored (pf)"] == dy["one lepton"] and dy["unscored (nano)"] == 0
    if analysis == "dijet":  # PFNano with the old layout: constituents found, jets scored
        assert out["cutflow"]["pfnano"]["two jets"] == 10
        assert out["cutflow"]["pfnano"]["jets without stored constituents"] == 0


@pytest.mark.realdata
def test_stored_nsubjettiness_fallback_matches_constituents(realdata):
    from conftest import load_events
    from jetad.constituents import fatjet_constituents
    from jetad.observables import dijet_features

    events = load_events(realdata / "pfnano.root")
    stored = dijet_features(events.FatJet)
    computed = dijet_features(events.FatJet, fatjet_constituents(events))
    for name in ("tau21_j1", "tau21_j2"):
        difference = np.abs(ak.to_numpy(stored[name]) - ak.to_numpy(computed[name]))
        assert np.median(difference) < 0.005, name
    assert ak.all(stored.mjj == computed.mjj)


def _copy_fixture(tmp_path, name, change) -> str:
    branches = change(read_events(FIXTURES / "qcd_dijet.root"))
    path = tmp_path / name
    write_events(path, [branches], lambda: {"run": np.array([1], dtype=np.uint32)})
    return str(path)


def test_missing_branch_is_named(tmp_path, models):
    def without_mass(branches):
        branches["FatJet"] = branches["FatJet"][[f for f in branches["FatJet"].fields
                                                 if f != "mass"]]  # fmt: skip
        return branches

    def without_electrons(branches):
        return {k: v for k, v in branches.items() if k != "Electron"}

    for analysis, change in (("dijet", without_mass), ("svj", without_mass),
                             ("lepton", without_electrons)):  # fmt: skip
        path = _copy_fixture(tmp_path, f"{analysis}.root", change)
        missing = "FatJet_mass" if change is without_mass else "Electron_\\*"
        with pytest.raises(RuntimeError, match=f"{path}.*missing branch.*{missing}"):
            run_processor(_processor(analysis, models), {"qcd": {"files": {path: "Events"}}},
                          executor="iterative")  # fmt: skip


@pytest.mark.parametrize("analysis", list(ANALYSES))
def test_empty_file_and_empty_chunk(tmp_path, models, analysis):
    empty = _copy_fixture(tmp_path, "empty.root", lambda b: {k: v[:0] for k, v in b.items()})
    full = str(FIXTURES / "ttbar.root")
    fileset = {"mixed": {"files": {empty: "Events", full: "Events"}}}
    out = run_processor(_processor(analysis, models), fileset, executor="iterative")
    assert out["processed"] == {empty: 0, full: 200}
    assert skipped_files(out, fileset) == [] and out["cutflow"]["mixed"]["all"] == 200
    alone = run_processor(_processor(analysis, models), {"e": {"files": {empty: "Events"}}},
                          executor="iterative")  # fmt: skip
    assert all(count == 0 for count in alone["cutflow"]["e"].values())
    assert all(h.values().sum() == 0 for h in histograms(alone).values())


def test_changed_cross_section_is_used_when_run_again():
    """coffea caches file metadata per process by (dataset, file, tree) with the fileset's
    metadata inside; jetad's runs must weigh with the fileset they are given."""
    fileset = _fileset("dijet")
    totals = []
    for xsec in (1.0, 3.0):
        changed = {
            k: {**v, "metadata": {**v["metadata"], "xsec": xsec}} for k, v in fileset.items()
        }
        out = run_processor(DijetAnomalyProcessor({}), changed, executor="iterative")
        totals.append(out["mjj"][{"dataset": "qcd_dijet"}].sum(flow=True).value)
    assert totals[1] == pytest.approx(3 * totals[0]) and totals[0] > 0


def test_reclustering_reads_the_nanoaod_v15_candidates(tmp_path):
    """``--jets recluster`` finds the candidates through ``constituents.LAYOUTS``: a file with
    NanoAOD v15's ``PFCand`` gives the histograms of the same file in PFNano naming."""

    def v15(branches):
        links = branches.pop("FatJetPFCands")
        branches["PFCand"] = branches.pop("PFCands")
        branches["FatJetPFCand"] = ak.zip({"jetIdx": links.jetIdx, "pfCandIdx": links.pFCandsIdx})
        return branches

    renamed = _copy_fixture(tmp_path, "v15.root", v15)
    original = _copy_fixture(tmp_path, "pfnano.root", lambda branches: branches)
    outputs = [
        run_processor(DijetAnomalyProcessor({}, jets="recluster"),
                      {"qcd": {"files": {f: "Events"}}}, executor="iterative")
        for f in (renamed, original)
    ]  # fmt: skip
    assert outputs[0]["cutflow"]["qcd"]["leading pT"] > 50
    assert outputs[0]["cutflow"] == outputs[1]["cutflow"]
    np.testing.assert_array_equal(outputs[0]["mjj"].values(), outputs[1]["mjj"].values())


def test_file_without_luminosity_block_is_read(tmp_path, models):
    def without_lumi(branches):
        return {k: v for k, v in branches.items() if k != "luminosityBlock"}

    path = _copy_fixture(tmp_path, "skim.root", without_lumi)
    import uproot

    with uproot.open(path) as file:
        assert "luminosityBlock" not in file["Events"].keys()
    with pytest.warns(RuntimeWarning, match="luminosityBlock"):
        out = run_processor(_processor("dijet", models), {"skim": {"files": {path: "Events"}}},
                            executor="iterative")  # fmt: skip
    assert out["cutflow"]["skim"]["all"] == 200


class _KillsItsWorkerOnce(DijetAnomalyProcessor):
    """A dijet processor whose Dask worker process dies the first time it meets a chunk that
    does not start a file (``marker`` records that it has)."""

    def __init__(self, models, marker: str):
        super().__init__(models)
        self.marker = marker

    def process(self, events):
        import os

        if events.metadata.get("entrystart", 0) > 0 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)  # the worker process dies mid-run, as under a batch system's kill
        return super().process(events)


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_changes_nothing(models, tmp_path):
    from distributed import LocalCluster

    marker = tmp_path / "killed"
    fileset = _fileset("dijet")
    model = {"model": models["dijet"]}
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        disturbed = run_processor(_KillsItsWorkerOnce(model, str(marker)), fileset,
                                  executor="dask", chunksize=70,
                                  scheduler=cluster.scheduler_address)  # fmt: skip
    assert marker.exists()  # a worker did die
    undisturbed = run_processor(DijetAnomalyProcessor(model), fileset, executor="iterative",
                                chunksize=70)  # fmt: skip
    _assert_identical(disturbed, undisturbed)
    assert all(n == 200 for n in disturbed["processed"].values())


def _negative_weight_copy(path, runs):
    """The QCD fixture with genWeight −1 on every third event (an NLO-like sample) and the
    given ``Runs`` branches."""
    branches = read_events(FIXTURES / "qcd_dijet.root")
    sign = np.where(np.arange(len(branches["genWeight"])) % 3 == 0, -1.0, 1.0)
    branches["genWeight"] = (np.asarray(branches["genWeight"]) * sign).astype(np.float32)
    write_events(path, [branches], lambda: runs(branches["genWeight"]))
    return np.asarray(branches["genWeight"], dtype=np.float64)


def test_weights_are_normalised_to_the_runs_tree_generator_sum(tmp_path):
    """σ / Σw with Σw = Runs/genEventSumw (not the fileset's nevents): negative weights and
    all. Without genEventSumw the run falls back to nevents and says so."""
    with_runs = tmp_path / "with_runs.root"
    genweight = _negative_weight_copy(
        with_runs, lambda w: {"run": np.array([1], np.uint32),
                              "genEventSumw": np.array([np.sum(w, dtype=np.float64)])})  # fmt: skip
    without = tmp_path / "without_runs.root"
    _negative_weight_copy(without, lambda w: {"run": np.array([1], np.uint32)})
    metadata = {"xsec": 2.5, "nevents": 10 * len(genweight)}  # a deliberately wrong count
    fileset = {"qcd": {"files": {str(with_runs): "Events"}, "metadata": metadata},
               "qcd_old": {"files": {str(without): "Events"}, "metadata": metadata}}  # fmt: skip
    with pytest.warns(UserWarning, match=r"'qcd_old'.*without_runs.root has no Runs/genEventSumw"):
        out = run_processor(DijetAnomalyProcessor({}), fileset, executor="iterative")
    passed = out["cutflow"]["qcd"]["delta eta"]
    assert 0 < passed < len(genweight)
    mjj = nominal(out["mjj"])[{"model": "none", "cut": "none"}]
    total = {d: mjj[{"dataset": d}].values(flow=True).sum() for d in ("qcd", "qcd_old")}
    # the same events, normalised by Σw = Σ genWeight and by the (wrong) nevents
    assert total["qcd"] / total["qcd_old"] == pytest.approx(10 * len(genweight) / genweight.sum())
    assert np.sign(total["qcd"]) == 1


@pytest.mark.slow
def test_dask_workers_without_the_model_file(models, tmp_path):
    """Workers in their own directory, the model file gone from the submitting machine's disk
    before the run: the processor carries the model, for the Runner and dask-awkward alike."""
    import shutil

    from distributed import LocalCluster

    fileset = _fileset("dijet")
    reference = run_processor(_processor("dijet", models), fileset, executor="iterative")
    moved = tmp_path / "elsewhere" / "vae.pt"
    moved.parent.mkdir()
    for suffix in (".pt", ".json"):
        shutil.copy(Path(models["dijet"]).with_suffix(suffix), moved.with_suffix(suffix))
    shipped = DijetAnomalyProcessor({"model": str(moved)})
    shutil.rmtree(moved.parent)
    workers = tmp_path / "workers"
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None,
                      local_directory=str(workers)) as cluster:  # fmt: skip
        runner = run_processor(shipped, fileset, executor="dask",
                               scheduler=cluster.scheduler_address)  # fmt: skip
        lazy = run_dask_awkward(shipped, fileset, scheduler=cluster.scheduler_address)
    _assert_identical(reference, runner)
    h = histograms(reference)["mjj"]
    np.testing.assert_allclose(histograms(lazy)["mjj"].values(flow=True), h.values(flow=True),
                               rtol=1e-12)  # fmt: skip


@pytest.fixture(scope="module")
def ps_weighted(tmp_path_factory):
    """60 generated QCD dijet events with Pythia's parton-shower variation weights."""
    from jetad.generate import generate

    path = tmp_path_factory.mktemp("ps") / "qcd_ps.root"
    summary = generate("qcd_dijet", n_events=60, seed=5, output=path, ps_weights=True)
    return path, summary


def test_generator_writes_nanoaod_psweight(ps_weighted):
    import uproot

    path, _ = ps_weighted
    with uproot.open(path) as file:
        ps = file["Events"]["PSWeight"].array()
        assert ak.all(file["Events"]["nPSWeight"].array() == 4)
    ps = ak.to_numpy(ps)
    assert ps.shape == (60, 4) and np.all(np.isfinite(ps)) and np.all(ps > 0)
    assert not np.allclose(ps, 1.0)  # the variations move the weights


def test_psweight_variations_fill_the_systematic_axis(ps_weighted, tmp_path):
    """Weights carry ISR/FSR up and down from PSWeight ([0] ISR μ_R × 2 as up, [2] × 0.5 as
    down; [1], [3] for FSR); every observable histogram gets them on its systematic axis,
    and a sample without PSWeight gets nominal only."""
    from jetad.analysis import write_outputs
    from jetad.datasets import open_events
    from jetad.histograms import event_weights

    path, summary = ps_weighted
    events = open_events(path)
    events.metadata.update(summary.metadata())
    weights = event_weights(events, np.ones(len(events), dtype=bool))
    assert weights.variations == {"ISRUp", "ISRDown", "FSRUp", "FSRDown"}
    ps = ak.to_numpy(events.PSWeight)
    nominal = weights.weight()
    np.testing.assert_allclose(nominal, summary.xsec_pb / 60)
    for name, column in (("ISRUp", 0), ("FSRUp", 1), ("ISRDown", 2), ("FSRDown", 3)):
        np.testing.assert_allclose(weights.weight(modifier=name), nominal * ps[:, column],
                                   rtol=1e-6)  # fmt: skip

    fileset = {"qcd_ps": {"files": {str(path): "Events"}, "metadata": summary.metadata()},
               "qcd_dijet": load_fileset(FIXTURE_FILESET)["qcd_dijet"]}  # fmt: skip
    out = run_processor(DijetAnomalyProcessor({}), fileset, executor="iterative")
    mjj = out["mjj"]
    assert set(mjj.axes["systematic"]) == {"nominal", "ISRUp", "ISRDown", "FSRUp", "FSRDown"}
    fixture = mjj[{"dataset": "qcd_dijet", "model": "none", "cut": "none"}]
    assert fixture[{"systematic": "ISRUp"}].values(flow=True).sum() == 0  # no PSWeight there
    generated = mjj[{"dataset": "qcd_ps", "model": "none", "cut": "none"}]
    up = generated[{"systematic": "ISRUp"}].values(flow=True).sum()
    assert up > 0 and up != generated[{"systematic": "nominal"}].values(flow=True).sum()
    write_outputs(out, tmp_path / "run")
    import uproot

    with uproot.open(tmp_path / "run" / "histograms.root") as file:
        assert "mjj/qcd_ps/none/none__ISRUp" in file and "mjj/qcd_ps/none/none" in file
