"""Latent characterisation on pseudo-data: does the localisation statistic point at the signal?

    python bench/characterise.py [--seeds 3] [--epochs 100]

Background: the cached 100k generated QCD dijets after the dijet selection (45,923 events).
Signal: the cached W′ → X(qq)Y(qq) (m_W′ 3.5 TeV, m_X 500, m_Y 100 GeV) after the same
selection, injected at S/B ∈ {0, 1%, 3%, 10%} within ±1σ of the peak (as ``bench/search.py``).
For each S/B and seed, a one-member VAE (``TrainConfig.for_model("vae")``, ``--epochs``) is
trained on the pseudo-data itself, the decoder of (z, m_jj) behind its frozen encoder
(``jetad.characterisation``), and the localisation statistic T is printed with the m_jj and
observable it points to. The verdict compares every S/B > 0 run with the largest S/B = 0 run,
and the m_jj with the signal's reconstructed peak ± 1σ. The heat maps of seed 1 are written to
``bench/.cache/characterise/``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from _samples import CACHE, selected_rows
from jetad.characterisation import DecoderConfig, characterise, fit_mass_decoder
from jetad.features import FEATURE_SETS
from jetad.models import TrainConfig, train
from jetad.plotting import plot_characterisation
from search import RESOLUTION, pseudo_data

S_OVER_B = (0.0, 0.01, 0.03, 0.1)


def run(qcd, wprime, s_over_b: float, seed: int, epochs: int):
    rows, truth = pseudo_data(qcd, wprime, s_over_b, np.random.default_rng(seed))
    x, mjj = rows[:, :-1], rows[:, -1]
    vae = train(x, TrainConfig.for_model("vae", epochs=epochs, seed=seed))
    preprocessing, member = vae.preprocessing, vae.members[0]
    decoder, _ = fit_mass_decoder(preprocessing, member, x, mjj, DecoderConfig(seed=seed))
    lhco = FEATURE_SETS["lhco"]
    return characterise(preprocessing, member, decoder, x, mjj, lhco.names,
                        [f.unit for f in lhco.features], truth == 1)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--s-over-b", type=float, nargs="+", default=S_OVER_B,
                        help="S/B values; the first must be 0 (the calibration)")
    parser.add_argument("--epochs", type=int, default=100, help="VAE epochs (the default's)")
    args = parser.parse_args()
    print(f"# bench/characterise.py on {platform.machine()}, python {platform.python_version()}")
    qcd, wprime = selected_rows("qcd_dijet", 100_000), selected_rows("wprime_xy", 5000)
    peak = float(np.median(wprime[:, -1]))
    low, high = peak * (1 - RESOLUTION), peak * (1 + RESOLUTION)
    print(f"{len(qcd)} QCD events; W′ reconstructed m_jj median {peak:.0f} GeV, ±1σ "
          f"{low:.0f}–{high:.0f} GeV")  # fmt: skip
    print(f"{'S/B':>6} {'seed':>5} {'T':>7} {'m_jj [GeV]':>11} {'observable':>11} {'time':>6}")
    found = {s: [] for s in args.s_over_b}
    for s_over_b in args.s_over_b:
        for seed in range(1, args.seeds + 1):
            start = time.perf_counter()
            result = run(qcd, wprime, s_over_b, seed, args.epochs)
            where = result.localisation
            found[s_over_b].append(where)
            print(f"{s_over_b:>6.1%} {seed:>5} {where['statistic']:>7.2f} {where['mjj']:>11.0f} "
                  f"{where['feature']:>11} {time.perf_counter() - start:>5.0f}s", flush=True)
            if seed == 1:
                plot_characterisation(result, CACHE / "characterise" / f"sb{s_over_b:g}",
                                      title=f"S/B = {s_over_b:.0%}, seed {seed}")  # fmt: skip
    null = max(w["statistic"] for w in found[0.0])
    print(f"\nlargest T on background only: {null:.2f}")
    for s_over_b in args.s_over_b[1:]:
        above = sum(w["statistic"] > null for w in found[s_over_b])
        right = sum(low <= w["mjj"] <= high for w in found[s_over_b])
        print(f"S/B = {s_over_b:.0%}: {above} of {args.seeds} runs above every background-only "
              f"run, {right} of {args.seeds} point within ±1σ of the W′ peak")  # fmt: skip


if __name__ == "__main__":
    main()
