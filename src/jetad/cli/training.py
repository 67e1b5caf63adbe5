"""``jetad train``, ``evaluate``, ``decorrelate``, ``export-onnx``, ``weak`` and
``characterise``: models in and out, over :mod:`jetad.workflow`."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from jetad.cli._common import _progress, _writable, console, main, one_line_errors, report


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
    help="[default: 1000 for vae and ae (the paper), 256 for the others]",
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
@click.option(
    "--compile", "torch_compile", is_flag=True,
    help="Train the stacked ensemble's steps through torch.compile: about 1.3x faster per "
    "step on 2 cores after about 20 s of compiling (needs a C++ compiler; without one a "
    "warning says so and training goes on as without it). For the stacked ensembles: AE, "
    "VAE, cvae without outlier exposure.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars: one line per member.")
def train_command(model, features, background, output, epochs, outliers, oe, oe_reweight,
                  hidden, activation, beta, ensemble, seed, latent, preprocessing, device,
                  learning_rate, batch_size, clip_grad_norm, on_divergence, torch_compile,
                  quiet) -> None:  # fmt: skip
    """Train an anomaly model on background feature rows and export it as TorchScript.

    Every member is checked after every epoch; a diverged member is reported, retried or left
    out (``--on-divergence``). When no member is healthy, or the working points are not
    finite and ordered, nothing is written and the command exits with status 1.
    """
    from jetad.models import TrainConfig, TrainingDiverged
    from jetad.workflow import train_from_files

    _writable(output.parent)
    with one_line_errors():
        if bool(outliers) != bool(oe):
            raise ValueError("--outliers and --oe go together")
        if oe_reweight and not oe:
            raise ValueError("--oe-reweight needs --oe and --outliers")
        try:
            layers = tuple(int(n) for n in hidden.split(",")) if hidden else None
        except ValueError:
            raise ValueError(
                f"--hidden takes comma-separated layer sizes, got {hidden!r}"
            ) from None
        overrides = {"latent": latent, "epochs": epochs, "preprocessing": preprocessing,
                     "oe": oe, "oe_reweight": oe_reweight, "hidden": layers,
                     "activation": activation, "beta": beta, "learning_rate": learning_rate,
                     "batch_size": batch_size, "clip_grad_norm": clip_grad_norm}  # fmt: skip
        config = TrainConfig.for_model(
            model, ensemble=ensemble, seed=seed, on_divergence=on_divergence,
            torch_compile=torch_compile, **{k: v for k, v in overrides.items() if v is not None},
        )  # fmt: skip
    bar = None if quiet else _progress()
    progress = None if bar is None else _member_progress(bar, config.epochs)
    try:
        with nullcontext() if bar is None else bar:
            trained = train_from_files(config, features, background, output, outliers, device,
                                       progress=progress, report=report)  # fmt: skip
    except (TrainingDiverged, ValueError) as err:
        raise click.ClickException(str(err)) from None
    for line in trained.reports:
        console.print(line.line())
    console.print(f"model: {output}  chosen epochs: {trained.chosen_epochs}")


def _member_progress(bar, epochs: int):
    """A ``progress(member, epoch, metrics)`` callback: one bar per member and attempt."""
    tasks: dict[int, int] = {}

    def progress(member, epoch, metrics):
        shown = ", ".join(
            f"{k.removeprefix('val_')} {v:.4g}" for k, v in metrics.items() if k.startswith("val_")
        )
        status = metrics["status"]
        colour = "red" if status.startswith("diverged") else "default"
        retry = f" retry {metrics['attempt']}" if metrics["attempt"] else ""
        if member not in tasks or (epoch == 0 and metrics["attempt"]):
            tasks[member] = bar.add_task("", total=epochs)
        bar.update(
            tasks[member],
            completed=epoch + 1,
            description=f"member {member}{retry}: {shown} [{colour}]{status}[/]",
        )

    return progress


@main.command("decorrelate")
@click.argument("model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--background", multiple=True, required=True, type=click.Path(path_type=Path),
              help="QCD files to fit the thresholds on (repeatable).")  # fmt: skip
@click.option("--degree", type=click.IntRange(0, 5), default=2, show_default=True,
              help="Polynomial degree in ln m_jj.")  # fmt: skip
@click.option("--knots", type=click.IntRange(0, 20), default=None,
              help="A spline of --degree with this many knots at m_jj quantiles: the threshold "
                   "bends locally where a polynomial would leave a bump in the kept spectrum "
                   "(0: the polynomial) [default: as many as the sample affords, at most 8, "
                   "each piece keeping 100 events].")
def decorrelate_command(model_path, background, degree, knots) -> None:
    """Working points that follow m_jj (quantile regression on background after the
    selection), stored with MODEL_PATH: the dijet processor then also cuts eff10_mjj, eff1_mjj
    and eff0p1_mjj, which keep the QCD m_jj shape."""
    from jetad.decorrelation import calibrate

    try:
        report = calibrate(model_path, background, degree, knots)
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
              help="Classifier epochs.")
@click.option("--best-epochs", type=click.IntRange(min=1), default=10, show_default=True,
              help="The classifier is the mean logit of its states at this many epochs of "
                   "smallest validation loss (CATHODE's ensemble).")
@click.option("--seeds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Classifiers per fold, their logits averaged (steadies the classifier "
                   "where the signal region holds few signal events).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="Model.")
def weak_command(
    method, data, mass, half_width, folds, epochs, best_epochs, seeds, seed, output
) -> None:
    """Weakly supervised classifier for one signal region of m_jj (CATHODE or CWoLa hunting,
    jetad.weak_supervision) on the lhco features of the selected events, exported like every
    model; then `jetad decorrelate OUTPUT --background DATA` and `jetad run dijet`. The model
    is the folds' mean: apply it to data it was not trained on (on its own training events 4 of
    5 members have seen each signal-region event)."""
    from jetad.weak_supervision import ClassifierConfig, FlowConfig, SignalRegion, train_on_files

    _writable(output.parent)
    try:
        region = SignalRegion(mass, half_width=half_width, sideband=2 * half_width)
        config = ClassifierConfig(folds=folds, epochs=epochs, best_epochs=best_epochs,
                                  seeds=seeds, seed=seed)  # fmt: skip
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
    from jetad.workflow import evaluate_model

    _writable(output)
    with one_line_errors():
        results = evaluate_model(model_path, background, signal, output)
    rows = results.pop("rows")
    table = Table(title=f"{model_path.name}: {rows['background']} background, "
                        f"{rows['signal']} signal rows")  # fmt: skip
    for column in ("score", "AUC", "SIC max", "1/eps_B at eps_S=0.5"):
        table.add_column(column)
    for name, fom in results.items():
        table.add_row(name, f"{fom['auc']:.3f}", f"{fom['sic_max']:.2f}",
                      f"{fom['inverse_eff_b_at_eff_s_0p5']:.1f}")  # fmt: skip
    Console().print(table)
