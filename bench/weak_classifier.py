"""What limits the weakly supervised classifier at small S/B: the flow, or the classifier?

    python bench/weak_classifier.py [--s-over-b 0.005 0.01 0.03] [--seeds 1 5]

On the search bench's pseudo-data (``bench/search.py``: 105,896 selected QCD events with the
W′ injected at S/B within ±1σ of its peak), in the signal region 3.5 TeV ± 8%, it trains the
weakly supervised classifier against two background models:

- **CATHODE**: the flow's samples (``jetad.weak_supervision.cathode``);
- **template**: the true QCD, from an independent sample (200k QCD generated with seed 3, the
  selected events in the signal region; ``against_template``), CATHODE's idealised anomaly
  detector (arXiv:2109.00546, figure 6): CATHODE with a perfect flow;

each with one classifier per fold and with ``--seeds`` classifiers per fold averaged, and prints,
on the truth of the signal region's events, AUC, SIC_max, SIC at ε_S = 0.5 and SIC at ε_B =
1% (the search's tight cut; SIC = ε_S / √ε_B). One thread (``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time

import numpy as np
import torch

from jetad.features import FEATURE_SETS
from jetad.models import figures_of_merit
from jetad.weak_supervision import (
    ClassifierConfig,
    FlowConfig,
    SignalRegion,
    against_template,
    cathode,
)
from search import MASS, pseudo_data, search_qcd, selected_rows


def quality(score: np.ndarray, truth: np.ndarray) -> str:
    """AUC, SIC_max, SIC at ε_S = 0.5 and at ε_B = 1% of ``score`` on 0/1 ``truth``."""
    background, signal = score[truth == 0], score[truth == 1]
    fom = figures_of_merit(background, signal)
    at_one_percent = np.mean(signal > np.quantile(background, 0.99)) / 0.1
    return (f"AUC {fom['auc']:.3f}  SIC_max {fom['sic_max']:5.2f}  SIC½ "
            f"{0.5 * np.sqrt(fom['inverse_eff_b_at_eff_s_0p5']):4.2f}  SIC at ε_B = 1% "
            f"{at_one_percent:4.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--s-over-b", type=float, nargs="+", default=[0.005, 0.01, 0.03])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 5],
                        help="classifiers per fold to compare")  # fmt: skip
    parser.add_argument("--spline", action="store_true",
                        help="CATHODE's flow a neural spline flow (FlowConfig(spline=True))")
    parser.add_argument("--flow-epochs", type=int, default=FlowConfig().epochs)
    parser.add_argument("--no-template", action="store_true", help="CATHODE only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# bench/weak_classifier.py on {platform.machine()}, python "
          f"{platform.python_version()}")  # fmt: skip
    names, region = FEATURE_SETS["lhco"].names, SignalRegion(MASS)
    flow = FlowConfig(spline=args.spline, epochs=args.flow_epochs)
    print(f"CATHODE's flow: {flow}")
    qcd, wprime = search_qcd(False), selected_rows("wprime_xy", 5000)
    template = selected_rows("qcd_dijet", 200_000, seed=3)
    in_template = int(region.contains(template[:, -1]).sum())
    print(f"{len(qcd)} selected QCD events; template: {in_template} independent QCD events in "
          f"{region.edges[0]:.0f}–{region.edges[1]:.0f} GeV")
    for s_over_b in args.s_over_b:
        rows, truth = pseudo_data(qcd, wprime, s_over_b, np.random.default_rng(1))
        x, mjj = rows[:, :-1], rows[:, -1]
        inside = region.contains(mjj)
        print(f"\nS/B = {s_over_b:.1%} within ±1σ: {int(truth[inside].sum())} W′ and "
              f"{int((truth[inside] == 0).sum())} QCD events in the signal region", flush=True)
        for seeds in args.seeds:
            config = dataclasses.replace(ClassifierConfig(), seeds=seeds)
            for name in ("CATHODE",) if args.no_template else ("CATHODE", "template"):
                start = time.perf_counter()
                if name == "CATHODE":
                    found = cathode(x, mjj, region, names, config=config, flow_config=flow)
                else:
                    found = against_template(x, mjj, region, names, template[:, :-1],
                                             template[:, -1], config=config)  # fmt: skip
                print(f"  {name:<8} {seeds} seed(s) per fold  "
                      f"{quality(found.score[inside], truth[inside])}  "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)

if __name__ == "__main__":
    main()
