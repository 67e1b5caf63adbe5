"""The ``jetad`` command line: one click group, one subcommand per pipeline stage."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jetad._extras import MissingExtra, require
from jetad.bumphunt import WIDTHS
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

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _writable(directory: Path, option: str = "--output") -> Path:
    """Create ``directory`` and check that it takes files, before any long computation; one
    line naming the option and the directory when it does not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".jetad-write-check"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise click.ClickException(
            f"cannot write to {option} {directory}: {err.strerror or err}"
        ) from None
    return directory


def _key_values(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        pairs[key.strip()] = value.strip()
    return pairs


class _Group(click.Group):
    """Every command reports a missing optional dependency as one line naming its extra."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MissingExtra as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="jetad")
@click.option("-q", "--quiet", is_flag=True,
              help="Results and errors only: no progress bars, status lines or log messages.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log messages at DEBUG, the libraries' (Dask's, coffea's) included.")
def main(quiet: bool, verbose: bool) -> None:
    """jetad: unsupervised new-physics searches with jets, as a coffea plugin."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    _configure_logging(quiet, verbose)


def _configure_logging(quiet: bool, verbose: bool) -> None:
    """Python ``logging`` through rich on stderr: WARNING with ``--quiet`` (and no progress
    bars: the console goes quiet), DEBUG for everything with ``--verbose``, INFO otherwise."""
    import logging

    from rich.logging import RichHandler

    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = RichHandler(console=console, show_path=verbose, show_time=verbose)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    if not verbose:  # the libraries speak at WARNING and above only
        for name in ("distributed", "coffea", "numba", "fsspec", "asyncio"):
            logging.getLogger(name).setLevel(max(level, logging.WARNING))
    console.quiet = quiet


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


def _generate_samples(requests: list[dict], jobs: int, pool=None) -> list[GenerationSummary]:
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
        summaries = _generate_samples(requests, jobs, pool)
    entries = {
        s.process: {"files": {str(s.output): "Events"}, "metadata": s.metadata()} for s in summaries
    }
    written = write_fileset(entries, fileset or output / "fileset.json")
    _print_summary(summaries)
    console.print(f"fileset: {written}")


@main.command("train")
@click.option(
    "--model",
    "model",
    type=click.Choice(["vae", "ae", "wnae", "nae", "cvae", "hltvae"]),
    default="vae",
    show_default=True,
)
@click.option("--features", "features", required=True, help="Feature set: lhco, svj8, hlt21, ...")
@click.option(
    "--background",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Background ROOT files (repeatable).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="MODEL.pt; MODEL.json, MODEL.history.json and MODEL.training.png beside it.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=None, help="[default: 100; 60 for wnae, nae]"
)
@click.option(
    "--outliers",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Outlier-exposure ROOT files for the cvae (repeatable).",
)
@click.option(
    "--oe", type=click.Choice(["mse", "kl"]), default=None, help="Outlier-exposure loss (cvae)."
)
@click.option(
    "--oe-reweight",
    type=click.Choice(["mass"]),
    default=None,
    help="Weight the outliers so that their jet mass is distributed as the background's "
    "(Cheng et al.'s mass-decorrelated OE; needs --oe).",
)
@click.option(
    "--hidden",
    default=None,
    metavar="N,N,...",
    help="Hidden layer sizes of the encoder (mirrored in the decoder), e.g. 64,64,64.",
)
@click.option("--activation", type=click.Choice(["selu", "relu", "elu", "tanh"]), default=None)
@click.option("--beta", type=float, default=None, help="KL weight β of the (c)VAE loss.")
@click.option("--ensemble", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--latent",
    type=click.IntRange(min=1),
    default=None,
    help="Latent dimension.  [default: 1 for vae, 3 for ae, 6 for wnae and nae]",
)
@click.option(
    "--preprocessing",
    type=click.Choice(["maxabs", "standard", "robust", "quantile"]),
    default=None,
    help="[default: maxabs for vae and ae, quantile for wnae and nae]",
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Optimiser step.  [default: the model's paper: 1e-3 for vae and ae (Keras' Adadelta)]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="[default: 128 for vae and ae, 256 for the others]",
)
@click.option(
    "--clip-grad-norm",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Clip each member's gradient 2-norm to this value.",
)
@click.option(
    "--on-divergence",
    type=click.Choice(["retry", "drop"]),
    default="retry",
    show_default=True,
    help="A diverged member is retrained from a new seed with a 10x smaller step (at most "
    "twice), or left out.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars: one line per member.")
def train_command(
    model,
    features,
    background,
    output,
    epochs,
    outliers,
    oe,
    oe_reweight,
    hidden,
    activation,
    beta,
    ensemble,
    seed,
    latent,
    preprocessing,
    device,
    learning_rate,
    batch_size,
    clip_grad_norm,
    on_divergence,
    quiet,
) -> None:
    """Train an anomaly model on background feature rows and export it as TorchScript.

    Every member is checked after every epoch; a diverged member is reported, retried or left
    out (``--on-divergence``). When no member is healthy, or the working points are not
    finite and ordered, nothing is written and the command exits with status 1.
    """
    from jetad.datasets import feature_rows
    from jetad.decorrelation import mass_weights
    from jetad.features import get_feature_set
    from jetad.models import TrainConfig, TrainingDiverged

    _writable(output.parent)
    try:
        feature_set = get_feature_set(features)
        if bool(outliers) != bool(oe):
            raise ValueError("--outliers and --oe go together")
        if oe_reweight and not oe:
            raise ValueError("--oe-reweight needs --oe and --outliers")
        also = ("jet_mass",) if oe_reweight else ()
        x, summary = feature_rows(feature_set, background, also=also)
        outlier_rows = feature_rows(feature_set, outliers, also=also)[0] if outliers else None
        outlier_weights = None
        if oe_reweight:  # the mass is the last column: a weight, not a model input
            outlier_weights = mass_weights(outlier_rows[:, -1], x[:, -1])
            x, outlier_rows = x[:, :-1], outlier_rows[:, :-1]
        try:
            layers = tuple(int(n) for n in hidden.split(",")) if hidden else None
        except ValueError:
            raise ValueError(
                f"--hidden takes comma-separated layer sizes, got {hidden!r}"
            ) from None
        overrides = {
            "latent": latent,
            "epochs": epochs,
            "preprocessing": preprocessing,
            "oe": oe,
            "oe_reweight": oe_reweight,
            "hidden": layers,
            "activation": activation,
            "beta": beta,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "clip_grad_norm": clip_grad_norm,
        }
        config = TrainConfig.for_model(
            model,
            ensemble=ensemble,
            seed=seed,
            on_divergence=on_divergence,
            **{k: v for k, v in overrides.items() if v is not None},
        )
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    console.print(
        f"{summary['rows']} training rows of {features} "
        f"({summary['dropped_nonfinite']} with non-finite features dropped)"
    )
    try:
        trained = _train_with_progress(
            x, config, outlier_rows, device, quiet, feature_set.names, outlier_weights
        )
        paths = _write_model(trained, output, feature_set, summary)
    except (TrainingDiverged, ValueError) as err:
        raise click.ClickException(str(err)) from None
    for report in trained.reports:
        console.print(report.line())
    console.print(f"model: {paths[0]}  chosen epochs: {trained.chosen_epochs}")


def _train_with_progress(x, config, outliers, device, quiet, features, outlier_weights=None):
    """:func:`jetad.models.train` with one progress line per member (none when quiet)."""
    from functools import partial

    from jetad.models import train

    train = partial(
        train, device=device, outliers=outliers, features=features, outlier_weights=outlier_weights
    )
    if quiet:
        return train(x, config)
    bar = _progress()
    tasks: dict[int, int] = {}

    def progress(member, epoch, metrics):
        shown = ", ".join(
            f"{k.removeprefix('val_')} {v:.4g}" for k, v in metrics.items() if k.startswith("val_")
        )
        status = metrics["status"]
        colour = "red" if status.startswith("diverged") else "default"
        retry = f" retry {metrics['attempt']}" if metrics["attempt"] else ""
        if member not in tasks or (epoch == 0 and metrics["attempt"]):
            tasks[member] = bar.add_task("", total=config.epochs)
        bar.update(
            tasks[member],
            completed=epoch + 1,
            description=f"member {member}{retry}: {shown} [{colour}]{status}[/]",
        )

    with bar:
        return train(x, config, progress=progress)


def _write_model(trained, output: Path, feature_set, summary) -> tuple[Path, ...]:
    """The model, its history (with the rule that chose each epoch) and its training plot."""
    import json
    from dataclasses import asdict

    from jetad.models import export
    from jetad.plotting import plot_training

    path = export(trained, output, feature_set.name, feature_set.names, extra={"data": summary})
    history_path = output.with_suffix(".history.json")
    history_path.write_text(
        json.dumps(
            {
                "histories": trained.histories,
                "chosen_epochs": trained.chosen_epochs,
                "epoch_rules": trained.rules,
                "members": [asdict(report) for report in trained.reports],
            },
            indent=1,
        )
    )
    plot_path = output.with_suffix(".training.png")
    plot_training(trained.histories, trained.chosen_epochs, plot_path)
    return path, history_path, plot_path


@main.command("decorrelate")
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--background", multiple=True, required=True, type=click.Path(path_type=Path),
              help="QCD files to fit the thresholds on (repeatable).")  # fmt: skip
@click.option("--degree", type=click.IntRange(0, 5), default=2, show_default=True,
              help="Polynomial degree in ln m_jj.")  # fmt: skip
def decorrelate_command(model_path, background, degree) -> None:
    """Working points that follow m_jj (quantile regression on background after the
    selection), stored with MODEL_PATH: the dijet processor then also cuts eff10_mjj, eff1_mjj
    and eff0p1_mjj, which keep the QCD m_jj shape."""
    from jetad.decorrelation import calibrate

    try:
        report = calibrate(model_path, background, degree)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    table = Table(title=f"{model_path.name}: QCD efficiency in m_jj quartiles")
    for column in ("working point", "fixed threshold", "m_jj-dependent"):
        table.add_column(column)
    for name, flat in report.items():
        table.add_row(name, " ".join(f"{e:.4f}" for e in flat["fixed"]),
                      " ".join(f"{e:.4f}" for e in flat["mjj"]))  # fmt: skip
    Console().print(table)


@main.command("export-onnx")
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The ONNX file to write [default: MODEL_PATH with .onnx].")  # fmt: skip
def export_onnx_command(model_path, output) -> None:
    """Convert an exported model to ONNX (preprocessing, members, NaN policy and metadata
    inside), for ONNX Runtime, Triton or C++ frameworks."""
    from jetad.models.onnx_format import export_onnx

    try:
        written = export_onnx(model_path, output)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"wrote {written}")


@main.command("weak")
@click.argument("method", type=click.Choice(["cathode", "cwola"]))
@click.option("--data", multiple=True, required=True, type=click.Path(path_type=Path),
              help="The (pseudo-)data files, repeatable: the method never sees a truth label.")
@click.option("--mass", type=click.FloatRange(min=0, min_open=True), required=True,
              help="Signal-region hypothesis: its centre in m_jj [GeV].")
@click.option("--half-width", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.08, show_default=True, help="Signal region: m × (1 ± half-width).")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True,
              help="Classifier epochs (the best validation epoch is kept).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Model.")
def weak_command(method, data, mass, half_width, folds, epochs, seed, output) -> None:
    """Weakly supervised classifier for one signal region of m_jj (CATHODE or CWoLa hunting,
    jetad.weak_supervision) on the lhco features of the selected events, exported like every
    model; then `jetad decorrelate OUTPUT --background DATA` and `jetad run dijet`. The model
    is the folds' mean: apply it to data it was not trained on (on its own training events 4 of
    5 members have seen each signal-region event)."""
    from jetad.weak_supervision import ClassifierConfig, FlowConfig, SignalRegion, train_on_files

    _writable(output.parent)
    try:
        region = SignalRegion(mass, half_width=half_width, sideband=2 * half_width)
        config = ClassifierConfig(folds=folds, epochs=epochs, seed=seed)
        found, summary = train_on_files(method, data, region, output, config,
                                        FlowConfig(seed=seed))  # fmt: skip
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    low, high = region.edges
    click.echo(f"{method}: {summary['rows']} selected events, "
               f"{found.summary['signal_region_events']} in {low:.0f}–{high:.0f} GeV; "
               f"wrote {output}")  # fmt: skip


@main.command("characterise")
@click.option("--model", "model_path", type=click.Path(exists=True, path_type=Path), required=True,
              help="A VAE (jetad train --model vae).")
@click.option("--data", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Data or pseudo-data files, repeatable.")
@click.option("--signal", multiple=True, type=click.Path(path_type=Path),
              help="Signal files added to the data and marked as signal in the plots.")
@click.option("--member", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Folder.")
def characterise_command(model_path, data, signal, member, seed, output) -> None:
    """Latent characterisation (Bortolato et al. §V): a decoder of (z, m_jj) behind the VAE's
    frozen encoder, heat maps of every observable over (m_jj, z̄) and the localisation
    statistic (jetad.characterisation)."""
    from jetad.characterisation import DecoderConfig, characterise_files

    _writable(output)
    try:
        result = characterise_files(model_path, data, output, signal, member,
                                    DecoderConfig(seed=seed))  # fmt: skip
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    found = result.localisation
    where = (f"T = {found['statistic']:.2f} at m_jj = {found['mjj']:.0f} GeV ({found['feature']})"
             if found["feature"] else f"none: {found['reason']}")  # fmt: skip
    click.echo(f"localisation {where}; plots and decoder in {output}")


@main.command("evaluate")
@click.option("--model", "model_path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--background", multiple=True, required=True, type=click.Path(path_type=Path))
@click.option("--signal", multiple=True, required=True, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True)
def evaluate_command(model_path, background, signal, output) -> None:
    """AUC, SIC_max and 1/ε_B at ε_S = 0.5 of every score head, with ROC/SIC/score plots."""
    import json

    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set
    from jetad.models import figures_of_merit, load_metadata, score_matrix
    from jetad.plotting import plot_performance

    _writable(output)
    try:
        metadata = load_metadata(model_path)
        feature_set = get_feature_set(metadata["feature_set"])
        x_b, _ = feature_rows(feature_set, background)
        x_s, _ = feature_rows(feature_set, signal)
        s_b, s_s = score_matrix(model_path, x_b), score_matrix(model_path, x_s)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    scores = {name: (s_b[:, i], s_s[:, i]) for i, name in enumerate(metadata["scores"])}
    results = {name: figures_of_merit(b, s) for name, (b, s) in scores.items()}
    (output / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    plot_performance(scores, output)
    table = Table(title=f"{model_path.name}: {len(x_b)} background, {len(x_s)} signal rows")
    for column in ("score", "AUC", "SIC max", "1/eps_B at eps_S=0.5"):
        table.add_column(column)
    for name, fom in results.items():
        table.add_row(
            name,
            f"{fom['auc']:.3f}",
            f"{fom['sic_max']:.2f}",
            f"{fom['inverse_eff_b_at_eff_s_0p5']:.1f}",
        )
    Console().print(table)


def _executor_options(command):
    """The options every command that runs a processor over a fileset shares."""
    options = [
        click.option("--fileset", type=click.Path(exists=True, path_type=Path), required=True),
        click.option(
            "--model",
            "models",
            multiple=True,
            metavar="[NAME=]MODEL.pt",
            help="Model(s) to score with (repeatable); the name defaults to the file stem.",
        ),
        click.option(
            "--executor",
            type=click.Choice(["iterative", "futures", "dask", "dask-awkward"]),
            default="dask",
            show_default=True,
            help="dask and dask-awkward (coffea's apply_to_fileset; dijet only) without "
            "--scheduler start a LocalCluster of --workers processes.",
        ),
        click.option("--scheduler", default=None, help="Address of an existing Dask scheduler."),
        click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True),
        click.option("--dashboard", default=None, metavar="ADDRESS",
                     help="Serve the LocalCluster's Dask dashboard at ADDRESS (e.g. :8787)."),
        click.option("--chunksize", type=click.IntRange(min=1), default=100_000, show_default=True),
        click.option("--maxchunks", type=click.IntRange(min=1), default=None),
        click.option(
            "--skip-bad-files", is_flag=True, help="Skip unreadable files instead of stopping."
        ),
        click.option("--output", "-o", type=click.Path(path_type=Path), required=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _analyses() -> tuple[str, ...]:
    from jetad.processors import ANALYSES

    return tuple(ANALYSES)


def _named_models(models: tuple[str, ...]) -> dict[str, str]:
    named = {}
    for item in models:
        name, sep, path = item.partition("=")
        named[name if sep else Path(item).stem] = path if sep else item
    return named


def _run(instance_factory, fileset, executor, scheduler, workers, chunksize, maxchunks,
         skip_bad_files, dashboard=None):  # fmt: skip
    from jetad.analysis import run_dask_awkward, run_processor, skipped_files
    from jetad.datasets import load_fileset

    try:
        files = load_fileset(fileset)
        if executor == "dask-awkward":
            result = run_dask_awkward(instance_factory(), files, chunksize=chunksize,
                                      skip_bad_files=skip_bad_files, scheduler=scheduler,
                                      workers=workers, dashboard=dashboard)  # fmt: skip
        else:
            result = run_processor(instance_factory(), files, executor=executor,
                                   workers=workers, chunksize=chunksize, maxchunks=maxchunks,
                                   skip_bad_files=skip_bad_files, scheduler=scheduler,
                                   dashboard=dashboard, status=not console.quiet)  # fmt: skip
    except (ValueError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    skipped = skipped_files(result, files)
    for path in skipped:
        console.print(f"[yellow]skipped unreadable file {path}")
    return result, skipped


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
    from jetad.analysis import write_outputs
    from jetad.processors import get_analysis

    _writable(output)
    chosen = get_analysis(analysis)
    if executor == "dask-awkward" and not (chosen.dask_awkward and jets == "fatjet"):
        raise click.UsageError("--executor dask-awkward runs the dijet analysis with --jets fatjet")
    named = _named_models(models)
    options = {"jets": jets} if "jets" in chosen.options else {}
    result, skipped = _run(lambda: chosen.build(named, **options), fileset, executor, scheduler,
                           workers, chunksize, maxchunks, skip_bad_files, dashboard)  # fmt: skip
    for path in write_outputs(result, output, skipped):
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
    named = _named_models(models)
    result, skipped = _run(lambda: NtupleProcessor(features, named, str(output), fmt), fileset,
                           executor, scheduler, workers, chunksize, maxchunks,
                           skip_bad_files, dashboard)  # fmt: skip
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
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True)
def bumphunt_command(histograms, cuts, datasets, luminosity, mjj_min, widths, spurious_dataset,
                     toys, output) -> None:  # fmt: skip
    """Fit the m_jj background and scan for bumps, before and after each anomaly cut."""
    import json

    from jetad.analysis import load_output
    from jetad.bumphunt import bump_hunt, mjj_spectra, spurious_signal
    from jetad.plotting import plot_bumphunt, plot_spurious_signal

    try:
        output_histograms = load_output(histograms)
        spectrum_of = mjj_spectra(output_histograms, histograms, datasets, cuts, luminosity)
        spurious_of = (mjj_spectra(output_histograms, histograms, (spurious_dataset,), (), None)
                       if spurious_dataset else None)  # fmt: skip
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    _writable(output)
    label = " + ".join(spectrum_of.datasets)
    if len(spectrum_of.datasets) > 1:
        console.print(f"[yellow]summing datasets {label} into one spectrum")
    results = {"datasets": list(spectrum_of.datasets), "luminosity_pb": luminosity, "hunts": {}}
    fit_ranges = {}
    for model in spectrum_of.models:
        for cut in ("none", *cuts):
            spectrum, reason = spectrum_of.fit_range(model, cut, mjj_min, max(widths))
            if spectrum is None:
                console.print(f"[yellow]{model}/{cut}: {reason}, skipped")
                results["hunts"].setdefault(model, {})[cut] = {"skipped": reason}
                continue
            fit_ranges.setdefault("none", (spectrum.edges[0], spectrum.edges[-1]))
            result = bump_hunt(spectrum, widths=widths, n_toys=toys)
            results["hunts"].setdefault(model, {})[cut] = result.to_dict()
            plot_bumphunt(
                spectrum,
                result,
                output / f"bumphunt_{model}_{cut}.png",
                title=f"{model}, cut {cut}",
                label=label,
                luminosity_fb=None if spectrum.unit_weight else luminosity / 1000,
            )
            low, high = result.window
            console.print(
                f"{model}/{cut}: window {low:.0f}-{high:.0f} GeV "
                f"({result.width_bins} bins), local Z {result.local_significance:.2f}, "
                f"global Z {result.global_significance:.2f}, fit p-value "
                f"{result.gof_p_value:.2f} ({len(result.fit.parameters)} parameters)"
            )
    if spurious_of is not None and "none" in fit_ranges:
        spectrum = spurious_of.between(spurious_of.models[0], "none", *fit_ranges["none"])
        spurious = spurious_signal(spectrum)
        results["spurious_signal"] = {"dataset": spurious_dataset, **spurious.to_dict()}
        plot_spurious_signal(spurious, output / f"spurious_signal_{spurious_dataset}.png",
                             label=spurious_dataset)  # fmt: skip
        console.print(
            f"spurious signal on {spurious_dataset}: largest |S|/σ_S "
            f"{spurious.max_abs_ratio:.2f} over {len(spurious.masses)} masses"
        )
    (output / "bumphunt.json").write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    console.print(f"wrote {output / 'bumphunt.json'}")


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
    from jetad.datasets import load_fileset
    from jetad.pseudodata import inject_signal

    _writable(output.parent)
    try:
        summary = inject_signal(background, signal, s_over_b, output, seed=seed)
        if fileset is not None:
            entries = load_fileset(fileset) if fileset.exists() else {}
            entries[dataset] = {
                "files": {summary.output: "Events"},
                "metadata": summary.metadata(),
            }
            write_fileset(entries, fileset)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    console.print(
        f"wrote {summary.output}: {summary.n_background} background + {summary.n_signal} "
        f"signal events (S/B = {s_over_b})"
    )


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
    for path in run_demo(click.get_current_context(), output, events, seed, jobs, s_over_b,
                         toys, epochs):  # fmt: skip
        console.print(f"[bold green]report: {path}")


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
