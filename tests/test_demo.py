"""``jetad demo`` at its smallest size: every step runs and every promised output is written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from jetad.cli import main


@pytest.mark.slow
def test_small_demo_writes_every_output(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        main,
        ["demo", "--output", str(out), "--events", "50", "--epochs", "2", "--toys", "10"],
    )
    assert result.exit_code == 0, result.output
    expected = [
        "histograms.coffea", "histograms.root", "bumphunt.json", "cutflow.json", "report.md",
        "report.html", "commands.txt", "mjj_vae.png", "score_vae.png",
        "svj/histograms.coffea", "lepton/histograms.coffea",
    ]  # fmt: skip
    for name in expected:
        assert (out / name).is_file(), name
    for model in ("vae", "wnae", "hltvae"):
        assert (out / "models" / f"{model}.pt").is_file()
        metadata = json.loads((out / "models" / f"{model}.json").read_text())
        assert set(metadata["working_points"]) == {"eff10", "eff1", "eff0p1"}
        metrics = json.loads((out / "models" / f"{model}_evaluation" / "metrics.json").read_text())
        assert all(0.0 <= m["auc"] <= 1.0 for m in metrics.values())
    bumphunt = json.loads((out / "bumphunt.json").read_text())
    assert bumphunt["datasets"] == ["pseudodata"]
    assert set(bumphunt["hunts"]["vae"]) == {"none", "eff10", "eff1", "eff10_mjj", "eff1_mjj"}
    for cut, result in bumphunt["hunts"]["vae"].items():  # this few events may leave too few bins
        if "skipped" not in result:
            assert result["local_significance"] >= 0 and (out / f"bumphunt_vae_{cut}.png").is_file()
    cutflow = json.loads((out / "cutflow.json").read_text())["cutflow"]
    assert cutflow["pseudodata"]["all"] == 400 + round(0.03 * 400)
    assert cutflow["pseudodata"]["signal (truth)"] > 0
    report = (out / "report.md").read_text()
    assert "Bump hunt on the pseudo-data" in report and "The injected W′ peaks at" in report
    # at this size the characterisation is skipped, and the report says why
    assert "Latent characterisation of the pseudo-data" in report and "at least 500" in report
    commands = (out / "commands.txt").read_text().splitlines()
    expected_commands = ["inject", *["train", "evaluate"] * 3, "decorrelate", *["run"] * 3,
                         "bumphunt", "characterise"]  # fmt: skip
    assert [c.split()[1] for c in commands] == expected_commands
