"""Plots of training curves and of anomaly-score performance (matplotlib, mplhep style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402
import numpy as np  # noqa: E402

from jetad.models.metrics import roc_curve  # noqa: E402

__all__ = [
    "plot_bumphunt",
    "plot_characterisation",
    "plot_observable",
    "plot_performance",
    "plot_sculpting",
    "plot_spurious_signal",
    "plot_training",
]

plt.style.use(mplhep.style.CMS)

#: The sculpting plot draws a cut's shape only above this many effective events.
MIN_SHAPE_EVENTS = 50


def plot_training(
    histories: list[dict], chosen: list[int], path: Path, keys=("val_loss", "val_kl", "val_emd")
):
    """Validation curves of every ensemble member, the chosen epoch marked."""
    keys = [k for k in keys if k in histories[0]]
    fig, axes = plt.subplots(1, len(keys), figsize=(7 * len(keys), 6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for member, (history, epoch) in enumerate(zip(histories, chosen, strict=True)):
            (line,) = ax.plot(history[key], label=f"member {member}")
            ax.axvline(epoch, color=line.get_color(), linestyle=":")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_performance(scores: dict[str, tuple[np.ndarray, np.ndarray]], outdir: Path) -> list[Path]:
    """ROC (ε_B⁻¹ against ε_S, with the random classifier's 1/ε_B = 1/ε_S), SIC (with the
    random √ε_S) and the normalised score distributions of every score head."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig_roc, ax_roc = plt.subplots(figsize=(8, 7))
    fig_sic, ax_sic = plt.subplots(figsize=(8, 7))
    for name, (background, signal) in scores.items():
        eff_b, eff_s = roc_curve(background, signal)
        keep = eff_b > 0
        ax_roc.plot(eff_s[keep], 1 / eff_b[keep], label=name)
        ax_sic.plot(eff_s[keep], eff_s[keep] / np.sqrt(eff_b[keep]), label=name)
        fig, ax = plt.subplots(figsize=(8, 7))
        edges = np.histogram_bin_edges(np.concatenate([background, signal]), bins=40)
        ax.hist(background, bins=edges, histtype="step", density=True, linewidth=2,
                label=f"background ({len(background):,} events)")  # fmt: skip
        ax.hist(signal, bins=edges, histtype="step", density=True, linewidth=2,
                label=f"signal ({len(signal):,} events)")  # fmt: skip
        ax.set(xlabel=f"anomaly score ({name})", ylabel="normalised density", yscale="log")
        ax.legend(fontsize="small", loc="upper right")
        _neutral_label(ax, None, simulation=True)
        paths.append(outdir / f"score_{name}.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    random = np.logspace(-4, 0, 200)
    ax_roc.plot(random, 1 / random, color="grey", linestyle=":", label="random")
    ax_roc.set(xlabel=r"signal efficiency $\epsilon_S$", ylabel=r"$1/\epsilon_B$",
               yscale="log", xlim=(0, 1), ylim=(1, None))  # fmt: skip
    ax_sic.plot(random, np.sqrt(random), color="grey", linestyle=":", label="random")
    ax_sic.set(xlabel=r"signal efficiency $\epsilon_S$",
               ylabel=r"SIC = $\epsilon_S/\sqrt{\epsilon_B}$", xlim=(0, 1), ylim=(0, None))
    ax_sic.set_ylim(top=1.35 * ax_sic.get_ylim()[1])  # room for the legend above the curves
    for fig, ax, name in ((fig_roc, ax_roc, "roc.png"), (fig_sic, ax_sic, "sic.png")):
        ax.legend(fontsize="small", loc="upper right", ncol=2 if name == "sic.png" else 1)
        _neutral_label(ax, None, simulation=True)
        paths.append(outdir / name)
        fig.savefig(paths[-1])
        plt.close(fig)
    return paths


#: Colours of the cuts, ``none`` first (black), then a fixed cycle: the same cut has the same
#: colour in every panel and figure.
CUT_COLOURS = ("black", "tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple",
               "tab:brown", "tab:pink", "tab:olive", "tab:cyan")  # fmt: skip


def _per_unit(axis) -> tuple[np.ndarray, str]:
    """Bin widths and the y label's unit: events per GeV for a mass in GeV (variable bins),
    per bin otherwise."""
    label = axis.label or axis.name
    if "GeV" in label:
        return np.diff(axis.edges), "/ GeV"
    return np.ones(len(axis.edges) - 1), "/ bin"


def _panels(n: int, ratio: bool, columns: int = 3):
    """A figure of ``n`` panels in up to ``columns`` columns; with ``ratio`` each panel has a
    ratio axis below it. Returns the figure and ``[(top, bottom or None)]``."""
    columns = min(columns, n)
    rows = -(-n // columns)
    heights = [3, 1] * rows if ratio else [1] * rows
    fig = plt.figure(figsize=(8 * columns, (8 if ratio else 6.5) * rows))
    grid = fig.add_gridspec(len(heights), columns, height_ratios=heights, hspace=0.08,
                            wspace=0.3)
    panels = []
    for k in range(n):
        row, column = divmod(k, columns)
        if ratio:
            top = fig.add_subplot(grid[2 * row, column])
            bottom = fig.add_subplot(grid[2 * row + 1, column], sharex=top)
            top.tick_params(labelbottom=False)
            panels.append((top, bottom))
        else:
            panels.append((fig.add_subplot(grid[row, column]), None))
    return fig, panels


def plot_observable(h, outdir: Path, name: str) -> list[Path]:
    """A histogram with ``dataset``, ``model`` (and ``cut``) axes and one observable axis, last;
    one figure per model, ``NAME_MODEL.png``:

    - with a ``cut`` axis, one panel per dataset: the weighted spectrum (events per GeV for
      masses) without and after each cut, and below it the fraction of events each cut keeps
      in every bin; empty bins are left blank;
    - without (score histograms), the datasets' normalised distributions in one panel.
    """
    from jetad.histograms import nominal

    h = nominal(h)
    paths, observable = [], h.axes[-1]
    widths, unit = _per_unit(observable)
    xlabel = observable.label or observable.name
    for model in h.axes["model"]:
        one = h[{"model": model}]
        datasets = [d for d in h.axes["dataset"] if one[{"dataset": d}].values().sum() != 0]
        if not datasets:
            continue
        if "cut" not in h.axes.name:
            fig, ax = plt.subplots(figsize=(9, 7))
            for colour, dataset in zip(CUT_COLOURS, datasets, strict=False):
                values = one[{"dataset": dataset}].values()
                shape = np.where(values > 0, values / values.sum(), np.nan)
                mplhep.histplot(shape, observable.edges, ax=ax, color=colour, label=dataset)
            ax.set(xlabel=f"anomaly score ({xlabel})" if observable.name == "score" else xlabel,
                   ylabel="fraction of events / bin", yscale="log")  # fmt: skip
            ax.legend(fontsize="small", loc="upper right")
            mplhep.label.exp_label(exp="jetad", loc=0, data=True, ax=ax, rlabel="(13 TeV)")
        else:
            cuts_filled = [c for c in h.axes["cut"] if one[{"cut": c}].values().sum() != 0]
            fig, panels = _panels(len(datasets), ratio=cuts_filled != ["none"])
            legend = {}  # cut → handle: one legend above the panels, the colours are shared
            for (top, bottom), dataset in zip(panels, datasets, strict=True):
                spectra = one[{"dataset": dataset}]
                before = spectra[{"cut": "none"}].values()
                shown = []
                for colour, cut in zip(CUT_COLOURS, h.axes["cut"], strict=False):
                    after = spectra[{"cut": cut}]
                    values, variances = after.values(), after.variances()
                    if values.sum() == 0:
                        continue
                    filled = values > 0
                    density = np.where(filled, values / widths, np.nan)
                    errors = np.where(filled, np.sqrt(variances) / widths, 0.0)
                    (artist,) = mplhep.histplot(density, observable.edges, yerr=errors, ax=top,
                                                color=colour, label=cut)  # fmt: skip
                    legend.setdefault(cut, artist)
                    shown.append(density[filled])
                    if cut != "none" and bottom is not None:
                        with np.errstate(divide="ignore", invalid="ignore"):
                            kept = np.where(before > 0, values / before, np.nan)
                        mplhep.histplot(np.where(filled, kept, np.nan), observable.edges,
                                        ax=bottom, color=colour)  # fmt: skip
                low = min(v.min() for v in shown)
                high = max(v.max() for v in shown)
                occupied = np.nonzero(before)[0]
                if len(occupied):
                    top.set_xlim(observable.edges[occupied[0]], observable.edges[occupied[-1] + 1])
                top.set(yscale="log", ylabel=f"weighted events {unit}",
                        ylim=(0.3 * low, high * 10 ** (0.1 * np.log10(high / low) + 0.3)))
                mplhep.label.exp_label(exp="jetad", loc=0, data=True, ax=top,
                                       rlabel=f"{dataset} (13 TeV)")  # fmt: skip
                if bottom is None:
                    top.set_xlabel(xlabel)
                    continue
                bottom.set(yscale="log", ylim=(5e-5, 2), xlabel=xlabel, ylabel="kept fraction")
                bottom.axhline(1, color="black", linewidth=0.8)
            fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend),
                       bbox_to_anchor=(0.5, 1.0), title="cut", fontsize="small",
                       title_fontsize="small", frameon=False)  # fmt: skip
        paths.append(outdir / f"{name}_{model}.png")
        fig.savefig(paths[-1], bbox_inches="tight")
        plt.close(fig)
    return paths


def plot_sculpting(h, outdir: Path, name: str) -> list[Path]:
    """For a mass histogram with a ``cut`` axis: one figure per model, one column per dataset,
    the normalised spectrum before and after each cut (events per GeV, unit area) and their
    ratio, each cut's kept fraction and Jensen–Shannon divergence in the legend, as
    ``NAME_sculpting_MODEL.png``. A cut that does not sculpt stays flat at 1; cuts that keep
    fewer than ``MIN_SHAPE_EVENTS`` effective events are left out (sculpting.json has them)."""
    from jetad.histograms import nominal, sculpting

    h = nominal(h)
    paths, mass = [], h.axes[-1]
    widths = np.diff(mass.edges)
    for model in h.axes["model"]:
        filled = {d: h[{"dataset": d, "model": model, "cut": "none"}].values().sum() > 0
                  for d in h.axes["dataset"]}  # fmt: skip
        datasets = [d for d, has_events in filled.items() if has_events]
        if not datasets:
            continue
        fig, axes = plt.subplots(2, len(datasets), figsize=(7 * len(datasets), 8), sharex=True,
                                 squeeze=False, gridspec_kw={"height_ratios": [3, 1]})  # fmt: skip
        for column, dataset in enumerate(datasets):
            top, bottom = axes[0][column], axes[1][column]
            one = h[{"dataset": dataset, "model": model}]
            before = one[{"cut": "none"}].values()
            shape_before = before / before.sum() / widths
            measures = sculpting(h, dataset, model)
            mplhep.histplot(shape_before, mass.edges, ax=top, color="black", label="no cut")
            peak = shape_before.max()  # the highest of every plotted shape
            for colour, cut in zip(CUT_COLOURS, h.axes["cut"], strict=False):  # as in NAME_MODEL
                after, variances = one[{"cut": cut}].values(), one[{"cut": cut}].variances()
                effective = after.sum() ** 2 / max(variances.sum(), 1e-300)
                if cut == "none" or effective < MIN_SHAPE_EVENTS:  # a shape of noise only
                    continue
                shape = after / after.sum() / widths
                peak = max(peak, shape.max())
                m = measures[cut]
                label = f"{cut}: kept {m['efficiency']:.1%}, JS = {m['js_divergence']:.3f}"
                mplhep.histplot(shape, mass.edges, ax=top, label=label, color=colour)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(shape_before > 0, shape / shape_before, np.nan)
                mplhep.histplot(ratio, mass.edges, ax=bottom, color=colour)
            filled = np.nonzero(before)[0]
            lowest = shape_before[before > 0].min()
            entries = len(top.get_legend_handles_labels()[1]) + 1  # and the title
            legend = min(0.08 * entries + 0.05, 0.75)  # the axis height the legend takes
            span = np.log10(2 * peak / lowest) / (1 - legend)  # decades, spectra below it
            top.set(yscale="log", ylabel="normalised events / GeV",
                    xlim=(mass.edges[filled[0]], mass.edges[filled[-1] + 1]),
                    ylim=(0.5 * lowest, 0.5 * lowest * 10**span))
            top.legend(fontsize="xx-small", loc="upper right", title=dataset,
                       title_fontsize="x-small")  # fmt: skip
            mplhep.label.exp_label(exp="jetad", loc=0, data=True, ax=top,
                                   rlabel="(13 TeV)")  # fmt: skip
            bottom.axhline(1, color="black", linewidth=0.8)
            bottom.set(ylim=(0, 3), ylabel="cut / no cut", xlabel=mass.label or mass.name)
        fig.tight_layout()
        paths.append(outdir / f"{name}_sculpting_{model}.png")
        fig.savefig(paths[-1], bbox_inches="tight")
        plt.close(fig)
    return paths


def _neutral_label(ax, luminosity: float | None, simulation: bool) -> None:
    """An experiment-neutral label with √s and, for data, the luminosity (fb⁻¹)."""
    mplhep.label.exp_label(exp="jetad", loc=0, data=not simulation, com=13, ax=ax,
                           lumi=None if luminosity is None else f"{luminosity:g}")  # fmt: skip


def plot_bumphunt(spectrum, result, path: Path, title: str = "", label: str = "pseudo-data",
                  luminosity_fb: float | None = None):  # fmt: skip
    """The m_jj spectrum (Garwood intervals, or Σw² for weighted MC) with the background fit
    and the pulls, and the local-significance scan of every window width."""
    from hist.intervals import poisson_interval

    edges, sumw = spectrum.edges, spectrum.sumw
    expected = np.asarray(result.signal_fit.expected)
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(10, 12), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.5]}
    )
    low, high = poisson_interval(sumw, spectrum.sumw2)
    yerr = np.nan_to_num(np.array([sumw - low, high - sumw]), nan=0.0)
    mplhep.histplot(sumw, edges, ax=top, histtype="errorbar", yerr=yerr, label=label,
                    color="black")  # fmt: skip
    n = len(result.signal_fit.parameters)
    mplhep.histplot(expected, edges, ax=top, color="tab:blue", edges=False,
                    label=f"{n}-parameter dijet fit (background part of S + B)")  # fmt: skip
    top.axvspan(*result.window, color="orange", alpha=0.3,
                label=f"best window ({result.width_bins} bins): local Z = "
                      f"{result.local_significance:.1f}, global Z = "
                      f"{result.global_significance:.1f}")  # fmt: skip
    positive = sumw[sumw > 0]
    top.set(yscale="log", ylabel="events / bin", xlim=(edges[0], edges[-1]),
            ylim=(0.3 * positive.min(), 300 * positive.max()))  # fmt: skip
    top.legend(fontsize="x-small", loc="upper right", title=title, title_fontsize="x-small")
    _neutral_label(top, luminosity_fb, simulation=not spectrum.unit_weight)
    sigma = np.where(sumw > expected, sumw - low, high - sumw)
    pulls = np.where(sigma > 0, (sumw - expected) / np.where(sigma > 0, sigma, 1), 0.0)
    middle.bar(edges[:-1], pulls, width=np.diff(edges), align="edge", color="grey")
    middle.axhline(0, color="black", linewidth=0.8)
    middle.set(ylabel="pull", ylim=(-4, 4))
    for window in result.windows:
        width = window.width_bins
        centres = 0.5 * (edges[: len(edges) - width] + edges[width:])
        bottom.plot(centres, window.scan, marker=".", label=f"{width}")
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set(xlabel=r"$m_{jj}$ [GeV]", ylabel=r"local $Z$")
    bottom.legend(fontsize="xx-small", ncol=len(result.windows), loc="lower left",
                  title="window width [bins]", title_fontsize="xx-small")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_spurious_signal(spurious, path: Path, label: str) -> Path:
    """Fitted signal over its error against the mass hypothesis on a background-only spectrum."""
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.axhspan(-0.5, 0.5, color="tab:green", alpha=0.2, label=r"$|S_{spur}| < 0.5\,\sigma_S$")
    ax.plot(spurious.masses, spurious.ratio, marker="o", color="black",
            label=f"{label}, {spurious.n_parameters}-parameter fit")  # fmt: skip
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(
        xlabel=r"signal mass $m_{jj}$ [GeV]",
        ylabel=r"fitted signal / its error",
        ylim=(min(-3, np.nanmin(spurious.ratio) - 0.5), max(3, np.nanmax(spurious.ratio) + 1)),
    )
    ax.legend(fontsize="small")
    _neutral_label(ax, None, simulation=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _density_levels(mjj, zbar, mjj_grid, z_grid, fractions=(0.95, 0.68), bins: int = 25):
    """A smoothed 2D histogram of (ln m_jj, z̄) — its bin centres and counts — and the levels
    that enclose ``fractions`` of the events (highest-density regions)."""
    from scipy.ndimage import gaussian_filter

    edges_m = np.linspace(np.log(mjj_grid[0]), np.log(mjj_grid[-1]), bins + 1)
    edges_z = np.linspace(z_grid[0], z_grid[-1], bins + 1)
    counts, _, _ = np.histogram2d(np.log(mjj), zbar, [edges_m, edges_z])
    counts = gaussian_filter(counts, 1.0)
    ordered = np.sort(counts.ravel())[::-1]
    cumulative = np.cumsum(ordered) / max(ordered.sum(), 1)
    levels = [ordered[min(np.searchsorted(cumulative, f), len(ordered) - 1)] for f in fractions]
    centres = (np.exp(0.5 * (edges_m[1:] + edges_m[:-1])), 0.5 * (edges_z[1:] + edges_z[:-1]))
    return centres, counts, sorted(set(levels))


def plot_characterisation(c, outdir: Path, title: str = "") -> list[Path]:
    """The latent characterisation (:mod:`jetad.characterisation`): one heat map per observable
    of the decoded value over (m_jj, z̄) with contour lines and the events' 68%/95% regions
    (background white, signal red where known); the slice profiles with the localisation
    marked; the pulls (median decoded − median input)/σ per observable."""
    outdir.mkdir(parents=True, exist_ok=True)
    n = len(c.names)
    columns = min(n, 3)
    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(7.5 * columns, 6 * rows), squeeze=False)
    known = c.events["signal"].any()  # pseudo-data with the truth marked, or data
    regions = {"background" if known else "all": ~c.events["signal"], "signal": c.events["signal"]}
    for j, ax in enumerate(axes.ravel()):
        if j >= n:
            ax.set_axis_off()
            continue
        mesh = ax.pcolormesh(c.mjj_grid / 1000, c.z_grid, c.decoded[j].T, shading="nearest",
                             cmap="viridis")  # fmt: skip
        lines = ax.contour(c.mjj_grid / 1000, c.z_grid, c.decoded[j].T, levels=6, colors="k",
                           linewidths=0.6, alpha=0.6)  # fmt: skip
        ax.clabel(lines, fontsize=9, fmt="%.3g")
        unit = f" [{c.units[j]}]" if c.units[j] else ""
        fig.colorbar(mesh, ax=ax).set_label(f"decoded {c.names[j]}{unit}")
        for (label, chosen), colour in zip(regions.items(), ("white", "red"), strict=True):
            if chosen.sum() < 20:
                continue
            (m, z), counts, levels = _density_levels(
                c.events["mjj"][chosen], c.events["zbar"][chosen], c.mjj_grid, c.z_grid
            )
            ax.contour(m / 1000, z, counts.T, levels=levels, colors=colour,
                       linestyles=["--", "-"][: len(levels)], linewidths=1.8)  # fmt: skip
            ax.plot([], [], color=colour, label=f"{label} events: 68% (solid), 95% (dashed)")
        ax.set_xlabel(r"$m_{jj}$ [TeV]")
        ax.set_ylabel(r"latent mean $\bar{z}$")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=16, facecolor="lightgrey",
               frameon=True)  # fmt: skip
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    heat = outdir / "latent_heatmaps.png"
    fig.savefig(heat)
    plt.close(fig)

    fig, (left, right) = plt.subplots(1, 2, figsize=(16, 6.5))
    located = c.localisation
    for j, name in enumerate(c.names):
        profile = c.profiles[j]
        spread = profile.std() if profile.std() > 0 else 1.0
        left.plot(c.mjj_centres / 1000, (profile - profile.mean()) / spread, marker="o",
                  label=name, linewidth=2.5 if name == located["feature"] else 1)  # fmt: skip
    left.set_xlabel(r"$m_{jj}$ slice [TeV]")
    left.set_ylabel("slice profile (standardised)")
    if located["feature"] is not None:
        left.axvline(located["mjj"] / 1000, color="k", linestyle=":")
        where = f"{located['mjj'] / 1000:.2f} TeV ({located['feature']})"
        left.set_title(f"localisation T = {located['statistic']:.1f} at {where}", fontsize=14)
    else:
        left.set_title(f"no localisation: {located['reason']}", fontsize=14)
    left.legend(fontsize=11, ncol=2)
    width = 0.8 / max(len(c.pulls), 1)
    for i, (label, pulls) in enumerate(c.pulls.items()):
        right.bar(np.arange(n) + i * width, pulls, width, label=label)
    right.axhline(0, color="k", linewidth=0.8)
    right.set_xticks(np.arange(n) + width * (len(c.pulls) - 1) / 2, c.names, rotation=30)
    right.set_ylabel(r"(decoded $-$ input) / $\sigma_{input}$, medians", fontsize=18)
    right.legend(fontsize=12)
    fig.tight_layout()
    summary = outdir / "latent_profiles.png"
    fig.savefig(summary)
    plt.close(fig)
    return [heat, summary]
