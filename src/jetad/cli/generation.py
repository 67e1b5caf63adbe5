"""``jetad generate``, ``jetad samples`` and ``jetad convert``: events in, ROOT files out."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from jetad._extras import require
from jetad.cli._common import _key_values, _progress, _writable, console, main
from jetad.datasets import write_fileset
from jetad.generate import (
    PROCESSES,
    GenerationSummary,
    generate,
    generate_many,
    get_process,
    render_card,
)
from jetad.lhco import convert_lhco
from jetad.toptag import convert_toptag

__all__ = ["generate_samples"]


@contextmanager
def _generation_pool(executor: str, scheduler: str | None, jobs: int):
    """None (jetad's own pool of ``jobs`` processes) or the executor of a Dask cluster: an
    existing one at ``scheduler`` or a ``LocalCluster`` of ``jobs`` workers."""
    if executor == "processes" and scheduler is None:
        yield None
        return
    from jetad.analysis import dask_client

    with dask_client(scheduler, jobs) as client:
        yield client.get_executor()


def _generation_options(command):
    """--jobs, --executor and --scheduler, shared by ``generate`` and ``samples``."""
    options = [
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Worker processes (of the LocalCluster with --executor dask)."),
        click.option("--executor", type=click.Choice(["processes", "dask"]), default="processes",
                     show_default=True, help="Run the blocks in a process pool or on Dask; the "
                     "files are identical either way (every block keeps its seed)."),
        click.option("--scheduler", default=None,
                     help="Address of an existing Dask scheduler (implies --executor dask)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _run_generation(
    process: str,
    events: int,
    seed: int,
    output: Path,
    pool,
    params: dict[str, str],
    pythia: tuple[str, ...],
    fatjet_radius: float | None = None,
    jobs: int = 1,
) -> GenerationSummary:
    require("pythia8mc", "event generation (jetad generate)")
    try:  # a bad parameter is one line before any progress bar
        render_card(get_process(process), get_process(process).parameters(params))
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    with _progress() as bar:
        task = bar.add_task(process, total=events)
        try:
            return generate(
                process,
                n_events=events,
                seed=seed,
                output=output,
                jobs=jobs,
                parameters=params,
                pythia_settings=pythia,
                fatjet_radius=fatjet_radius,
                progress=lambda n: bar.advance(task, n),
                pool=pool,
            )
        except ValueError as err:
            raise click.ClickException(str(err)) from None


def generate_samples(requests: list[dict], jobs: int, pool=None) -> list[GenerationSummary]:
    """Generate several samples in parallel (blocks of all of them share ``jobs`` processes,
    or ``pool``)."""
    require("pythia8mc", "event generation (jetad samples)")
    with _progress() as bar:
        task = bar.add_task("samples", total=sum(r["n_events"] for r in requests))

        def done(summary: GenerationSummary) -> None:
            bar.advance(task, summary.n_events)
            bar.console.print(f"generated {summary.n_events} {summary.process} events")

        try:
            return generate_many(requests, jobs=jobs, done=done, pool=pool)
        except ValueError as err:
            raise click.ClickException(str(err)) from None


_GENERATE_HELP = (
    "Generate PROCESS with Pythia 8 and the parametric detector into a PFNano-like file.\n\n"
    "\b\nProcesses:\n" + "\n".join(f"  {p.name:15s} {p.description}" for p in PROCESSES.values())
)


@main.command("generate", help=_GENERATE_HELP)
@click.argument("process", type=click.Choice(list(PROCESSES)))
@click.option("--events", "-n", type=click.IntRange(min=1), required=True, help="Events.")
@click.option("--seed", "-s", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="ROOT file.")
@_generation_options
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Process parameter, e.g. rinv=0.5 or m_wprime=3000 (repeatable).",
)
@click.option(
    "--pythia",
    multiple=True,
    metavar="SETTING",
    help="Extra Pythia setting appended to the card (repeatable).",
)
@click.option(
    "--fatjet-radius",
    type=click.FloatRange(min=0.0, max=2.0, min_open=True),
    default=None,
    help="Anti-kT radius of FatJet.  [default: 1.0 for qcd_dijet and wprime_xy, else 0.8]",
)
@click.option("--ps-weights", is_flag=True,
              help="Store Pythia's parton-shower variations (ISR, FSR μ_R × 2 and × 0.5) as "
              "NanoAOD's PSWeight; the processors fill them as systematics.")  # fmt: skip
def generate_command(process, events, seed, output, jobs, executor, scheduler, params, pythia,
                     fatjet_radius, ps_weights) -> None:  # fmt: skip
    from jetad.generate.pythia import PS_WEIGHT_SETTINGS

    pythia = (*pythia, *PS_WEIGHT_SETTINGS) if ps_weights else pythia
    parameters = _key_values(params, "--param")
    with _generation_pool(executor, scheduler, jobs) as pool:
        summary = _run_generation(process, events, seed, output, pool, parameters, pythia,
                                  fatjet_radius, jobs)  # fmt: skip
    _print_summary([summary])


@main.command("samples")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="Directory for the ROOT files and fileset.json.",
)
@click.option("--events", "-n", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--seed", "-s", type=int, default=1, show_default=True)
@_generation_options
@click.option(
    "--process",
    "processes",
    multiple=True,
    type=click.Choice(list(PROCESSES)),
    help="Processes to generate (repeatable); all of them by default.",
)
@click.option(
    "--fileset",
    type=click.Path(path_type=Path),
    default=None,
    help="Fileset JSON to write.  [default: OUTPUT/fileset.json]",
)
def samples_command(output, events, seed, jobs, executor, scheduler, processes, fileset) -> None:
    """Generate one file per process and a coffea fileset JSON describing them."""
    _writable(output)
    requests = [
        {"process": name, "n_events": events, "seed": seed, "output": output / f"{name}.root"}
        for name in (processes or PROCESSES)
    ]
    with _generation_pool(executor, scheduler, jobs) as pool:
        summaries = generate_samples(requests, jobs, pool)
    entries = {
        s.process: {"files": {str(s.output): "Events"}, "metadata": s.metadata()} for s in summaries
    }
    written = write_fileset(entries, fileset or output / "fileset.json")
    _print_summary(summaries)
    console.print(f"fileset: {written}")



@main.group("convert")
def convert_group() -> None:
    """Convert published datasets into PFNano-like ROOT files."""


def _convert_command(name: str, unit: str, convert):
    """``jetad convert NAME SOURCE OUTPUT [--block-size] [--max-events]``: ``convert(source,
    output, block_size, max_events)`` and the number of ``unit``s (events, jets) written."""

    def decorate(function):
        @convert_group.command(name, help=function.__doc__)
        @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
        @click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
        @click.option("--block-size", type=click.IntRange(min=1), default=10_000,
                      show_default=True, help=f"{unit.capitalize()} converted at a time.")
        @click.option("--max-events", type=click.IntRange(min=1), default=None,
                      help=f"Convert only the first N {unit}.")  # fmt: skip
        def command(source, output, block_size, max_events) -> None:
            _writable(output.parent)
            try:
                written = convert(source, output, block_size, max_events)
            except ValueError as err:
                raise click.ClickException(str(err)) from None
            console.print(f"wrote {written} {unit} to {output}")

        return command

    return decorate


@_convert_command("lhco", "events", convert_lhco)
def convert_lhco_command() -> None:
    """The LHC Olympics 2020 R&D table SOURCE (events_anomalydetection*.h5) as OUTPUT.root:
    PFCands, anti-kT R = 1.0 FatJets with their constituent links, and Truth_label."""


@_convert_command("toptag", "jets", convert_toptag)
def convert_toptag_command() -> None:
    """The Top Tagging reference table SOURCE (train.h5, val.h5, test.h5) as OUTPUT.root:
    one FatJet per event (the published jet) with its constituents, and Truth_label."""



def _print_summary(summaries: list[GenerationSummary]) -> None:
    import awkward as ak
    import uproot

    table = Table(title="generated samples")
    for column in (
        "process",
        "events",
        "xsec [pb]",
        "<PFCands>",
        "<FatJet>",
        "lead FatJet pT",
        "file",
    ):
        table.add_column(column)
    for s in summaries:
        with uproot.open(s.output) as file:
            tree = file["Events"]
            arrays = tree.arrays(["nPFCands", "nFatJet", "FatJet_pt"])
        lead = ak.firsts(arrays.FatJet_pt)
        table.add_row(
            s.process,
            str(s.n_events),
            f"{s.xsec_pb:.4g}",
            f"{ak.mean(arrays.nPFCands):.0f}",
            f"{ak.mean(arrays.nFatJet):.2f}",
            f"{ak.mean(lead):.0f} GeV" if ak.count(lead) else "-",
            str(s.output),
        )
    Console().print(table)
