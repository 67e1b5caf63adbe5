"""The workflow layer: each step of a search as one plain function, files in and files out.

The command line (:mod:`jetad.cli`), the demo (:mod:`jetad.demo`), the notebooks and users'
scripts all call these; the CLI only parses arguments and prints. Errors are one-line
``ValueError``s naming the file, option or feature. Results are reported as lines through
``report`` (the ``jetad`` logger's INFO by default; the CLI prints them), and training's
epochs through ``progress``.

========================  =====================================================================
step                      function
========================  =====================================================================
pseudo-data               :func:`inject` (every background event plus S/B × N_b signal events)
training                  :func:`train_from_files` (feature rows → models → ``MODEL.pt``)
evaluation                :func:`evaluate_model` (AUC, SIC, ROC plots on labelled files)
analysis                  :func:`run_analysis` (a registered processor over a fileset)
bump hunt                 :func:`hunt_bumps` (m_jj fits before and after each cut)
========================  =====================================================================

Example::

    from jetad import workflow
    from jetad.models import TrainConfig
    config = TrainConfig.for_model("vae", ensemble=5)
    workflow.train_from_files(config, "lhco", ["qcd.root"], "vae.pt")
    workflow.run_analysis("dijet", "fileset.json", {"vae": "vae.pt"}, "out")
    workflow.hunt_bumps("out/histograms.coffea", "out", datasets=("data",), cuts=("eff1",))
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

__all__ = [
    "evaluate_model",
    "hunt_bumps",
    "inject",
    "run_analysis",
    "train_from_files",
    "write_model",
]

log = logging.getLogger("jetad")
Report = Callable[[str], None]


def inject(background, signal, s_over_b: float, output, seed: int = 1,
           fileset: Path | None = None, dataset: str = "pseudodata",
           report: Report = log.info):  # fmt: skip
    """Pseudo-data: every ``background`` event plus S/B × N_b ``signal`` events, shuffled,
    unweighted, with the truth label kept; added to ``fileset`` (created if absent) as
    ``dataset`` when given. Returns the :class:`jetad.pseudodata.InjectionSummary`."""
    from jetad.datasets import load_fileset, write_fileset
    from jetad.pseudodata import inject_signal

    summary = inject_signal(background, signal, s_over_b, output, seed=seed)
    if fileset is not None:
        fileset = Path(fileset)
        entries = load_fileset(fileset) if fileset.exists() else {}
        entries[dataset] = {"files": {summary.output: "Events"}, "metadata": summary.metadata()}
        write_fileset(entries, fileset)
    report(f"wrote {summary.output}: {summary.n_background} background + {summary.n_signal} "
           f"signal events (S/B = {s_over_b})")
    return summary


def train_from_files(
    config,
    features: str,
    background: Sequence,
    output,
    outliers: Sequence = (),
    device: str = "cpu",
    progress: Callable | None = None,
    report: Report = log.info,
):
    """Train a model on the ``features`` rows of the ``background`` files and write it.

    Args:
        config: the :class:`jetad.models.TrainConfig`, e.g.
            ``TrainConfig.for_model("vae", ensemble=5)``; with ``config.oe`` the cvae is
            exposed to the ``outliers`` files, with ``config.oe_reweight == "mass"`` weighted
            to the background's jet mass (:func:`jetad.decorrelation.mass_weights`).
        features: a registered feature set; event-level sets keep the events their selection
            keeps (the processor's), so the working points mean what they say after it.
        output: ``MODEL.pt``; ``MODEL.json``, ``MODEL.history.json`` and
            ``MODEL.training.png`` are written beside it (:func:`write_model`).
        progress: ``progress(member, epoch, metrics)`` after every epoch of every member.

    Returns:
        The :class:`jetad.models.TrainedModel`.

    Raises:
        ValueError: bad options or inputs, in one line.
        jetad.models.TrainingDiverged: no member is healthy; nothing is written.
    """
    from jetad.datasets import feature_rows
    from jetad.decorrelation import mass_weights
    from jetad.features import get_feature_set
    from jetad.models import train

    if bool(outliers) != (config.oe is not None):
        raise ValueError("outlier exposure needs both an OE loss (oe) and outlier files")
    feature_set = get_feature_set(features)
    also = ("jet_mass",) if config.oe_reweight else ()
    x, summary = feature_rows(feature_set, background, also=also)
    outlier_rows = feature_rows(feature_set, outliers, also=also)[0] if outliers else None
    outlier_weights = None
    if config.oe_reweight:  # the mass is the last column: a weight, not a model input
        outlier_weights = mass_weights(outlier_rows[:, -1], x[:, -1])
        x, outlier_rows = x[:, :-1], outlier_rows[:, :-1]
    report(f"{summary['rows']} training rows of {features} "
           f"({summary['dropped_nonfinite']} with non-finite features dropped)")  # fmt: skip
    trained = train(x, config, progress=progress, device=device, outliers=outlier_rows,
                    features=feature_set.names, outlier_weights=outlier_weights)  # fmt: skip
    write_model(trained, Path(output), feature_set, summary)
    return trained


def write_model(trained, output: Path, feature_set, summary: dict) -> tuple[Path, ...]:
    """The model (with its metadata), its history (with the rule that chose each epoch) and
    its training plot."""
    from jetad.models import export
    from jetad.plotting import plot_training

    path = export(trained, output, feature_set.name, feature_set.names, extra={"data": summary})
    history_path = output.with_suffix(".history.json")
    history = {
        "histories": trained.histories,
        "chosen_epochs": trained.chosen_epochs,
        "epoch_rules": trained.rules,
        "members": [asdict(report) for report in trained.reports],
    }
    history_path.write_text(json.dumps(history, indent=1))
    plot_path = output.with_suffix(".training.png")
    plot_training(trained.histories, trained.chosen_epochs, plot_path)
    return path, history_path, plot_path


def evaluate_model(model_path, background: Sequence, signal: Sequence, output) -> dict:
    """AUC, SIC_max and 1/ε_B at ε_S = 0.5 of every score head of ``model_path`` on the
    background and signal files, written to ``OUTPUT/metrics.json`` with ROC, SIC and score
    plots. Returns ``{score: figures}`` and the row counts under ``"rows"``."""
    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set
    from jetad.models import figures_of_merit, load_metadata, score_matrix
    from jetad.plotting import plot_performance

    output = Path(output)
    metadata = load_metadata(model_path)
    feature_set = get_feature_set(metadata["feature_set"])
    x_b, _ = feature_rows(feature_set, background)
    x_s, _ = feature_rows(feature_set, signal)
    s_b, s_s = score_matrix(model_path, x_b), score_matrix(model_path, x_s)
    scores = {name: (s_b[:, i], s_s[:, i]) for i, name in enumerate(metadata["scores"])}
    results = {name: figures_of_merit(b, s) for name, (b, s) in scores.items()}
    output.mkdir(parents=True, exist_ok=True)
    (output / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    plot_performance(scores, output)
    return {**results, "rows": {"background": len(x_b), "signal": len(x_s)}}


def run_analysis(
    analysis: str,
    fileset,
    models: Mapping[str, str],
    output,
    executor: str = "dask",
    scheduler: str | None = None,
    workers: int = 2,
    chunksize: int = 100_000,
    maxchunks: int | None = None,
    skip_bad_files: bool = False,
    dashboard: str | None = None,
    status: bool = True,
    report: Report = log.info,
    **options,
) -> tuple[list[Path], list[str]]:
    """Run the registered ``analysis`` (:data:`jetad.processors.ANALYSES`) over ``fileset``
    (a JSON file or coffea's dict) with ``{name: MODEL.pt}`` and write histograms, cutflow and
    plots to ``output``.

    ``executor`` is ``iterative``, ``futures``, ``dask`` (an embedded LocalCluster of
    ``workers`` processes, or the cluster at ``scheduler``) or ``dask-awkward`` (coffea's
    ``apply_to_fileset``, for analyses that support it). ``options`` go to the processor
    (e.g. ``jets="recluster"`` for ``dijet``).

    Returns:
        The paths written and the files skipped as unreadable (``skip_bad_files``).
    """
    from jetad.analysis import run_dask_awkward, run_processor, skipped_files, write_outputs
    from jetad.datasets import load_fileset
    from jetad.processors import get_analysis
    from jetad.weak_supervision import check_out_of_sample

    chosen = get_analysis(analysis)
    chosen.check_executor(executor, **options)
    files = fileset if isinstance(fileset, Mapping) else load_fileset(fileset)
    check_out_of_sample(models, files)
    instance = chosen.build(models, **options)
    if executor == "dask-awkward":
        result = run_dask_awkward(instance, files, chunksize=chunksize,
                                  skip_bad_files=skip_bad_files, scheduler=scheduler,
                                  workers=workers, dashboard=dashboard)  # fmt: skip
    else:
        result = run_processor(instance, files, executor=executor, workers=workers,
                               chunksize=chunksize, maxchunks=maxchunks,
                               skip_bad_files=skip_bad_files, scheduler=scheduler,
                               dashboard=dashboard, status=status)  # fmt: skip
    skipped = skipped_files(result, files)
    for path in skipped:
        report(f"skipped unreadable file {path}")
    return write_outputs(result, Path(output), skipped), skipped


def _pass_fraction(spectra, model: str, cut: str, widths, toys: int, report: Report,
                   output: Path, label: str) -> dict:  # fmt: skip
    """The pass-fraction hunt of ``cut`` (:func:`jetad.bumphunt.pass_fraction_hunt`) as a
    JSON-ready dict, or ``{"skipped": reason}`` for weighted spectra or too few bins. Only the
    cuts that follow m_jj (``eff1_mjj``…) are hunted this way: a fixed cut's QCD fraction
    bends more than the hunt's smooth fraction can follow (on 106k generated QCD events alone
    the VAE's fixed cuts gave 4.2σ local, 2.6σ global; ``python bench/search.py
    --background-only``). Even after those the hunt is experimental: thresholds fitted on a QCD
    simulation no larger than the data, or as a quadratic that misses the turn-on, leave
    structure in the fraction that it reads as excesses (2.1–2.6σ global on QCD alone)."""
    from jetad.bumphunt import pass_fraction_hunt
    from jetad.plotting import plot_pass_fraction

    passed, failed = spectra.passed_and_failed(model, cut)
    try:
        result = pass_fraction_hunt(passed, failed, widths=widths, n_toys=toys)
    except ValueError as err:
        report(f"{model}/{cut}: no pass-fraction hunt ({err})")
        return {"skipped": str(err)}
    plot_pass_fraction(passed, failed, result, output / f"pass_fraction_{model}_{cut}.png",
                       title=f"{model}, cut {cut}", label=label)  # fmt: skip
    low, high = result.window
    report(f"{model}/{cut}: pass fraction: window {low:.0f}-{high:.0f} GeV, local Z "
           f"{result.local_significance:.2f}, global Z {result.global_significance:.2f}")
    return result.to_dict()


def hunt_bumps(
    histograms,
    output,
    cuts: Sequence[str] = ("eff1",),
    datasets: Sequence[str] = (),
    luminosity: float = 1.0,
    mjj_min: float | None = None,
    widths: Sequence[int] | None = None,
    spurious_dataset: str | None = None,
    toys: int = 200,
    report: Report = log.info,
    pass_fraction: bool = False,
) -> dict:
    """Fit the m_jj background of a run's ``histograms.coffea`` and scan for bumps, before
    and after each of ``cuts``, for every model; plots and ``bumphunt.json`` into ``output``.
    With ``pass_fraction``, after each m_jj-following cut of unit-weight data the fraction the
    cut keeps is hunted too (:func:`jetad.bumphunt.pass_fraction_hunt`, under
    ``"pass_fraction"``; experimental, see :func:`_pass_fraction`).

    Args:
        datasets: summed into the spectrum; required when the file holds more than one, so
            that signal simulation is never summed into data unasked.
        luminosity: pb⁻¹ scaling simulation weighted to 1 pb⁻¹ (refused for unit-weight
            data); significances do not depend on it.
        mjj_min: the lower end of the fit range (GeV); one bin above the peak by default.
        widths: window widths in bins (:data:`jetad.bumphunt.WIDTHS` by default).
        spurious_dataset: a background-only dataset for the spurious-signal test.

    Returns:
        The content of ``bumphunt.json``.
    """
    from jetad.analysis import load_output
    from jetad.bumphunt import WIDTHS, bump_hunt, mjj_spectra, spurious_signal
    from jetad.plotting import plot_bumphunt, plot_spurious_signal

    widths = tuple(widths or WIDTHS)
    output = Path(output)
    stored = load_output(histograms)
    spectrum_of = mjj_spectra(stored, histograms, datasets, cuts, luminosity)
    spurious_of = (mjj_spectra(stored, histograms, (spurious_dataset,), (), None)
                   if spurious_dataset else None)  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    label = " + ".join(spectrum_of.datasets)
    if len(spectrum_of.datasets) > 1:
        report(f"summing datasets {label} into one spectrum")
    results = {"datasets": list(spectrum_of.datasets), "luminosity_pb": luminosity, "hunts": {}}
    fit_ranges = {}
    for model in spectrum_of.models:
        for cut in ("none", *cuts):
            hunts = results["hunts"].setdefault(model, {})
            # a flat QCD fraction by construction (see _pass_fraction); it needs no fit range
            fraction = (_pass_fraction(spectrum_of, model, cut, widths, toys, report, output,
                                       label)
                        if pass_fraction and cut.endswith("_mjj") else None)  # fmt: skip
            spectrum, reason = spectrum_of.fit_range(model, cut, mjj_min, max(widths))
            if spectrum is None:
                report(f"{model}/{cut}: {reason}, skipped")
                hunts[cut] = {"skipped": reason}
                if fraction is not None:
                    hunts[cut]["pass_fraction"] = fraction
                continue
            fit_ranges.setdefault("none", (spectrum.edges[0], spectrum.edges[-1]))
            result = bump_hunt(spectrum, widths=widths, n_toys=toys)
            hunts[cut] = result.to_dict()
            luminosity_fb = None if spectrum.unit_weight else luminosity / 1000
            plot_bumphunt(spectrum, result, output / f"bumphunt_{model}_{cut}.png",
                          title=f"{model}, cut {cut}", label=label,
                          luminosity_fb=luminosity_fb)  # fmt: skip
            low, high = result.window
            report(f"{model}/{cut}: window {low:.0f}-{high:.0f} GeV "
                   f"({result.width_bins} bins), local Z {result.local_significance:.2f}, "
                   f"global Z {result.global_significance:.2f}, fit p-value "
                   f"{result.gof_p_value:.2f} ({len(result.fit.parameters)} parameters)")
            if fraction is not None:
                hunts[cut]["pass_fraction"] = fraction
    if spurious_of is not None and "none" in fit_ranges:
        spectrum = spurious_of.between(spurious_of.models[0], "none", *fit_ranges["none"])
        spurious = spurious_signal(spectrum)
        results["spurious_signal"] = {"dataset": spurious_dataset, **spurious.to_dict()}
        plot_spurious_signal(spurious, output / f"spurious_signal_{spurious_dataset}.png",
                             label=spurious_dataset)  # fmt: skip
        report(f"spurious signal on {spurious_dataset}: largest |S|/σ_S "
               f"{spurious.max_abs_ratio:.2f} over {len(spurious.masses)} masses")
    path = output / "bumphunt.json"
    path.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n")
    report(f"wrote {path}")
    return results
