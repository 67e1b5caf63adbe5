"""Does an anomaly cut sculpt the QCD m_jj spectrum, and does the m_jj-dependent cut not?

    python bench/decorrelation.py [--epochs 100] [--degree 2] [--knots N]

On the cached 100k generated QCD dijets after the dijet processor's selection: a VAE (the
default `jetad train --model vae` configuration) is trained on half of the events; on the
other half each working point is applied as a fixed threshold and as the quantile-regression
threshold t_ε(m_jj) (`jetad decorrelate`, fitted on the training half: a spline with as many
knots as the half affords by default, ``--knots 0`` for the polynomial of ``--degree``).
Printed side by side for each efficiency: the fraction kept in m_jj quartiles and the
Jensen–Shannon divergence of the kept m_jj shape to the shape before the cut, next to the
statistical floor (the same divergence for a random subset of the same size).
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
from scipy.spatial.distance import jensenshannon

from _samples import selected_rows
from jetad.decorrelation import fit_quantile_threshold, flatness, quantile_threshold
from jetad.histograms import MJJ_EDGES
from jetad.models import TrainConfig, train
from jetad.models.export import WORKING_POINTS


def divergence(kept_mjj: np.ndarray, all_mjj: np.ndarray) -> float:
    after, _ = np.histogram(kept_mjj, MJJ_EDGES)
    before, _ = np.histogram(all_mjj, MJJ_EDGES)
    return float(jensenshannon(after, before, base=2) ** 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--degree", type=int, default=2)
    parser.add_argument("--knots", type=int, default=None,
                        help="spline knots (default: jetad.decorrelation.auto_knots)")
    args = parser.parse_args()
    print(f"# bench/decorrelation.py on {platform.machine()}, python {platform.python_version()}")
    rows = selected_rows("qcd_dijet", 100_000)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(rows))
    train_rows, test_rows = rows[order[: len(rows) // 2]], rows[order[len(rows) // 2 :]]
    print(f"{len(rows)} selected QCD events: {len(train_rows)} to train and calibrate on, "
          f"{len(test_rows)} to measure on")  # fmt: skip
    trained = train(train_rows[:, :-1], TrainConfig.for_model("vae", epochs=args.epochs, seed=1))
    import torch

    from jetad.models.export import ScoringModel

    model = ScoringModel(trained.preprocessing, trained.members).eval()
    with torch.no_grad():
        score_train = model(torch.from_numpy(train_rows[:, :-1])).numpy()[:, 0]
        score_test = model(torch.from_numpy(test_rows[:, :-1])).numpy()[:, 0]
    mjj_train, mjj_test = train_rows[:, -1], test_rows[:, -1]
    print(f"VAE KL score: correlation with m_jj {np.corrcoef(score_test, mjj_test)[0, 1]:+.3f}")
    print(f"\n{'cut':>8} {'threshold':>12} {'kept in m_jj quartiles':>34} {'JS':>8} {'floor':>8}")
    for name, efficiency in WORKING_POINTS.items():
        fixed = np.quantile(score_train, 1 - efficiency)
        fit = fit_quantile_threshold(score_train, mjj_train, efficiency, args.degree, args.knots)
        following = f"m_jj, {len(fit.get('knots', []))} kn"
        for label, threshold in (("fixed", fixed), (following, quantile_threshold(fit, mjj_test))):
            kept = score_test > threshold
            floor = np.median([
                divergence(rng.choice(mjj_test, kept.sum(), replace=False), mjj_test)
                for _ in range(20)
            ])  # fmt: skip
            quartiles = " ".join(f"{e:.4f}" for e in flatness(score_test, mjj_test, threshold))
            print(f"{name:>8} {label:>12} {quartiles:>34} "
                  f"{divergence(mjj_test[kept], mjj_test):>8.4f} {floor:>8.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
