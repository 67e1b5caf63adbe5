"""Plots of training curves and of anomaly-score performance (matplotlib, mplhep style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402
import numpy as np  # noqa: E402

from jetad.models.metrics import roc_curve  # noqa: E402

__all__ = ["plot_bumphunt", "plot_observable", "plot_performance", "plot_training"]

plt.style.use(mplhep.style.CMS)


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
    """ROC (ε_B⁻¹ vs ε_S), SIC and score distributions for every score head."""
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
        ax.hist(background, bins=edges, histtype="step", density=True, label="background")
        ax.hist(signal, bins=edges, histtype="step", density=True, label="signal")
        ax.set_xlabel(f"score: {name}")
        ax.set_yscale("log")
        ax.legend()
        paths.append(outdir / f"score_{name}.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    ax_roc.plot([0, 1], [1, 1], color="grey", linestyle=":")
    ax_roc.set(xlabel=r"$\epsilon_S$", ylabel=r"$1/\epsilon_B$", yscale="log")
    ax_sic.set(xlabel=r"$\epsilon_S$", ylabel=r"SIC = $\epsilon_S/\sqrt{\epsilon_B}$")
    for fig, ax, name in ((fig_roc, ax_roc, "roc.png"), (fig_sic, ax_sic, "sic.png")):
        ax.legend()
        paths.append(outdir / name)
        fig.savefig(paths[-1])
        plt.close(fig)
    return paths


def plot_observable(h, outdir: Path, name: str) -> list[Path]:
    """A histogram with ``dataset``, ``model`` (and ``cut``) axes and one observable axis, last:
    one figure per model, every dataset with and without each cut, as ``NAME_MODEL.png``."""
    paths, observable = [], h.axes[-1]
    cuts = list(h.axes["cut"]) if "cut" in h.axes.name else [None]
    for model in h.axes["model"]:
        fig, ax = plt.subplots(figsize=(9, 7))
        for dataset in h.axes["dataset"]:
            for cut in cuts:
                selection = {"dataset": dataset, "model": model}
                if cut is not None:
                    selection["cut"] = cut
                one = h[selection]
                if one.values().sum() > 0:
                    label = dataset if cut is None else f"{dataset}, {cut}"
                    mplhep.histplot(one, ax=ax, label=label)
        ax.set_yscale("log")
        ax.set_xlabel(observable.label or observable.name)
        ax.set_ylabel("weighted events")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small", ncol=2)
        paths.append(outdir / f"{name}_{model}.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    return paths


def plot_bumphunt(counts: np.ndarray, edges: np.ndarray, result, path: Path, title: str = ""):
    """The m_jj spectrum with the background fit and its pulls, and the local-significance scan."""
    expected = np.asarray(result.fit.expected)
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(9, 11), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.5]}
    )
    mplhep.histplot(counts, edges, ax=top, histtype="errorbar", yerr=np.sqrt(counts),
                    label="data", color="black")  # fmt: skip
    mplhep.histplot(expected, edges, ax=top, label=f"{len(result.fit.parameters)}-parameter fit")
    top.axvspan(*result.window, color="orange", alpha=0.3, label="most significant window")
    top.set(yscale="log", ylabel="events", title=title)
    top.legend(fontsize="small")
    pulls = np.where(expected > 0, (counts - expected) / np.sqrt(np.maximum(expected, 1e-9)), 0)
    middle.bar(edges[:-1], pulls, width=np.diff(edges), align="edge", color="grey")
    middle.set_ylabel("pull")
    window = (len(edges) - 1) - len(result.scan) + 1
    centers = 0.5 * (edges[: len(result.scan)] + edges[window : window + len(result.scan)])
    bottom.plot(centers, result.scan, marker="o")
    bottom.set(xlabel=r"$m_{jj}$ [GeV]", ylabel=r"local $Z$")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
