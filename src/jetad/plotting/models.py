"""Training curves and the anomaly scores' ROC and SIC curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jetad.models.metrics import roc_curve
from jetad.plotting._style import neutral_label, plt

__all__ = ["plot_performance", "plot_training"]


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
        neutral_label(ax, None, simulation=True)
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
        neutral_label(ax, None, simulation=True)
        paths.append(outdir / name)
        fig.savefig(paths[-1])
        plt.close(fig)
    return paths
