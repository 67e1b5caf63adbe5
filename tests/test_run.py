"""``jetad run``: outputs, executors, and bad files stopped or skipped and reported."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.cli import main
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, export, train


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rows, _ = feature_rows(FEATURE_SETS["lhco"], [FIXTURES / "qcd_dijet.root"])
    return export(
        train(rows, TrainConfig.for_model("vae", epochs=2)),
        tmp_path_factory.mktemp("m") / "vae.pt",
        "lhco",
        FEATURE_SETS["lhco"].names,
    )


def _fileset(tmp_path, extra=()):
    files = {str(FIXTURES / "qcd_dijet.root"): "Events", **{str(f): "Events" for f in extra}}
    path = tmp_path / "fileset.json"
    path.write_text(
        json.dumps({"qcd": {"files": files, "metadata": {"xsec": 1.0, "nevents": 200}}})
    )
    return path


@pytest.mark.slow
def test_dask_local_cluster_writes_every_output(tmp_path, model):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "dijet",
            "--fileset",
            str(_fileset(tmp_path)),
            "--model",
            f"vae={model}",
            "--executor",
            "dask",
            "--chunksize",
            "100",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("histograms.coffea", "histograms.root", "cutflow.json", "mjj_vae.png"):
        assert (out / name).exists()
    summary = json.loads((out / "cutflow.json").read_text())
    assert summary["cutflow"]["qcd"]["all"] == 200 and summary["skipped_files"] == []


def test_bad_file_stops_or_is_skipped(tmp_path, model):
    corrupt = tmp_path / "corrupt.root"
    corrupt.write_bytes(b"root" + bytes(10))
    fileset = str(_fileset(tmp_path, [corrupt]))
    arguments = [
        "run",
        "dijet",
        "--fileset",
        fileset,
        "--model",
        str(model),
        "--executor",
        "iterative",
    ]
    stopped = CliRunner().invoke(main, [*arguments, "--output", str(tmp_path / "a")])
    assert stopped.exit_code == 1 and "corrupt.root" in stopped.output
    skipped = CliRunner().invoke(
        main, [*arguments, "--skip-bad-files", "--output", str(tmp_path / "b")]
    )
    assert skipped.exit_code == 0, skipped.output
    assert "skipped unreadable file" in skipped.output and "corrupt.root" in skipped.output
    summary = json.loads((tmp_path / "b" / "cutflow.json").read_text())
    assert summary["skipped_files"] == [str(corrupt)]
    assert summary["cutflow"]["qcd"]["all"] == 200


def _assert_root_titles_plain(path):
    """ROOT titles in TLatex, not matplotlib's $…$: m_{jj} [GeV], the histogram's categories."""
    import uproot

    with uproot.open(path) as file:
        h = file["mjj/qcd/vae/eff10"]
        assert h.member("fXaxis").member("fTitle") == "m_{jj} [GeV]"
        assert h.member("fTitle") == "mjj: qcd, vae, eff10"
        for key, classname in file.classnames(cycle=False).items():
            if classname.startswith("TH1"):
                assert "$" not in file[key].member("fXaxis").member("fTitle"), key


@pytest.mark.parametrize("executor", ["iterative", "futures"])
def test_quiet_prints_nothing_but_writes_everything(tmp_path, model, executor):
    out = tmp_path / "out"
    args = ["run", "dijet", "--fileset", str(_fileset(tmp_path)), "--model", f"vae={model}",
            "--executor", executor, "--output", str(out)]  # fmt: skip
    quiet = CliRunner().invoke(main, ["--quiet", *args])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.output == ""
    assert (out / "histograms.coffea").exists() and (out / "cutflow.json").exists()
    _assert_root_titles_plain(out / "histograms.root")
    loud = CliRunner().invoke(main, args)  # the console speaks again without --quiet
    assert "wrote" in loud.output
    both = CliRunner().invoke(main, ["--quiet", "--verbose", *args])
    assert both.exit_code == 2 and "exclude each other" in both.output


@pytest.mark.slow
def test_a_dask_jobqueue_cluster_runs_the_analysis(tmp_path, model):
    """The HTCondor/Slurm route through dask-jobqueue, with its LocalCluster: the same job
    script machinery, the jobs started as local processes in their own directory."""
    dask_jobqueue = pytest.importorskip("dask_jobqueue.local")
    out = tmp_path / "out"
    with dask_jobqueue.LocalCluster(cores=1, processes=1, memory="2GB",
                                    local_directory=str(tmp_path / "jobs")) as cluster:  # fmt: skip
        cluster.scale(jobs=1)
        result = CliRunner().invoke(main, [
            "run", "dijet", "--fileset", str(_fileset(tmp_path)), "--model", f"vae={model}",
            "--scheduler", cluster.scheduler_address, "--output", str(out),
        ])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "cutflow.json").read_text())
    assert summary["cutflow"]["qcd"]["all"] == 200 and summary["skipped_files"] == []
