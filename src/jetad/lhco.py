"""The LHC Olympics 2020 R&D set as PFNano-like ROOT, so every jetad processor reads it.

The R&D files (``events_anomalydetection*.h5``, Zenodo 4536377) hold one pandas table per file:
a row per event with up to 700 hadrons as (pT [GeV], η, φ) triplets, zero-padded, and the truth
label (1 for the W′ → X(qq)Y(qq) signal, 0 for QCD) in the last column. :func:`convert_lhco`
writes, block by block:

- ``PFCands``: the hadrons (pT, η, φ; mass 0, ``charge`` and ``pdgId`` 0: the table records
  none of them, and coffea's PF-candidate behaviour needs ``charge``; features that count
  charged hadrons are not defined on this set);
- ``FatJet``: anti-kT R = 1.0 jets of them above ``FATJET_PTMIN`` (fastjet), with their
  constituents linked through ``FatJetPFCands`` (``jetIdx``, ``pFCandsIdx``) as in PFNano;
- ``run``, ``luminosityBlock`` (the block), ``event`` (the row, from 1), ``genWeight`` = 1 and
  ``Truth_label``; a ``Runs`` tree with the event count.

To use the real set: download ``events_anomalydetection_v2.h5`` (1.1M events) from
https://zenodo.org/records/4536377 and run ``jetad convert lhco events_anomalydetection_v2.h5
lhco.root``; then ``jetad train`` / ``jetad run`` read ``lhco.root`` like any generated file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from jetad._hdf import block_ranges, hdf_frame, table_branches, write_table

__all__ = ["FATJET_PTMIN", "LHCO_RADIUS", "convert_lhco", "lhco_blocks", "read_lhco"]

#: The R&D set's jets: anti-kT R = 1.0.
LHCO_RADIUS = 1.0
#: FatJet pT threshold (GeV); the set was made with a 1.2 TeV single-jet trigger.
FATJET_PTMIN = 20.0


#: How error messages name the layout.
LAYOUT = "an LHC Olympics HDF5 table"


def _table(path: Path, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of the file's one pandas table, as a float64 matrix."""
    values = hdf_frame(path, start, stop, LAYOUT).to_numpy(dtype=np.float64)
    if values.ndim != 2 or values.shape[1] % 3 != 1:
        raise ValueError(
            f"{str(path)!r} has {values.shape[-1]} columns; the LHC Olympics layout has "
            "3 × (hadrons) + 1: (pT, η, φ) per hadron, then the label"
        )
    return values


def read_lhco(path: str | Path, start: int = 0, stop: int | None = None):
    """Hadrons and labels of rows ``start:stop``.

    Returns:
        ``hadrons``: ``events × hadrons`` with ``pt, eta, phi, mass`` (float32, GeV; mass 0)
        and ``charge``, ``pdgId`` (0: unknown), the zero padding removed; ``label``: int32 per
        event.
    """
    values = _table(Path(path), start, stop)
    triplets = values[:, :-1].reshape(len(values), -1, 3)
    present = triplets[:, :, 0] > 0
    flat = triplets[present].astype(np.float32)
    counts = present.sum(axis=1)
    unknown = np.zeros(len(flat), dtype=np.int32)
    hadrons = ak.unflatten(
        ak.zip({"pt": flat[:, 0], "eta": flat[:, 1], "phi": flat[:, 2],
                "mass": np.zeros(len(flat), dtype=np.float32),
                "charge": unknown, "pdgId": unknown}),
        counts,
    )  # fmt: skip
    return hadrons, values[:, -1].astype(np.int32)


def lhco_blocks(
    path: str | Path, block_size: int = 10_000, max_events: int | None = None
) -> Iterator[dict]:
    """NanoAOD-like branches (see the module) of every ``block_size`` rows."""
    from jetad.clustering import cluster

    for block, start, stop in block_ranges(path, LAYOUT, block_size, max_events):
        hadrons, label = read_lhco(path, start, stop)
        fatjets, index = cluster(hadrons, LHCO_RADIUS, FATJET_PTMIN)
        yield table_branches(block, start, hadrons, fatjets, index, label)


def convert_lhco(
    source: str | Path,
    output: str | Path,
    block_size: int = 10_000,
    max_events: int | None = None,
) -> int:
    """Write the R&D table ``source`` as a PFNano-like ROOT file ``output`` (atomically).

    Returns:
        The number of events written.
    """
    return write_table(lhco_blocks(source, block_size, max_events), output)
