"""An analysis' histograms: each observable with and without the cuts, and the m_jj shape
before and after each cut (sculpting)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jetad.plotting._style import mplhep, plt

__all__ = ["plot_observable", "plot_sculpting"]

#: The sculpting plot draws a cut's shape only above this many effective events.
MIN_SHAPE_EVENTS = 50

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
