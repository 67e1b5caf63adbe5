"""Bad input ends in one line naming the file, branch, feature or option, or in a reported
skip: never a traceback from inside awkward, LZ4 or torch, never silent loss."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from jetad.cli import main
from jetad.datasets import feature_rows
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, export, train

QCD, SIGNAL = FIXTURES / "qcd_dijet.root", FIXTURES / "wprime_xy.root"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """A zero-byte, a non-ROOT, a truncated and a missing file."""
    directory = tmp_path_factory.mktemp("bad")
    (directory / "zero.root").write_bytes(b"")
    (directory / "text.root").write_text("this is not a ROOT file\n")
    (directory / "truncated.root").write_bytes(QCD.read_bytes()[:200_000])
    return {kind: directory / f"{kind}.root" for kind in ("zero", "text", "truncated", "missing")}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rows, _ = feature_rows(FEATURE_SETS["lhco"], [QCD])
    return export(train(rows, TrainConfig.for_model("vae", epochs=2)),
                  tmp_path_factory.mktemp("model") / "vae.pt", "lhco",
                  FEATURE_SETS["lhco"].names)  # fmt: skip


def _fileset(directory, path):
    fileset = directory / f"fileset_{path.stem}.json"
    fileset.write_text(json.dumps({"d": {"files": {str(path): "Events"}}}))
    return str(fileset)


def _one_line_error(arguments, *named) -> str:
    """Run the CLI; it must fail with exactly one error line naming every one of ``named``."""
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    for name in named:
        assert str(name) in errors[0], (name, errors[0])
    return errors[0]


@pytest.mark.parametrize("kind", ["zero", "text", "truncated", "missing"])
def test_bad_root_files_in_every_command(bad_files, model, tmp_path, kind):
    bad = bad_files[kind]
    name = bad.name
    _one_line_error(["train", "--features", "lhco", "--epochs", "1", "--quiet",
                     "--background", bad, "--output", tmp_path / "m.pt"], name)  # fmt: skip
    _one_line_error(["evaluate", "--model", model, "--background", bad, "--signal", SIGNAL,
                     "--output", tmp_path / "eval"], name)  # fmt: skip
    if kind != "missing":  # click names a missing path itself (usage error)
        for background, signal in ((bad, SIGNAL), (QCD, bad)):
            arguments = ["inject", "--background", background, "--signal", signal,
                         "--s-over-b", "0.01", "--output", tmp_path / "i.root"]  # fmt: skip
            _one_line_error(arguments, name)
        _one_line_error(["bumphunt", bad, "--output", tmp_path / "bh"], name,
                        "jetad run output")  # fmt: skip
    fileset = _fileset(tmp_path, bad)
    for command in (["run", "dijet"], ["ntuple", "--features", "lhco"]):
        base = [*command, "--fileset", fileset, "--model", model, "--executor", "iterative"]
        _one_line_error([*base, "--output", tmp_path / "out"], name)
        skipped = _one_line_error([*base, "--skip-bad-files", "--output", tmp_path / "out2"],
                                  name)  # fmt: skip
        assert "every one was skipped" in skipped


def test_a_bad_file_beside_good_ones_is_skipped_and_reported(bad_files, model, tmp_path):
    fileset = tmp_path / "mixed.json"
    files = {str(QCD): "Events", str(bad_files["truncated"]): "Events"}
    fileset.write_text(json.dumps({"d": {"files": files}}))
    result = CliRunner().invoke(main, [
        "run", "dijet", "--fileset", str(fileset), "--model", str(model), "--executor",
        "iterative", "--skip-bad-files", "--output", str(tmp_path / "out"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"skipped unreadable file {bad_files['truncated']}" in result.output
    cutflow = json.loads((tmp_path / "out" / "cutflow.json").read_text())
    assert str(bad_files["truncated"]) in json.dumps(cutflow)


def test_bad_model_files(model, tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(model.read_bytes()[:3000])
    shutil.copy(model.with_suffix(".json"), corrupt.with_suffix(".json"))
    lonely = tmp_path / "lonely.pt"
    shutil.copy(model, lonely)
    other = tmp_path / "svj.pt"
    rows, _ = feature_rows(FEATURE_SETS["svj8"], [FIXTURES / "ttbar.root"])
    export(train(rows, TrainConfig.for_model("ae", epochs=2)), other, "svj8",
           FEATURE_SETS["svj8"].names)  # fmt: skip
    fileset = _fileset(tmp_path, QCD)
    cases = {corrupt: "not a readable TorchScript file", lonely: "has no metadata file",
             other: "trained on feature set 'svj8'"}  # fmt: skip
    for path, reason in cases.items():
        commands = [["run", "dijet", "--fileset", fileset, "--model", path],
                    ["ntuple", "--features", "lhco", "--fileset", fileset, "--model", path]]
        if path is not other:  # evaluate scores a model on its own feature set
            commands.append(["evaluate", "--model", path, "--background", QCD, "--signal",
                             SIGNAL])  # fmt: skip
        for command in commands:
            error = _one_line_error([*command, "--output", tmp_path / "out"], path.name)
            assert reason in error, error


def test_out_of_range_options(model, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = blocker / "sub"
    fileset = _fileset(tmp_path, QCD)
    (tmp_path / "malformed.json").write_text('{"d": ["a.root"')
    (tmp_path / "layout.json").write_text('{"d": {"nofiles": 1}}')
    cases = [
        (["generate", "qcd_dijet", "--events", "-5", "--output", tmp_path / "x.root"],
         "--events"),
        (["inject", "--background", QCD, "--signal", SIGNAL, "--s-over-b", "1.5", "--output",
          tmp_path / "i.root"], "--s-over-b"),
        (["inject", "--background", QCD, "--signal", SIGNAL, "--s-over-b", "0", "--output",
          tmp_path / "i.root"], "--s-over-b"),
        (["run", "dijet", "--fileset", fileset, "--model", model, "--workers", "0",
          "--output", tmp_path / "r"], "--workers"),
        (["run", "dijet", "--fileset", tmp_path / "malformed.json", "--model", model,
          "--output", tmp_path / "r"], "malformed.json"),
        (["run", "dijet", "--fileset", tmp_path / "layout.json", "--model", model,
          "--output", tmp_path / "r"], "layout.json"),
        (["run", "dijet", "--fileset", fileset, "--model", model, "--output", unwritable],
         unwritable),
        (["ntuple", "--features", "lhco", "--fileset", fileset, "--model", model,
          "--output", unwritable], unwritable),
        (["train", "--features", "lhco", "--background", QCD, "--output",
          unwritable / "m.pt"], unwritable),
        (["evaluate", "--model", model, "--background", QCD, "--signal", SIGNAL,
          "--output", unwritable], unwritable),
        (["inject", "--background", QCD, "--signal", SIGNAL, "--s-over-b", "0.1",
          "--output", unwritable / "i.root"], unwritable),
    ]  # fmt: skip
    for arguments, named in cases:
        _one_line_error(arguments, named)
