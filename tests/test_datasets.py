"""Filesets and file opening: relative paths, bad files and feature rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import FIXTURES
from jetad.datasets import feature_rows, load_fileset, open_events, write_fileset
from jetad.features import FEATURE_SETS


def test_fileset_paths_are_relative_to_the_json(tmp_path):
    fileset = {"svj": {"files": {str(FIXTURES / "svj.root"): "Events"}, "metadata": {"xsec": 1}}}
    path = write_fileset(fileset, tmp_path / "sub" / "fileset.json")
    stored = json.loads(path.read_text())
    assert not next(iter(stored["svj"]["files"])).startswith("/")
    assert load_fileset(path)["svj"]["files"] == {str((FIXTURES / "svj.root").resolve()): "Events"}
    (tmp_path / "bad.json").write_text('{"svj": {"file": {}}}')
    with pytest.raises(ValueError, match="dataset 'svj' in .*bad.json.* needs a 'files' mapping"):
        load_fileset(tmp_path / "bad.json")


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    corrupt = tmp_path / "corrupt.root"
    corrupt.write_bytes(b"root" + bytes(1000))
    with pytest.raises(ValueError, match="cannot read .*corrupt.root.* as NanoAOD"):
        open_events(corrupt)
    truncated = tmp_path / "truncated.root"
    truncated.write_bytes((FIXTURES / "zjets.root").read_bytes()[:20000])
    with pytest.raises(ValueError, match="truncated.root"):
        feature_rows(FEATURE_SETS["hlt21"], [truncated])
    with pytest.raises(ValueError, match="cannot read .*nothing.root.*: no such file"):
        open_events(tmp_path / "nothing.root")


def test_feature_rows_drop_and_count_nonfinite():
    matrix, summary = feature_rows(FEATURE_SETS["svj8"], [FIXTURES / "svj.root"])
    assert matrix.shape == (summary["rows"], 8) and np.all(np.isfinite(matrix))
    assert summary["rows"] + summary["dropped_nonfinite"] > 300
