"""The wheel ships every subpackage of src/jetad (the package list in pyproject is explicit)."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_subpackage_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        "jetad" + "".join(f".{p}" for p in init.parent.relative_to(ROOT / "src" / "jetad").parts)
        for init in (ROOT / "src" / "jetad").rglob("__init__.py")
    }
    assert on_disk <= listed, sorted(on_disk - listed)
    assert {"jetad.processors", "jetad.cards"} <= listed


#: Optional dependencies and the extra that brings each (jetad._extras.EXTRAS).
OPTIONAL = ("pythia8mc", "ot", "zuko", "distributed", "dask_jobqueue", "onnx", "onnxruntime",
            "pandas")  # fmt: skip

_BLOCKED_IMPORT = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("not installed: " + name)
sys.meta_path.insert(0, Blocker())
import jetad.processors, jetad.scoring, jetad.histograms, jetad.bumphunt, jetad.models, jetad.cli
from jetad.processors import DijetAnomalyProcessor
print("imported")
"""


def test_processors_and_scoring_import_without_the_extras():
    """What a coffea analysis applying a model imports needs no Pythia, POT, zuko, Dask
    cluster, ONNX or pandas (pip install jetad, without extras)."""
    import subprocess
    import sys

    script = _BLOCKED_IMPORT.format(blocked=set(OPTIONAL))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout


def test_core_dependencies_leave_out_the_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    for distribution in ("pythia8mc", "pot", "zuko", "distributed", "dask-jobqueue", "onnx"):
        assert distribution not in core
    extras = project["optional-dependencies"]
    assert extras["generate"] == ["pythia8mc==8.317.2"]
    assert "jetad[all]" in extras["test"]
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert project["license"] == "BSD-3-Clause"


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, tmp_path):
    import sys

    from click.testing import CliRunner

    from jetad.cli import main

    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # import pythia8mc → ImportError
    result = CliRunner().invoke(
        main, ["generate", "qcd_dijet", "--events", "10", "--output", str(tmp_path / "q.root")]
    )
    assert result.exit_code == 1, result.output
    assert "pip install 'jetad[generate]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "q.root").exists()
