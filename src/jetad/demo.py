"""``jetad demo``: the whole analysis, end to end, on freshly generated samples.

1. generate every sample in parallel (Pythia 8 + the parametric detector);
2. inject ``wprime_xy`` into an independent ``qcd_dijet`` sample at S/B: the pseudo-data;
3. train the VAE ensemble (``lhco``, on QCD), the WNAE (``svj8``, on tt̄ jets) and the
   ℓ+X VAE (``hlt21``, on W/Z+jets), and evaluate each on independent samples;
4. run the dijet, semivisible-jet and ℓ+X processors on a Dask LocalCluster;
5. run the bump hunt on the pseudo-data before and after the anomaly cuts;
6. characterise the pseudo-data's latent space against m_jj (decoder of (z, m_jj));
7. write ``report.md`` and ``report.html`` with the plots.

Each step is a function of :mod:`jetad.workflow` (or of its stage), the one the corresponding
``jetad`` command calls, so the demo is also a worked example of both: ``DIR/commands.txt``
lists the equivalent commands.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable
from pathlib import Path

__all__ = ["DEMO_ANALYSES", "DEMO_MODELS", "DEMO_SAMPLES", "command_line", "run_demo"]

#: Demo samples: name → (process, events as a multiple of ``--events``, seed offset).
DEMO_SAMPLES = {
    "qcd_dijet": ("qcd_dijet", 4, 0),
    "qcd_data": ("qcd_dijet", 8, 1),
    "wprime_xy": ("wprime_xy", 1, 0),
    "svj": ("svj", 1, 0),
    "ttbar": ("ttbar", 2, 0),
    "ttbar_test": ("ttbar", 1, 1),
    "wjets": ("wjets", 1, 0),
    "wjets_test": ("wjets", 1, 1),
    "zjets": ("zjets", 1, 0),
}

#: Models: name → (jetad train options, training samples, evaluation background, signal).
DEMO_MODELS = {
    "vae": ({"model": "vae", "features": "lhco", "ensemble": 3}, ("qcd_dijet",),
            ("qcd_data",), ("wprime_xy",)),
    "wnae": ({"model": "wnae", "features": "svj8"}, ("ttbar",), ("ttbar_test",), ("svj",)),
    "hltvae": ({"model": "hltvae", "features": "hlt21"}, ("wjets", "zjets"), ("wjets_test",),
               ("ttbar_test",)),
}  # fmt: skip

#: Analyses: name → (model, datasets, output subdirectory).
DEMO_ANALYSES = {
    "dijet": ("vae", ("pseudodata", "qcd_dijet", "wprime_xy"), "."),
    "svj": ("wnae", ("svj", "ttbar_test", "qcd_data"), "svj"),
    "lepton": ("hltvae", ("ttbar_test", "wjets_test", "zjets"), "lepton"),
}


def command_line(command: str, *arguments, **options) -> str:
    """The shell command ``jetad COMMAND ARGUMENTS --option value …``: a list or tuple repeats
    its option, True is a flag, None, False and empty values are left out."""
    words = ["jetad", *command.split(), *map(str, arguments)]
    for name, value in options.items():
        if value is None or value is False or value == ():
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
            continue
        for item in value if isinstance(value, list | tuple) else (value,):
            words += [flag, str(item)]
    return shlex.join(words)


def run_demo(output: Path, events: int, seed: int, jobs: int, s_over_b: float, toys: int,
             epochs: int | None = None,
             report: Callable[[str], None] | None = None) -> list[Path]:  # fmt: skip
    """Run every step into ``output`` through :mod:`jetad.workflow`; ``epochs`` overrides
    every model's number of training epochs; ``report`` receives the progress lines (the
    ``jetad`` logger's INFO by default)."""
    from jetad import workflow
    from jetad.bumphunt import WIDTHS
    from jetad.characterisation import DecoderConfig, characterise_files
    from jetad.datasets import load_fileset, write_fileset
    from jetad.decorrelation import calibrate
    from jetad.generate import generate_many
    from jetad.models import TrainConfig

    report = report or logging.getLogger("jetad").info
    output.mkdir(parents=True, exist_ok=True)
    samples, models = output / "samples", output / "models"
    samples.mkdir(exist_ok=True)
    commands: list[str] = []

    def step(command: str, *arguments, **options) -> None:
        commands.append(command_line(command, *arguments, **options))
        report(f"── jetad {command}")

    report("── generating the samples")
    requests = [
        {"process": process, "n_events": scale * events, "seed": seed + offset,
         "output": samples / f"{name}.root"}
        for name, (process, scale, offset) in DEMO_SAMPLES.items()
    ]  # fmt: skip
    summaries = generate_many(requests, jobs=jobs, done=lambda s: report(
        f"generated {s.n_events} {s.process} events"))  # fmt: skip
    fileset_path = samples / "fileset.json"
    write_fileset(
        {name: {"files": {str(s.output): "Events"}, "metadata": s.metadata()}
         for name, s in zip(DEMO_SAMPLES, summaries, strict=True)},
        fileset_path,
    )  # fmt: skip
    injection = {"background": samples / "qcd_data.root", "signal": samples / "wprime_xy.root",
                 "s_over_b": s_over_b, "output": samples / "pseudodata.root"}  # fmt: skip
    step("inject", **injection, fileset=fileset_path)
    workflow.inject(**injection, seed=seed, fileset=fileset_path, report=report)

    for name, (options, train_on, background, signal) in DEMO_MODELS.items():
        files = {"background": tuple(samples / f"{s}.root" for s in train_on),
                 "output": models / f"{name}.pt"}  # fmt: skip
        settings = {"ensemble": options.get("ensemble"), "epochs": epochs, "seed": seed}
        step("train", model=options["model"], features=options["features"], **files,
             **settings)  # fmt: skip
        given = {k: v for k, v in settings.items() if v is not None}
        config = TrainConfig.for_model(options["model"], **given)
        trained = workflow.train_from_files(config, options["features"], files["background"],
                                            files["output"], report=report)  # fmt: skip
        for member in trained.reports:
            report(member.line())
        evaluation = {"background": tuple(samples / f"{s}.root" for s in background),
                      "signal": tuple(samples / f"{s}.root" for s in signal),
                      "output": models / f"{name}_evaluation"}  # fmt: skip
        step("evaluate", model=files["output"], **evaluation)
        workflow.evaluate_model(files["output"], **evaluation)

    # working points that follow m_jj, fitted on the QCD simulation (cuts eff10_mjj, eff1_mjj…)
    step("decorrelate", models / "vae.pt", background=samples / "qcd_dijet.root")
    calibrate(models / "vae.pt", [samples / "qcd_dijet.root"], degree=2)

    everything = load_fileset(fileset_path)
    for analysis, (model, datasets, directory) in DEMO_ANALYSES.items():
        fileset = write_fileset({d: everything[d] for d in datasets},
                                output / "filesets" / f"{analysis}.json")  # fmt: skip
        named = {model: str(models / f"{model}.pt")}
        step(f"run {analysis}", fileset=fileset, model=f"{model}={named[model]}",
             chunksize=2000, output=output / directory)  # fmt: skip
        for path in workflow.run_analysis(analysis, fileset, named, output / directory,
                                          executor="dask", workers=jobs, chunksize=2000,
                                          report=report)[0]:  # fmt: skip
            report(f"wrote {path}")

    hunt = {"cut": ("eff10", "eff1", "eff10_mjj", "eff1_mjj"), "dataset": ("pseudodata",),
            "spurious_signal": "qcd_dijet", "toys": toys, "output": output}  # fmt: skip
    step("bumphunt", output / "histograms.coffea", **hunt)
    workflow.hunt_bumps(output / "histograms.coffea", output, cuts=hunt["cut"],
                        datasets=hunt["dataset"], widths=WIDTHS, spurious_dataset="qcd_dijet",
                        toys=toys, report=report)  # fmt: skip
    # what the pseudo-data's latent space says about m_jj (Bortolato et al. §V)
    latent = {"model": models / "vae.pt", "data": samples / "pseudodata.root", "seed": seed,
              "output": output / "characterisation"}  # fmt: skip
    step("characterise", **latent)
    try:
        characterise_files(models / "vae.pt", [samples / "pseudodata.root"],
                           output / "characterisation", (), 0,
                           DecoderConfig(seed=seed))  # fmt: skip
    except ValueError as err:  # too few events at a tiny --events: say so
        report(f"characterisation skipped: {err}")
        (output / "characterisation").mkdir(exist_ok=True)
        (output / "characterisation" / "characterisation.json").write_text(
            json.dumps({"skipped": str(err)})
        )
    (output / "commands.txt").write_text("\n".join(commands) + "\n")

    from jetad.demo_report import demo_sections
    from jetad.report import write_report

    sections = demo_sections(output, summaries, s_over_b)
    return write_report(output, "jetad demo", sections)
