"""``jetad ntuple``: one file per chunk, the manifest, and a killed job resumed exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import awkward as ak
import numpy as np
import pytest
import uproot
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.cli import main
from jetad.datasets import feature_rows, write_fileset
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


def _fileset(tmp_path, processes=("qcd_dijet", "wprime_xy")):
    entries = {p: {"files": {str(FIXTURES / f"{p}.root"): "Events"}} for p in processes}
    return write_fileset(entries, tmp_path / "fileset.json")


def _ntuple(fileset, output, *extra):
    return ["ntuple", "--fileset", str(fileset), "--output", str(output), *extra]


def _read_all(output) -> ak.Array:
    return ak.concatenate([ak.from_parquet(p) for p in sorted(output.glob("*/*.parquet"))])


def test_event_ntuple_has_every_event_once_with_scores(tmp_path, model):
    output = tmp_path / "nt"
    arguments = _ntuple(_fileset(tmp_path), output, "--features", "lhco", "--model",
                        f"vae={model}", "--executor", "iterative", "--chunksize", "64")  # fmt: skip
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["events"] == manifest["rows"] == 400 and len(manifest["chunks"]) == 6
    rows = _read_all(output)
    assert (
        len(rows) == 400
        and len(set(zip(rows.label.tolist(), rows.event.tolist(), strict=True))) == 400
    )
    assert {"vae_kl", "selected", "mj1", "genWeight"} <= set(rows.fields)
    finite = np.all([np.isfinite(rows[n]) for n in FEATURE_SETS["lhco"].names], axis=0)
    assert ak.all(np.isfinite(rows.vae_kl) == (rows.selected & finite))
    assert ak.sum(rows.selected) > 300
    assert ak.sum(rows.label == 1) == 200
    again = CliRunner().invoke(main, arguments)  # a rerun finds everything done
    assert again.exit_code == 0 and "6 chunks (6 already done)" in again.output


def test_jet_ntuple_as_root(tmp_path):
    output = tmp_path / "nt"
    arguments = _ntuple(_fileset(tmp_path, ("svj",)), output, "--features", "svj8",
                        "--format", "root", "--executor", "futures")  # fmt: skip
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    (chunk,) = output.glob("svj/*.root")
    with uproot.open(chunk) as file:
        tree = file["ntuple"]
        n_jets = int(
            np.sum(uproot.open(FIXTURES / "svj.root")["Events"]["nFatJet"].array(library="np"))
        )
        assert tree.num_entries == n_jets
        assert {"jet_index", "ptd", "msoftdrop", "event"} <= set(tree.keys())


@pytest.mark.slow
def test_killed_job_resumes_without_loss_or_duplicates(tmp_path, model):
    output, fileset = tmp_path / "nt", _fileset(tmp_path)
    arguments = _ntuple(fileset, output, "--features", "lhco", "--model", f"vae={model}",
                        "--executor", "iterative", "--chunksize", "5")  # fmt: skip
    job = subprocess.Popen([sys.executable, "-m", "jetad", *arguments],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(output.glob("*/*.parquet"))) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    done = len(list(output.glob("*/*.parquet")))
    assert 10 <= done < 80, "the job was not killed mid-way"
    assert not (output / "manifest.json").exists()

    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["events"] == manifest["rows"] == 400 and len(manifest["chunks"]) == 80
    assert sum(c["resumed"] for c in manifest["chunks"].values()) == done
    rows = _read_all(output)
    keys = list(zip(rows.label.tolist(), rows.event.tolist(), strict=True))
    assert len(keys) == len(set(keys)) == 400
    assert not list(output.glob("*/.*tmp*"))
