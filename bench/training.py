"""VAE training at realistic size: health of every member, and ensemble training speed.

    python bench/training.py [--events 100000] [--members 10] [--seeds 1 2] [--epochs 100]

On ``--events`` generated QCD dijet events (``lhco`` features, cached in bench/.cache; the
first run generates them, about 15 minutes on 2 cores):

1. **Health** at the default settings (``TrainConfig.for_model("vae")``: Keras' Adadelta,
   lr 1e-3, batch 1000, at most 100 epochs, KL-peak stopping), ``--members`` members for each
   of ``--seeds``: per member the largest ratio of any epoch's training loss to the first
   epoch's, the epochs run, the chosen epoch and the rule that chose it; then the number of
   diverged members (goal: 0). For comparison, the same members for ``--old-epochs`` epochs at
   PyTorch's Adadelta default lr 1.0 (the setting before this bench existed), divergence
   and batch 128 (the settings before this bench existed), divergence reported and members
   dropped rather than retried.
2. **Speed**: rows·epochs/s of ensembles of 1, 5 and 20 members trained one after another
   (``vectorize=False``), stacked (one batched matmul per layer for all members) and stacked
   through ``torch.compile`` (``torch_compile=True``, ``jetad train --compile``; its rate after
   a first training that compiles, whose time is printed), over ``--speed-epochs`` epochs, at
   batch 128 (the published code) and 1000 (the paper).
3. **What each step of the compiled ensemble buys** (20 members, batch 1000, ``--rounds``
   alternating rounds, median): as it is, without the kept heap
   (:func:`jetad.models.heap.kept_heap`) and without the transposed product of narrow layers
   (``jetad.models.stacked.NARROW_OUTPUTS``).
4. With ``--reference-src DIR`` (the ``src`` of another checkout, e.g. ``git worktree add
   /tmp/issue17 bf4837c^``, the code issue 17 measured): that code's 20 members one after
   another at batch 128 (Adadelta lr 1e-3, so that none diverges) against this code's 20
   stacked and compiled at batch 1000, in ``--rounds`` alternating pairs on the same rows; the
   ratio of each pair and their median. The reference trains in a subprocess with
   ``PYTHONPATH=DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _samples import cached_rows
from jetad.models import TrainConfig, TrainingDiverged, train


def health(rows: np.ndarray, config: TrainConfig, label: str) -> int:
    """Train, print one line per member attempt; returns the number of diverged attempts."""
    start = time.perf_counter()
    try:
        trained = train(rows, config)
        reports, histories = trained.reports, iter(trained.histories)
    except TrainingDiverged as err:
        print(f"  {label}: every member diverged: {err}")
        return config.ensemble
    seconds = time.perf_counter() - start
    print(f"  {label}: {len(trained.members)} kept of {config.ensemble}, {seconds:.0f} s")
    diverged = 0
    for report in reports:
        if report.status != "healthy":
            diverged += 1
            print(f"    {report.line()}")
            continue
        loss = np.asarray(next(histories)["train_loss"])
        print(
            f"    member {report.member}: max train-loss ratio to epoch 0 "
            f"{np.max(loss / loss[0]):8.3g}, {report.epochs_run:3d} epochs run, "
            f"chosen epoch {report.chosen_epoch:3d} by {report.rule}"
        )
    return diverged


def _rate(rows: np.ndarray, config: TrainConfig) -> float:
    n_train = len(rows) - round(0.25 * len(rows))
    start = time.perf_counter()
    trained = train(rows, config)
    seconds = time.perf_counter() - start
    return n_train * sum(len(h["train_loss"]) for h in trained.histories) / seconds


def speed(rows: np.ndarray, epochs: int) -> None:
    """rows·epochs/s, one after another, stacked, and stacked through torch.compile, at batch
    128 and 1000; the compiled rate after a first training that compiles (its time printed)."""
    measured = {}
    for batch_size in (128, 1000):
        for members in (1, 5, 20):
            for how in ("one by one", "stacked", "compiled") if members > 1 else ("one by one",):
                config = TrainConfig.for_model(
                    "vae", epochs=epochs, ensemble=members, vectorize=how != "one by one",
                    batch_size=batch_size, divergence_factor=np.inf,
                    torch_compile=how == "compiled",
                )
                if how == "compiled":
                    start = time.perf_counter()
                    train(rows, TrainConfig(**{**config.to_dict(), "epochs": 1}))
                    print(f"  batch {batch_size}, {members} members: the first compiled "
                          f"training (1 epoch) took {time.perf_counter() - start:.0f} s")
                measured[(batch_size, members, how)] = _rate(rows, config)
            for how in ("stacked", "compiled"):
                measured.setdefault((batch_size, 1, how), measured[(batch_size, 1, "one by one")])
    print("  batch  members  one by one   stacked  compiled   stacked/one-by-one   "
          "stacked, compiled / (one by one at batch 128)")
    for batch_size, members, how in measured:
        if how != "one by one":
            continue
        sequential = measured[(batch_size, members, how)]
        reference = measured[(128, members, how)]
        stacked = measured[(batch_size, members, "stacked")]
        compiled = measured[(batch_size, members, "compiled")]
        print(
            f"  {batch_size:5d}  {members:7d}  {sequential:10,.0f}  {stacked:8,.0f}  "
            f"{compiled:8,.0f}   {stacked / sequential:18.2f}   "
            f"{stacked / reference:7.2f}, {compiled / reference:5.2f}"
        )


def _compiled_config(epochs: int) -> TrainConfig:
    """20 members stacked and compiled at batch 1000, never stopped for divergence."""
    return TrainConfig.for_model("vae", epochs=epochs, ensemble=20, batch_size=1000,
                                 divergence_factor=np.inf, torch_compile=True)  # fmt: skip


#: One variant's compiled 20-member rate, in a fresh interpreter: glibc's malloc settings are
#: the process's, and once a kept heap has been left they are not glibc's defaults any more.
_VARIANT = """
import contextlib, json, sys
import numpy as np
sys.path.insert(0, sys.argv[4])
from training import _compiled_config, _rate
from jetad.models import TrainConfig, stacked, train, training
rows, epochs, variant = np.load(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
if variant == "without the kept heap":
    training.kept_heap = contextlib.nullcontext
if variant == "without the narrow layers' transposed product":
    stacked.NARROW_OUTPUTS = 0
config = _compiled_config(epochs)
train(rows, TrainConfig(**{**config.to_dict(), "epochs": 1}))  # compile outside the timing
print(json.dumps(_rate(rows, config)))
"""


def _in_subprocess(code: str, rows_path: Path, *arguments: str, pythonpath=None) -> float:
    """The rate a child interpreter prints as its last line."""
    environment = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    done = subprocess.run([sys.executable, "-c", code, str(rows_path), *arguments],
                          env=environment, capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def ablation(rows: np.ndarray, epochs: int, rounds: int) -> None:
    """The compiled 20-member rate as it is, without the kept heap and without the narrow
    layers' transposed product, each in its own fresh interpreter, in alternating rounds."""
    variants = ("as it is", "without the kept heap",
                "without the narrow layers' transposed product")  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        np.save(path, rows)
        for _ in range(rounds):
            for name in variants:
                rates[name].append(
                    _in_subprocess(_VARIANT, path, str(epochs), name, str(Path(__file__).parent))
                )
    reference = statistics.median(rates["as it is"])
    for name, values in rates.items():
        median = statistics.median(values)
        slower = "" if name == "as it is" else f"{reference / median:.2f}x slower; "
        print(f"  {name:48s} {median:9,.0f}  ({slower}rounds "
              f"{', '.join(f'{v:,.0f}' for v in values)})")


#: Run by the reference checkout's Python path: 20 members one after another at batch 128.
_REFERENCE = """
import json, sys, time
import numpy as np
from jetad.models.training import TrainConfig, train
rows, epochs = np.load(sys.argv[1]), int(sys.argv[2])
config = TrainConfig(model="vae", ensemble=20, epochs=epochs, learning_rate=1e-3, batch_size=128)
start = time.perf_counter()
trained = train(rows, config)
seconds = time.perf_counter() - start
n_train = len(rows) - round(config.validation_fraction * len(rows))
print(json.dumps(n_train * sum(len(h["train_loss"]) for h in trained.histories) / seconds))
"""


def against_reference(rows: np.ndarray, source: Path, epochs: int, rounds: int) -> None:
    """Alternating pairs: the reference code's rate (a subprocess) and this code's compiled
    20-member rate, with each pair's ratio and the median ratio."""
    config = _compiled_config(epochs)
    train(rows, TrainConfig(**{**config.to_dict(), "epochs": 1}))  # compile outside the timing
    ratios = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        np.save(path, rows)
        for k in range(rounds):
            reference = _in_subprocess(_REFERENCE, path, str(epochs),
                                       pythonpath=source.resolve())  # fmt: skip
            ours = _rate(rows, config)
            ratios.append(ours / reference)
            print(f"  pair {k + 1}: reference {reference:9,.0f}, this code {ours:9,.0f}: "
                  f"{ratios[-1]:.2f}x")
    print(f"  median ratio {statistics.median(ratios):.2f}x over {rounds} pairs (goal 10x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample-seed", type=int, default=1)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--old-epochs", type=int, default=10)
    parser.add_argument("--speed-epochs", type=int, default=2)
    parser.add_argument("--skip-health", action="store_true")
    parser.add_argument("--skip-table", action="store_true", help="skip section 2's table")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference-src", type=Path, default=None)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    rows = cached_rows("lhco", "qcd_dijet", args.events, args.sample_seed)
    print(f"{len(rows)} lhco rows from {args.events} generated QCD dijet events")
    if not args.skip_health:
        print("\n1. Health at the default settings (Adadelta lr 1e-3, rho 0.95, eps 1e-7)")
        diverged = 0
        for seed in args.seeds:
            config = TrainConfig.for_model(
                "vae", ensemble=args.members, seed=seed, epochs=args.epochs
            )
            diverged += health(rows, config, f"seed {seed}")
        total = args.members * len(args.seeds)
        print(f"  diverged members at the defaults: {diverged} of {total} (goal 0)")
        print(f"\n   For comparison: Adadelta lr 1.0 (PyTorch's default), batch 128, "
              f"{args.old_epochs} epochs")
        old = 0
        for seed in args.seeds:
            config = TrainConfig.for_model(
                "vae", ensemble=args.members, seed=seed, epochs=args.old_epochs,
                learning_rate=1.0, batch_size=128, on_divergence="drop",
            )
            old += health(rows, config, f"seed {seed}, lr 1.0")
        print(f"  diverged members at lr 1.0: {old} of {total}")
    print("\n2. Training speed (rows·epochs/s)")
    if not args.skip_table:
        speed(rows, args.speed_epochs)
    print(f"\n3. What each step buys: 20 members, batch 1000, compiled, {args.speed_epochs} "
          f"epochs, median of {args.rounds} alternating rounds (rows·epochs/s)")
    ablation(rows, args.speed_epochs, args.rounds)
    if args.reference_src is not None:
        print(f"\n4. Against the code at {args.reference_src}: its 20 members one after another "
              f"at batch 128 / this code's 20 stacked and compiled at batch 1000, "
              f"{args.speed_epochs} epochs each")
        against_reference(rows, args.reference_src, args.speed_epochs, args.rounds)


if __name__ == "__main__":
    main()
