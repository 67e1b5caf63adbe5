"""Shared test fixtures: the committed PFNano-like samples and the optional real CMS files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "datasets" / "fixtures"
FIXTURE_FILESET = ROOT / "datasets" / "filesets" / "fixtures.json"
REALDATA = ROOT.parent / "shared" / "realdata"
PROCESSES = ("qcd_dijet", "wprime_xy", "svj", "ttbar", "wjets", "zjets")


def load_events(path: Path | str, mode: str = "eager"):
    """NanoEvents of one file with coffea's PFNanoAODSchema."""
    from coffea.nanoevents import NanoEventsFactory, PFNanoAODSchema

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Missing cross-reference")
        return NanoEventsFactory.from_root(
            {str(path): "Events"}, schemaclass=PFNanoAODSchema, mode=mode
        ).events()


@pytest.fixture(scope="session")
def fixture_events():
    """Eager NanoEvents of every committed fixture, by process name."""
    return {name: load_events(FIXTURES / f"{name}.root") for name in PROCESSES}


@pytest.fixture(scope="session")
def realdata() -> Path:
    """``../shared/realdata``; tests using it are skipped when it is not beside the checkout."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not beside the checkout")
    return REALDATA


@pytest.fixture(scope="session")
def generated_jets():
    """``jets × constituents`` of the AK8/AK10 jets of the qcd_dijet, wprime_xy and svj fixtures."""
    import awkward as ak

    from jetad.constituents import fatjet_constituents

    jets = [
        ak.flatten(fatjet_constituents(load_events(FIXTURES / f"{name}.root")), axis=1)
        for name in ("qcd_dijet", "wprime_xy", "svj")
    ]
    return ak.concatenate(jets)
