"""Scoring speed: jets/s through coffea's torch_wrapper, against the bare TorchScript model.

    python bench/scoring.py [--jets 200000] [--batch-size 10000]

Trains a small AE on the svj8 features of the committed tt̄ fixture, replicates the fixture's
jets to ``--jets`` rows, and scores them in chunks of ``--batch-size`` jets (events × jets
tables, as a processor sees them) with :class:`jetad.scoring.AnomalyScorer`, on the GPU when
one is present (torch_wrapper picks it by itself) and otherwise on the CPU. The reference is
the same TorchScript model called on a ready float32 matrix, so the ratio is the cost of the
awkward → numpy → torch round trip.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np
import torch

from jetad.datasets import open_events
from jetad.features import FEATURE_SETS, feature_matrix
from jetad.models import TrainConfig, export, train
from jetad.scoring import AnomalyScorer

FIXTURE = Path(__file__).parents[1] / "datasets" / "fixtures" / "ttbar.root"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    svj8 = FEATURE_SETS["svj8"]
    table = svj8(open_events(FIXTURE))
    rows = feature_matrix(ak.flatten(table), svj8.names)
    rows = rows[np.all(np.isfinite(rows), axis=1)]
    trained = train(
        rows,
        TrainConfig(
            model="ae",
            epochs=2,
            latent=3,
            hidden=(10, 10, 6),
            preprocessing="quantile",
            optimizer="adam",
            learning_rate=1e-3,
        ),
    )
    events_per_chunk = max(1, int(args.batch_size / (ak.sum(ak.num(table)) / len(table))))
    reps = int(np.ceil(events_per_chunk / len(table)))
    chunk = ak.concatenate([table] * reps)[:events_per_chunk]
    jets_per_chunk = int(ak.sum(ak.num(chunk)))
    n_chunks = max(1, args.jets // jets_per_chunk)
    matrix = np.resize(rows, (jets_per_chunk, rows.shape[1])).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = export(trained, Path(tmp) / "ae.pt", "svj8", svj8.names)
        scorer = AnomalyScorer(path, feature_set="svj8")
        scorer(chunk)
        device = str(scorer.device)  # torch_wrapper takes the GPU when there is one
        model = torch.jit.load(str(path)).to(device).eval()
        print(f"{n_chunks} chunks of {jets_per_chunk} jets ({len(chunk)} events)")
        print(f"{'device':8s} {'torch_wrapper':>18s} {'bare TorchScript':>18s} {'ratio':>7s}")
        start = time.perf_counter()
        for _ in range(n_chunks):
            scorer(chunk)
        wrapped = n_chunks * len(matrix) / (time.perf_counter() - start)
        tensor_input = torch.from_numpy(matrix)
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(n_chunks):
                model(tensor_input.to(device)).cpu()
        bare = n_chunks * len(matrix) / (time.perf_counter() - start)
        print(f"{device:8s} {wrapped:12.0f} jets/s {bare:12.0f} jets/s {wrapped / bare:6.2f}x")


if __name__ == "__main__":
    main()
