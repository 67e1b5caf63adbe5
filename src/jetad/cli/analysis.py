"""``jetad run``, ``ntuple``, ``inject``, ``bumphunt`` and ``demo``: the analysis over
filesets, over :mod:`jetad.workflow`."""

from __future__ import annotations

from pathlib import Path

import click

from jetad.bumphunt import WIDTHS
from jetad.cli._common import (
    _executor_options,
    _named_models,
    _writable,
    console,
    main,
    one_line_errors,
    report,
)


def _analyses() -> tuple[str, ...]:
    from jetad.processors import ANALYSES

    return tuple(ANALYSES)


def _analysis_help() -> str:
    from jetad.processors import ANALYSES

    return "\n".join(a.line() for a in ANALYSES.values())


@main.command(
    "run",
    help="Run an analysis processor over a fileset: histograms, cutflow and plots in OUTPUT."
    "\n\n\b\n" + _analysis_help(),
)
@click.argument("analysis", type=click.Choice(list(_analyses())))
@_executor_options
@click.option(
    "--jets",
    type=click.Choice(["fatjet", "recluster"]),
    default="fatjet",
    show_default=True,
    help="dijet: the file's FatJet, or anti-kT R = 1.0 reclustering of the PF candidates.",
)
def run_command(analysis, fileset, models, executor, scheduler, workers, dashboard, chunksize,
                maxchunks, skip_bad_files, output, jets) -> None:  # fmt: skip
    from jetad.processors import get_analysis
    from jetad.workflow import run_analysis

    _writable(output)
    chosen = get_analysis(analysis)
    options = {"jets": jets} if "jets" in chosen.options else {}
    try:
        chosen.check_executor(executor, jets=jets)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    try:
        paths, _ = run_analysis(
            analysis, fileset, _named_models(models), output, executor, scheduler, workers,
            chunksize, maxchunks, skip_bad_files, dashboard, status=not console.quiet,
            report=report, **options,
        )  # fmt: skip
    except (ValueError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    for path in paths:
        console.print(f"wrote {path}")


@main.command("ntuple")
@_executor_options
@click.option("--features", "features", required=True, help="Feature set: lhco, svj8, hlt21, ...")
@click.option(
    "--format", "fmt", type=click.Choice(["parquet", "root"]), default="parquet", show_default=True
)
def ntuple_command(fileset, models, executor, scheduler, workers, dashboard, chunksize,
                   maxchunks, skip_bad_files, output, features, fmt) -> None:  # fmt: skip
    """Features and scores as flat ntuples, one file per input chunk, with a manifest.

    Chunk files are written under a temporary name and renamed; a rerun into the same OUTPUT
    skips the chunks already written, so a killed job resumes where it stopped.
    """
    from jetad.ntuples import remove_partial_chunks, write_manifest
    from jetad.processors import NtupleProcessor

    if executor == "dask-awkward":
        raise click.UsageError("ntuples are written per chunk: use iterative, futures or dask")
    _writable(output)
    removed = remove_partial_chunks(output)
    if removed:
        console.print(f"removed {removed} partial chunk file(s) of an interrupted run")
    from jetad.analysis import run_processor, skipped_files
    from jetad.datasets import load_fileset

    named = _named_models(models)
    try:
        files = load_fileset(fileset)
        result = run_processor(NtupleProcessor(features, named, str(output), fmt), files,
                               executor=executor, workers=workers, chunksize=chunksize,
                               maxchunks=maxchunks, skip_bad_files=skip_bad_files,
                               scheduler=scheduler, dashboard=dashboard,
                               status=not console.quiet)  # fmt: skip
    except (ValueError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    skipped = skipped_files(result, files)
    for path in skipped:
        report(f"skipped unreadable file {path}")
    chunks = result.get("chunks", {})
    manifest = write_manifest(output, chunks, fileset=str(fileset.resolve()), features=features,
                              models=named, format=fmt, chunksize=chunksize,
                              skipped_files=skipped)  # fmt: skip
    resumed = sum(c["resumed"] for c in chunks.values())
    console.print(f"{len(chunks)} chunks ({resumed} already done), manifest: {manifest}")


@main.command("bumphunt")
@click.argument("histograms", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--cut",
    "cuts",
    multiple=True,
    default=("eff1",),
    show_default=True,
    help="Working-point cut(s) to hunt after, besides 'none' (repeatable).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="Dataset(s) summed into the spectrum (repeatable); required when the file holds more "
    "than one, so that signal simulation is never summed into data unasked.",
)
@click.option(
    "--luminosity",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Integrated luminosity (pb^-1) that scales simulation weighted to 1 pb^-1; refused "
    "for unit-weight data. Significances do not depend on it (the fit uses Σw²).",
)
@click.option(
    "--mjj-min",
    type=float,
    default=None,
    help="Lower end of the fit range (GeV) [default: one bin above the peak of dN/dm_jj].",
)
@click.option(
    "--width",
    "widths",
    type=click.IntRange(min=1),
    multiple=True,
    default=WIDTHS,
    show_default=True,
    help="Window widths in m_jj bins (repeatable); the global significance accounts for all.",
)
@click.option(
    "--spurious-signal",
    "spurious_dataset",
    default=None,
    help="A background-only dataset (the analysis's own QCD simulation) to fit signal plus "
    "background to, before any cut: the spurious-signal test.",
)
@click.option("--toys", type=click.IntRange(min=10), default=200, show_default=True)
@click.option("--pass-fraction", is_flag=True,
              help="Also hunt in the fraction of each m_jj bin's events that each m_jj-following "
                   "cut keeps (pass_fraction_hunt). Experimental: it assumes that fraction is "
                   "smooth for QCD, which thresholds fitted on the data themselves, on a "
                   "simulation of similar size or as a quadratic do not give (README).")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True)
def bumphunt_command(histograms, cuts, datasets, luminosity, mjj_min, widths, spurious_dataset,
                     toys, pass_fraction, output) -> None:  # fmt: skip
    """Fit the m_jj background and scan for bumps, before and after each anomaly cut."""
    from jetad.workflow import hunt_bumps

    _writable(output)
    with one_line_errors():
        hunt_bumps(histograms, output, cuts, datasets, luminosity, mjj_min, widths,
                   spurious_dataset, toys, report=report, pass_fraction=pass_fraction)  # fmt: skip


@main.command("inject")
@click.option("--background", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--signal", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--s-over-b",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    required=True,
    help="Signal over background, in (0, 1), e.g. 0.01.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="ROOT file.")
@click.option(
    "--fileset",
    type=click.Path(path_type=Path),
    default=None,
    help="Add the pseudo-data to this fileset JSON (created if absent) as --dataset.",
)
@click.option("--dataset", default="pseudodata", show_default=True)
def inject_command(background, signal, s_over_b, seed, output, fileset, dataset) -> None:
    """Pseudo-data: every BACKGROUND event plus S/B x N_b SIGNAL events, shuffled, unweighted,
    with Truth_label kept."""
    from jetad.workflow import inject

    _writable(output.parent)
    with one_line_errors():
        inject(background, signal, s_over_b, output, seed, fileset, dataset, report=report)


@main.command("demo")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory for everything the demo makes.",
)
@click.option(
    "--events",
    "-n",
    type=click.IntRange(min=50),
    default=1000,
    show_default=True,
    help="Sample-size unit: 4x this many QCD training events, 8x for the pseudo-data, ...",
)
@click.option("--seed", "-s", type=int, default=1, show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--s-over-b",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.03,
    show_default=True,
)
@click.option("--toys", type=click.IntRange(min=10), default=100, show_default=True)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Training epochs of every model (default: each model's own, as jetad train).",
)
def demo_command(output, events, seed, jobs, s_over_b, toys, epochs) -> None:
    """The main job, end to end: generate, inject a signal, train, run the processors on a
    Dask LocalCluster, hunt for bumps and write report.md/report.html into OUTPUT."""
    from jetad.demo import run_demo

    _writable(output)
    for path in run_demo(output, events, seed, jobs, s_over_b, toys, epochs, report=report):
        console.print(f"[bold green]report: {path}")
