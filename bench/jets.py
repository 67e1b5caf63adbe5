"""Anomalous jet tagging as in Cheng et al.: the constituent VAE over prong-ness and jet mass.

    python bench/jets.py [--qcd-events 30000] [--signal-events 4000] [--seeds 3] [--epochs 50]
                         [--plots bench/.cache/jets] [--modes "no OE" "KL-OE rw"]
                         [--skip-quick-test]

Jets: AK8 jets with 550 < pT < 650 GeV (pT and mass of the constituent sum) from
``qcd_boosted`` (the training sample), ``boosted_2prong`` (m_prong = 59, 80, 120 GeV),
``boosted_top`` (m_top = 174 GeV, 3-prong) and ``boosted_4prong`` (M_H = 174 GeV, M_h = 20,
80 GeV); inputs the ``constituents20`` features (Cheng et al.'s 20 leading constituents in the
jet frame, RobustScaler), network and loss from ``TrainConfig.for_model("cvae")``.

1. **AUC table.** The cvae trained on QCD (``--seeds`` seeds): without OE, with MSE-OE and
   KL-OE, each with the outliers (top jets from an independent sample) as generated and
   reweighted to QCD's jet mass (``jetad.decorrelation.mass_weights``). For every signal the AUC
   of the seed's three metrics (MSE, KL to N(0, 1), MSE + KL), mean ± standard deviation over
   seeds. The top jets' AUC after OE is marked ``*``: the outliers were top jets.
2. **Sculpting.** For each metric and OE mode, the QCD test jets' mass distribution after cuts
   keeping ε_QCD = 10% and 1%: the Jensen–Shannon divergence from the uncut shape (base 2),
   beside the divergence of a *random* cut of the same efficiency (the statistical floor), and
   whether the seed's claims hold (MSE favours light jets; KL after KL-OE is flat in mass).
   Plots: ``jets_sculpting_*.png`` under ``--plots``.
3. **The seed's quick test.** Trained on top jets with QCD jets as outliers; AUC on QCD and on
   W-like (m_prong = 80 GeV) jets. The slides show 0.920 and 0.939.

Samples are generated once into bench/.cache (``bench/_samples.py``; about 15 minutes on 2 cores
at the default sizes), the trainings take about as long.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.spatial.distance import jensenshannon

from _samples import CACHE, cached_rows
from jetad.decorrelation import mass_weights
from jetad.models import TrainConfig, figures_of_merit, train
from jetad.models.export import ScoringModel

WINDOW = (550.0, 650.0)  # GeV: the jets' pT window (Cheng et al.)
SIGNALS = {  # label: (process, card parameters)
    "2-prong m=59": ("boosted_2prong", {"m_prong": 59.0}),
    "2-prong m=80 (W)": ("boosted_2prong", {"m_prong": 80.0}),
    "2-prong m=120": ("boosted_2prong", {"m_prong": 120.0}),
    "3-prong top": ("boosted_top", {}),
    "4-prong m_h=20": ("boosted_4prong", {"m_light": 20.0}),
    "4-prong m_h=80": ("boosted_4prong", {"m_light": 80.0}),
}
METRICS = {"MSE": "mse", "KL": "kl", "MSE+KL": "elbo"}  # the seed's names: score heads
MODES = {  # label: (oe, reweighted)
    "no OE": (None, False),
    "MSE-OE": ("mse", False),
    "MSE-OE rw": ("mse", True),
    "KL-OE": ("kl", False),
    "KL-OE rw": ("kl", True),
}
EFFICIENCIES = (0.1, 0.01)
PLOTTED = {("no OE", "MSE"): "mse_no_oe", ("KL-OE rw", "KL"): "kl_kloe_reweighted"}
TITLES = {"mse_no_oe": "QCD jets, MSE, no OE", "kl_kloe_reweighted": "QCD jets, KL, KL-OE rw"}
MASS_BINS = np.linspace(0.0, 300.0, 31)  # GeV


def jets(process: str, events: int, seed: int, parameters=None) -> tuple[np.ndarray, np.ndarray]:
    """(constituents20 rows, jet mass in GeV) of the jets in the pT window."""
    rows = cached_rows("constituents20", process, events, seed, 0.8, parameters,
                       also=("jet_pt", "jet_mass"))  # fmt: skip
    inside = (rows[:, -2] > WINDOW[0]) & (rows[:, -2] < WINDOW[1])
    return rows[inside, :-2], rows[inside, -1]


def score(trained, x: np.ndarray) -> dict[str, np.ndarray]:
    import torch

    model = ScoringModel(trained.preprocessing, trained.members).eval()
    with torch.no_grad():
        values = model(torch.from_numpy(x.astype(np.float32))).numpy()
    return {m: values[:, trained.score_names.index(h)] for m, h in METRICS.items()}


def js(after: np.ndarray, before: np.ndarray) -> float:
    a, _ = np.histogram(after, MASS_BINS)
    b, _ = np.histogram(before, MASS_BINS)
    return float(jensenshannon(a, b, base=2) ** 2) if a.sum() else float("nan")


def cut(values: np.ndarray, efficiency: float) -> np.ndarray:
    return values > np.quantile(values, 1.0 - efficiency)


def cvae(x, seed, epochs, oe=None, outliers=None, weights=None):
    config = TrainConfig.for_model("cvae", seed=seed, epochs=epochs, oe=oe,
                                   oe_reweight="mass" if weights is not None else None)  # fmt: skip
    return train(x, config, outliers=outliers, outlier_weights=weights)


def sculpting_plot(masses: dict[str, dict[str, np.ndarray]], qcd_mass, outdir: Path) -> list:
    import hist

    from jetad.plotting import plot_sculpting

    paths = []
    for model, by_cut in masses.items():  # one figure each, titled by its dataset label
        h = hist.Hist(
            hist.axis.StrCategory([TITLES[model]], name="dataset"),
            hist.axis.StrCategory([model], name="model"),
            hist.axis.StrCategory(["none", "eff10", "eff1"], name="cut"),
            hist.axis.Regular(30, 0.0, 300.0, name="jet_mass", label="jet mass [GeV]"),
            storage=hist.storage.Weight(),
        )
        h.fill(dataset=TITLES[model], model=model, cut="none", jet_mass=qcd_mass)
        for name, kept in by_cut.items():
            h.fill(dataset=TITLES[model], model=model, cut=name, jet_mass=kept)
        outdir.mkdir(parents=True, exist_ok=True)
        paths += plot_sculpting(h, outdir, "jets")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qcd-events", type=int, default=30_000)
    parser.add_argument("--signal-events", type=int, default=4000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--plots", type=Path, default=CACHE / "jets")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES),
                        help="OE modes to train (the plots need 'no OE' and 'KL-OE rw').")
    parser.add_argument("--skip-quick-test", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()

    qcd, qcd_mass = jets("qcd_boosted", args.qcd_events, 1)
    order = np.random.default_rng(0).permutation(len(qcd))
    n_test = len(qcd) // 4
    test_b, test_mass = qcd[order[:n_test]], qcd_mass[order[:n_test]]
    train_b, train_mass = qcd[order[n_test:]], qcd_mass[order[n_test:]]
    signals = {k: jets(p, args.signal_events, 2, par)[0] for k, (p, par) in SIGNALS.items()}
    outliers, outlier_mass = jets("boosted_top", 2 * args.signal_events, 1)
    weights = mass_weights(outlier_mass, train_mass, bins=30)
    ess = weights.sum() ** 2 / (weights**2).sum()
    print(f"QCD: {len(train_b)} training, {len(test_b)} test jets in pT {WINDOW} GeV; "
          f"outliers: {len(outliers)} top jets (independent sample), effective "
          f"{ess:.0f} after mass reweighting; signals: "
          + ", ".join(f"{k} {len(v)}" for k, v in signals.items()))  # fmt: skip

    auc = {}  # (mode, metric, signal) -> [per seed]
    sculpt = {}  # (mode, metric, efficiency) -> [per seed]
    kept_median = {}  # (mode, metric) -> [per seed] median QCD jet mass kept at 10% (GeV)
    kept_mass = {}  # the plotted models: {label: {cut: masses}} of the first seed
    modes = {m: MODES[m] for m in args.modes}
    for mode, (oe, reweighted) in modes.items():
        for seed in range(args.seeds):
            trained = cvae(train_b, seed, args.epochs, oe, outliers if oe else None,
                           weights if reweighted else None)  # fmt: skip
            background = score(trained, test_b)
            for name, x in signals.items():
                for metric, values in score(trained, x).items():
                    fom = figures_of_merit(background[metric], values)
                    auc.setdefault((mode, metric, name), []).append(fom["auc"])
            for metric, values in background.items():
                for eff in EFFICIENCIES:
                    after = test_mass[cut(values, eff)]
                    sculpt.setdefault((mode, metric, eff), []).append(js(after, test_mass))
                kept = test_mass[cut(values, 0.1)]
                kept_median.setdefault((mode, metric), []).append(np.median(kept))
                if seed == 0 and (mode, metric) in PLOTTED:
                    kept_mass[PLOTTED[(mode, metric)]] = {
                        f"eff{round(100 * e)}": test_mass[cut(values, e)] for e in EFFICIENCIES
                    }
        print(f"  trained {mode} ({args.seeds} seeds), {time.perf_counter() - start:.0f} s",
              flush=True)  # fmt: skip

    print(f"\nAUC against QCD, mean ± std over {args.seeds} seeds "
          "(* top jets after OE: the outliers were top jets)")  # fmt: skip
    print(f"{'OE mode':10s} {'metric':7s} " + " ".join(f"{k:>17s}" for k in SIGNALS))
    for mode in modes:
        for metric in METRICS:
            cells = []
            for name in SIGNALS:
                values = np.array(auc[(mode, metric, name)])
                mark = "*" if mode != "no OE" and name == "3-prong top" else " "
                cells.append(f"{values.mean():.3f} ± {values.std():.3f}{mark}".rjust(17))
            print(f"{mode:10s} {metric:7s} " + " ".join(cells))

    rng = np.random.default_rng(1)
    floor = {e: np.mean([js(test_mass[rng.random(len(test_mass)) < e], test_mass)
                         for _ in range(20)]) for e in EFFICIENCIES}  # fmt: skip
    print("\nQCD jet-mass sculpting: Jensen–Shannon divergence after the cut (base 2), mean over "
          f"seeds; a random cut gives {floor[0.1]:.4f} (10%) and {floor[0.01]:.4f} (1%)")
    print(f"{'OE mode':10s} {'metric':7s} {'eps=10%':>9s} {'eps=1%':>9s}  "
          "median QCD mass kept at 10% (GeV)")  # fmt: skip
    for mode in modes:
        for metric in METRICS:
            cells = [np.mean(sculpt[(mode, metric, e)]) for e in EFFICIENCIES]
            median = np.mean(kept_median[(mode, metric)])
            print(f"{mode:10s} {metric:7s} {cells[0]:9.4f} {cells[1]:9.4f}  {median:.0f}")
    if not {"no OE", "KL-OE rw"} <= set(modes):
        return
    light = np.mean(sculpt[("no OE", "MSE", 0.1)])
    flat = np.mean(sculpt[("KL-OE rw", "KL", 0.1)])
    mse_kept = np.mean(kept_median[("no OE", "MSE")])
    print("\nseed's claim 1, the MSE gives lighter jets higher probability (so a cut on it keeps "
          f"heavy QCD jets): median QCD mass {np.median(test_mass):.0f} GeV before, "
          f"{mse_kept:.0f} GeV kept by MSE at 10% -> "
          f"{'holds' if mse_kept > np.median(test_mass) else 'does not hold'}")
    print(f"seed's claim 2, KL after KL-OE (reweighted) is flat in mass: JS {flat:.4f} at 10% "
          f"against {light:.4f} for MSE without OE and {floor[0.1]:.4f} for a random cut -> "
          f"{'holds' if flat < 2 * floor[0.1] + 1e-3 else 'does not hold'} (flat: below twice the "
          "random cut's)")
    for path in sculpting_plot(kept_mass, test_mass, args.plots):
        print(f"plot: {path}")

    if args.skip_quick_test:
        return
    top_train, _ = jets("boosted_top", 2 * args.signal_events, 1)
    print("\nseed's quick test: trained on top jets, QCD as outliers (AUC; slides: QCD 0.920, "
          "W 0.939)")  # fmt: skip
    for oe in ("mse", "kl"):
        per_seed = {}
        for seed in range(args.seeds):
            trained = cvae(top_train, seed, args.epochs, oe, train_b)
            reference = score(trained, signals["3-prong top"])
            for target, x in (("QCD", test_b), ("W", signals["2-prong m=80 (W)"])):
                for metric, values in score(trained, x).items():
                    fom = figures_of_merit(reference[metric], values)
                    per_seed.setdefault((target, metric), []).append(fom["auc"])
        for (target, metric), values in per_seed.items():
            print(f"  {oe.upper()}-OE {metric:7s} {target:4s} AUC {np.mean(values):.3f} ± "
                  f"{np.std(values):.3f}")
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
