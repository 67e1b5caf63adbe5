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
