"""``jetad demo``: the whole analysis, end to end, on freshly generated samples.

1. generate every sample in parallel (Pythia 8 + the parametric detector);
2. inject ``wprime_xy`` into an independent ``qcd_dijet`` sample at S/B: the pseudo-data;
3. train the VAE ensemble (``lhco``, on QCD), the WNAE (``svj8``, on tt̄ jets) and the
   ℓ+X VAE (``hlt21``, on W/Z+jets), and evaluate each on independent samples;
4. run the dijet, semivisible-jet and ℓ+X processors on a Dask LocalCluster;
5. run the bump hunt on the pseudo-data before and after the anomaly cuts;
6. characterise the pseudo-data's latent space against m_jj (decoder of (z, m_jj));
7. write ``report.md`` and ``report.html`` with the plots.

Each step is the corresponding ``jetad`` command, so the demo is also a worked example of the
command line: ``DIR/commands.txt`` lists them.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

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


def command_line(command: click.Command, values: dict) -> str:
    """The shell command that runs ``command`` with ``values`` (options at their default and
    unset ones left out)."""
    words = ["jetad", command.name]
    for param in command.params:
        value = values.get(param.name)
        if value in (None, (), False) or (not param.required and value == param.default):
            continue
        if isinstance(param, click.Argument):
            words.append(str(value))
            continue
        flag = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            words.append(flag)
            continue
        for item in value if param.multiple else (value,):
            words += [flag, str(item)]
    return shlex.join(words)


def run_demo(ctx: click.Context, output: Path, events: int, seed: int, jobs: int,
             s_over_b: float, toys: int, epochs: int | None = None) -> list[Path]:  # fmt: skip
    """Run every step into ``output`` through the commands of :mod:`jetad.cli`; ``epochs``
    overrides every model's number of training epochs."""
    from jetad import cli
    from jetad.bumphunt import WIDTHS
    from jetad.datasets import load_fileset, write_fileset

    output.mkdir(parents=True, exist_ok=True)
    samples, models = output / "samples", output / "models"
    samples.mkdir(exist_ok=True)
    commands: list[str] = []

    def invoke(command: click.Command, **options) -> None:
        commands.append(command_line(command, options))
        cli.console.rule(f"[bold]jetad {command.name}")
        ctx.invoke(command, **options)

    cli.console.rule("[bold]generating the samples")
    requests = [
        {"process": process, "n_events": scale * events, "seed": seed + offset,
         "output": samples / f"{name}.root"}
        for name, (process, scale, offset) in DEMO_SAMPLES.items()
    ]  # fmt: skip
    summaries = cli._generate_samples(requests, jobs)
    fileset_path = samples / "fileset.json"
    write_fileset(
        {name: {"files": {str(s.output): "Events"}, "metadata": s.metadata()}
         for name, s in zip(DEMO_SAMPLES, summaries, strict=True)},
        fileset_path,
    )  # fmt: skip
    invoke(
        cli.inject_command,
        background=samples / "qcd_data.root",
        signal=samples / "wprime_xy.root",
        s_over_b=s_over_b,
        seed=seed,
        output=samples / "pseudodata.root",
        fileset=fileset_path,
        dataset="pseudodata",
    )

    for name, (options, train_on, background, signal) in DEMO_MODELS.items():
        defaults = {"epochs": epochs, "outliers": (), "oe": None, "hidden": None,
                    "activation": None, "beta": None, "ensemble": 1, "latent": None,
                    "preprocessing": None, "device": "cpu", "seed": seed}  # fmt: skip
        invoke(cli.train_command, **{**defaults, **options},
               background=tuple(samples / f"{s}.root" for s in train_on),
               output=models / f"{name}.pt")  # fmt: skip
        invoke(cli.evaluate_command, model_path=models / f"{name}.pt",
               background=tuple(samples / f"{s}.root" for s in background),
               signal=tuple(samples / f"{s}.root" for s in signal),
               output=models / f"{name}_evaluation")  # fmt: skip

    # working points that follow m_jj, fitted on the QCD simulation (cuts eff10_mjj, eff1_mjj…)
    invoke(cli.decorrelate_command, model_path=models / "vae.pt",
           background=(samples / "qcd_dijet.root",), degree=2)  # fmt: skip

    everything = load_fileset(fileset_path)
    for analysis, (model, datasets, directory) in DEMO_ANALYSES.items():
        fileset = write_fileset({d: everything[d] for d in datasets},
                                output / "filesets" / f"{analysis}.json")  # fmt: skip
        invoke(cli.run_command, analysis=analysis, fileset=fileset,
               models=(f"{model}={models / f'{model}.pt'}",), executor="dask", scheduler=None,
               workers=jobs, chunksize=2000, maxchunks=None, skip_bad_files=False,
               output=output / directory, jets="fatjet")  # fmt: skip

    invoke(cli.bumphunt_command, histograms=output / "histograms.coffea",
           cuts=("eff10", "eff1", "eff10_mjj", "eff1_mjj"), datasets=("pseudodata",),
           luminosity=1.0, mjj_min=None,
           widths=WIDTHS, spurious_dataset="qcd_dijet", toys=toys, output=output)  # fmt: skip
    # what the pseudo-data's latent space says about m_jj (Bortolato et al. §V)
    try:
        invoke(cli.characterise_command, model_path=models / "vae.pt",
               data=(samples / "pseudodata.root",), signal=(), member=0, seed=seed,
               output=output / "characterisation")  # fmt: skip
    except click.ClickException as err:  # too few events at a tiny --events: say so
        cli.console.print(f"characterisation skipped: {err.message}")
        (output / "characterisation").mkdir(exist_ok=True)
        (output / "characterisation" / "characterisation.json").write_text(
            json.dumps({"skipped": err.message})
        )
    (output / "commands.txt").write_text("\n".join(commands) + "\n")

    from jetad.demo_report import demo_sections
    from jetad.report import write_report

    sections = demo_sections(output, summaries, s_over_b)
    return write_report(output, "jetad demo", sections)
