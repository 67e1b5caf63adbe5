"""Generation speed: events/s per core and the share of time spent outside Pythia.

    python bench/generate.py [--events 1000] [--process qcd_dijet]

Prints, from one run per process: events/s on one core, and the split of the wall time
between Pythia (generation + hadronisation) and the rest (detector, clustering, writing).
The target is under 15% of the time outside Pythia.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from jetad.generate import PROCESSES, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--process", action="append", choices=list(PROCESSES))
    args = parser.parse_args()
    print(
        f"{'process':10s} {'events/s/core':>14s} {'pythia s':>9s} {'other s':>8s} "
        f"{'outside Pythia':>15s}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.process or ["qcd_dijet", "wprime_xy", "svj", "ttbar"]:
            start = time.perf_counter()
            s = generate(name, args.events, seed=1, output=Path(tmp) / f"{name}.root", jobs=1)
            wall = time.perf_counter() - start
            other = wall - s.seconds_pythia
            print(
                f"{name:10s} {args.events / wall:14.1f} {s.seconds_pythia:9.2f} {other:8.2f} "
                f"{other / wall:14.1%}  (detector+clustering {s.seconds_detector:.2f} s, "
                f"writing {s.seconds_writing:.2f} s)"
            )


if __name__ == "__main__":
    main()
