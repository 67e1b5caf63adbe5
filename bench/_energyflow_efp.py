"""Run by ``bench/observables.py --energyflow-python PY`` in a separate environment that has
energyflow (it pins numpy < 2, so it is never a jetad dependency).

    PY _energyflow_efp.py JETS.npz OUT.npz

Reads the jets' constituents (``counts``, ``pt``, ``rap``, ``phi``), computes every EFP with
d ≤ 5 (hadronic measure: z = pT/ΣpT, θ = (Δy² + Δφ²)^(β/2), β = 1) with
``energyflow.EFPSet.batch_compute`` on one process, and writes the values, energyflow's graph
of each column and the wall time.
"""

import sys
import time

import energyflow as ef
import numpy as np


def main() -> None:
    source, target = sys.argv[1:3]
    data = np.load(source)
    offsets = np.concatenate([[0], np.cumsum(data["counts"])])
    columns = np.column_stack([data["pt"], data["rap"], data["phi"]])
    jets = [columns[offsets[k] : offsets[k + 1]] for k in range(len(data["counts"]))]
    efps = ef.EFPSet("d<=5", measure="hadr", beta=1.0, normed=True, coords="ptyphim")
    efps.batch_compute(jets[:5], n_jobs=1)  # warm-up (einsum paths)
    start = time.perf_counter()
    values = efps.batch_compute(jets, n_jobs=1)
    seconds = time.perf_counter() - start
    edges = np.array([repr([tuple(map(int, e)) for e in g]) for g in efps.graphs()])
    np.savez(target, values=values, seconds=seconds, edges=edges, version=ef.__version__)


if __name__ == "__main__":
    main()
