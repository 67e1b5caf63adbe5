"""Signal injection: what each search method finds, at several S/B, and on background only.

    python bench/search.py [--toys 200] [--epochs 30] [--seeds 3]

Background: the cached 100k generated QCD dijets after the dijet processor's selection (lead
pT > 1.2 TeV, |Δη| < 1.3). Signal: the cached W′ → X(qq)Y(qq) (3.5 TeV) events after the same
selection, injected at S/B ∈ {0.3%, 0.5%, 1%, 3%} *within ±1σ of the peak* (σ/m = 0.065).
Every method is trained on the pseudo-data itself, without the truth, then cut at 10% and 1%
of the pseudo-data, and the bump hunt (``jetad.bumphunt``: every width, ``--toys`` toys) runs on
the m_jj spectrum after the cut:

- ``none``: the bump hunt without a cut;
- ``vae``: the VAE KL score of Bortolato et al. (``TrainConfig.for_model("vae")``, one
  member), fixed thresholds;
- ``vae_mjj``: the same score, thresholds following m_jj (quantile regression,
  ``jetad.decorrelation``), fitted on the pseudo-data;
- ``cwola``: CWoLa hunting (Collins, Howe, Nachman, PRL 121 (2018) 241803): a classifier
  learns the signal region (3.5 TeV ± 10%) against its two sidebands (the next ±10% on each
  side) from the lhco features; 5-fold, so no event is scored by a network that saw it. One
  signal-region hypothesis, at the true mass: the look-elsewhere effect of scanning
  hypotheses is *not* in its global significance.

Printed per S/B and method: AUC and SIC_max of the score on the truth, the window found and
whether it holds 3.5 TeV, the local and global significance; then the background-only rows
(the QCD alone, ``--seeds`` training seeds): the largest global significance seen.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from _samples import selected_rows
from jetad.bumphunt import Spectrum, bump_hunt, fit_start
from jetad.decorrelation import fit_quantile_threshold, quantile_threshold
from jetad.histograms import MJJ_EDGES
from jetad.models import TrainConfig, figures_of_merit, train

MASS, RESOLUTION = 3500.0, 0.065
S_OVER_B = (0.003, 0.005, 0.01, 0.03)
EFFICIENCIES = {"eff10": 0.10, "eff1": 0.01}


def pseudo_data(qcd: np.ndarray, wprime: np.ndarray, s_over_b: float, rng) -> tuple:
    """QCD plus W′ events at ``s_over_b`` within ±1σ of the peak: (rows, truth label)."""

    def core(mjj):
        return np.abs(mjj - MASS) < RESOLUTION * MASS

    peak_fraction = core(wprime[:, -1]).mean()
    n_signal = int(round(s_over_b * core(qcd[:, -1]).sum() / peak_fraction))
    chosen = wprime[rng.choice(len(wprime), n_signal, replace=False)]
    rows = np.concatenate([qcd, chosen])
    return rows, np.concatenate([np.zeros(len(qcd)), np.ones(n_signal)])


def vae_score(rows: np.ndarray, epochs: int, seed: int) -> np.ndarray:
    import torch

    from jetad.models.export import ScoringModel

    trained = train(rows[:, :-1], TrainConfig.for_model("vae", epochs=epochs, seed=seed))
    model = ScoringModel(trained.preprocessing, trained.members).eval()
    with torch.no_grad():
        return model(torch.from_numpy(rows[:, :-1])).numpy()[:, 0]


def cwola_score(rows: np.ndarray, seed: int, folds: int = 5, epochs: int = 20) -> np.ndarray:
    """Out-of-fold probability of 'signal region' for every event (see the module)."""
    import torch

    mjj = rows[:, -1]
    x = rows[:, :-1]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    region = np.abs(mjj / MASS - 1) < 0.10
    sideband = (np.abs(mjj / MASS - 1) >= 0.10) & (np.abs(mjj / MASS - 1) < 0.20)
    fold = np.random.default_rng(seed).integers(0, folds, len(rows))
    score = np.empty(len(rows))
    torch.manual_seed(seed)
    for k in range(folds):
        use = (fold != k) & (region | sideband)
        features = torch.from_numpy(x[use].astype(np.float32))
        label = torch.from_numpy(region[use].astype(np.float32))
        weight = torch.where(label > 0, 0.5 / label.mean(), 0.5 / (1 - label.mean()))
        network = torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
            torch.nn.ReLU(), torch.nn.Linear(64, 1),
        )  # fmt: skip
        optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
        loss = torch.nn.BCEWithLogitsLoss(reduction="none")
        for _ in range(epochs):
            order = torch.randperm(len(features))
            for batch in order.split(256):
                optimiser.zero_grad()
                value = (loss(network(features[batch])[:, 0], label[batch]) * weight[batch]).mean()
                value.backward()
                optimiser.step()
        with torch.no_grad():
            score[fold == k] = network(torch.from_numpy(x[fold == k].astype(np.float32)))[:, 0]
    return score


def hunt(mjj: np.ndarray, keep: np.ndarray, toys: int) -> dict:
    counts, _ = np.histogram(mjj[keep], MJJ_EDGES)
    full = Spectrum.from_counts(counts, MJJ_EDGES)
    first = fit_start(full)
    filled = np.nonzero(counts[first:])[0]
    if len(filled) < 9:
        return {"window": None, "local": np.nan, "global": np.nan}
    result = bump_hunt(full[first : first + int(filled[-1]) + 1], n_toys=toys)
    return {"window": result.window, "local": result.local_significance,
            "global": result.global_significance}  # fmt: skip


def methods(rows: np.ndarray, args, seed: int) -> dict:
    """Every method's score (None: no cut) and whether its thresholds follow m_jj."""
    vae = vae_score(rows, args.epochs, seed)
    return {"none": (None, False), "vae": (vae, False), "vae_mjj": (vae, True),
            "cwola": (cwola_score(rows, seed), False)}  # fmt: skip


def evaluate(rows, truth, args, seed) -> list[tuple]:
    mjj, lines = rows[:, -1], []
    for name, (score, follows_mjj) in methods(rows, args, seed).items():
        quality = ("", "")
        if score is not None and truth.any():
            fom = figures_of_merit(score[truth == 0], score[truth == 1])
            quality = (f"{fom['auc']:.3f}", f"{fom['sic_max']:.2f}")
        cuts = {"none": None} if score is None else EFFICIENCIES
        for cut, efficiency in cuts.items():
            if score is None:
                keep = np.ones(len(mjj), dtype=bool)
            elif follows_mjj:
                fit = fit_quantile_threshold(score, mjj, efficiency)
                keep = score > quantile_threshold(fit, mjj)
            else:
                keep = score > np.quantile(score, 1 - efficiency)
            found = hunt(mjj, keep, args.toys)
            window = found["window"]
            right = window is not None and window[0] < MASS < window[1]
            text = "—" if window is None else f"{window[0]:.0f}–{window[1]:.0f}"
            lines.append((name, cut, *quality, int((truth[keep] == 1).sum()), text,
                          "yes" if right else "no", found["local"], found["global"]))  # fmt: skip
    return lines


def show(title: str, lines: list[tuple]) -> None:
    print(f"\n## {title}")
    print(f"{'method':>8} {'cut':>6} {'AUC':>6} {'SIC':>6} {'signal':>7} {'window [GeV]':>12} "
          f"{'3.5 TeV':>8} {'local Z':>8} {'global Z':>8}")  # fmt: skip
    for name, cut, auc, sic, kept, window, right, local, glob in lines:
        print(f"{name:>8} {cut:>6} {auc:>6} {sic:>6} {kept:>7} {window:>12} {right:>8} "
              f"{local:>8.2f} {glob:>8.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=30, help="VAE epochs")
    parser.add_argument("--seeds", type=int, default=3, help="background-only training seeds")
    args = parser.parse_args()
    print(f"# bench/search.py on {platform.machine()}, python {platform.python_version()}")
    qcd, wprime = selected_rows("qcd_dijet", 100_000), selected_rows("wprime_xy", 5000)
    print(f"{len(qcd)} selected QCD events, {len(wprime)} selected W′ events")
    start = time.perf_counter()
    for s_over_b in S_OVER_B:
        rows, truth = pseudo_data(qcd, wprime, s_over_b, np.random.default_rng(1))
        show(f"S/B = {s_over_b:.1%} within ±1σ: {int(truth.sum())} W′ events injected",
             evaluate(rows, truth, args, seed=1))  # fmt: skip
    worst = []
    for seed in range(1, args.seeds + 1):
        lines = evaluate(qcd, np.zeros(len(qcd)), args, seed)
        show(f"background only, training seed {seed}", lines)
        worst += [line[-1] for line in lines]
    print(f"\nlargest global Z on background only: {np.nanmax(worst):.2f} "
          f"({time.perf_counter() - start:.0f} s in all)")  # fmt: skip


if __name__ == "__main__":
    main()
