"""The search's plots: the bump hunt, the spurious-signal test and the latent
characterisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jetad.plotting._style import mplhep, neutral_label, plt

__all__ = ["plot_bumphunt", "plot_characterisation", "plot_spurious_signal"]


def _plot_scans(ax, edges: np.ndarray, windows) -> None:
    """Every window width's local-significance scan against the window's centre (GeV)."""
    for window in windows:
        width = window.width_bins
        centres = 0.5 * (edges[: len(edges) - width] + edges[width:])
        ax.plot(centres, window.scan, marker=".", label=f"{width}")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set(xlabel=r"$m_{jj}$ [GeV]", ylabel=r"local $Z$")
    ax.legend(fontsize="xx-small", ncol=len(windows), loc="lower left",
              title="window width [bins]", title_fontsize="xx-small")  # fmt: skip


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
    neutral_label(top, luminosity_fb, simulation=not spectrum.unit_weight)
    sigma = np.where(sumw > expected, sumw - low, high - sumw)
    pulls = np.where(sigma > 0, (sumw - expected) / np.where(sigma > 0, sigma, 1), 0.0)
    middle.bar(edges[:-1], pulls, width=np.diff(edges), align="edge", color="grey")
    middle.axhline(0, color="black", linewidth=0.8)
    middle.set(ylabel="pull", ylim=(-4, 4))
    _plot_scans(bottom, edges, result.windows)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_pass_fraction(passed, failed, result, path: Path, title: str = "",
                       label: str = "pseudo-data") -> Path:  # fmt: skip
    """The fraction of each m_jj bin's events that a cut keeps (Clopper–Pearson 68% intervals)
    with the smooth fraction fitted by :func:`jetad.bumphunt.pass_fraction_hunt` and its best
    window, and the local-significance scan of every window width."""
    from scipy import stats

    first, last = np.searchsorted(passed.edges, result.fit_range)
    edges = passed.edges[first : last + 1]
    k, n = passed.sumw[first:last], passed.sumw[first:last] + failed.sumw[first:last]
    filled = n > 0
    fraction = np.where(filled, k / np.where(filled, n, 1), np.nan)
    low = np.where(k > 0, stats.beta.ppf(0.16, k, n - k + 1), 0.0)
    high = np.where(k < n, stats.beta.ppf(0.84, k + 1, n - k), 1.0)
    centres = 0.5 * (edges[1:] + edges[:-1])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 9), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.5]})  # fmt: skip
    top.errorbar(centres[filled], 100 * fraction[filled],
                 yerr=100 * np.array([fraction - low, high - fraction])[:, filled],
                 xerr=0.5 * np.diff(edges)[filled], fmt="o", color="black", markersize=4,
                 label=f"{label}: kept / all events in the bin")  # fmt: skip
    mplhep.histplot(100 * np.asarray(result.fraction), edges, ax=top, color="tab:blue",
                    label="fitted smooth fraction (quadratic logit in ln $m_{jj}$)")  # fmt: skip
    top.axvspan(*result.window, color="orange", alpha=0.3,
                label=f"best window ({result.width_bins} bins): local Z = "
                      f"{result.local_significance:.1f}, global Z = "
                      f"{result.global_significance:.1f}")  # fmt: skip
    # the points and the fit set the scale; a sparse bin's long error bar may leave the frame
    span = max(np.nanmax(100 * fraction[filled]), 100 * max(result.fraction))
    top.set(ylabel="events kept by the cut [%]", xlim=(edges[0], edges[-1]),
            ylim=(0, 2.2 * span))  # fmt: skip
    top.legend(fontsize="x-small", loc="upper right", title=title, title_fontsize="x-small")
    neutral_label(top, None, simulation=False)
    _plot_scans(bottom, edges, result.windows)
    scans = np.concatenate([w.scan for w in result.windows])
    bottom.set(ylim=(min(scans.min(), 0) - 0.6 * np.ptp(scans) - 0.5,
                     max(scans.max(), 0) + 0.5))  # room for the legend below the scans  # fmt: skip
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
    neutral_label(ax, None, simulation=True)
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
