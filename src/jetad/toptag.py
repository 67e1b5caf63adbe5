"""The Top Tagging reference dataset as PFNano-like ROOT, so every jetad processor reads it.

Kasieczka, Plehn et al., "The Machine Learning Landscape of Top Taggers" (arXiv:1902.09914),
Zenodo 2603256: ``train.h5``, ``val.h5``, ``test.h5`` hold one pandas table each, a row per
jet (pT 550–650 GeV, |η| < 2, R = 0.8; tops from tt̄, QCD light-quark and gluon jets) with up
to 200 constituents as ``E_i, PX_i, PY_i, PZ_i`` (GeV, ordered by pT, zero-padded) and the
label ``is_signal_new`` (1 top, 0 QCD); the truth-top columns (``truthE``…, ``ttv``) are not
needed. :func:`convert_toptag` writes, block by block:

- ``PFCands``: the constituents (pT, η, φ, mass from the four-momenta; ``charge`` and
  ``pdgId`` 0: the table records neither);
- ``FatJet``: **one jet per event**, the sum of its constituents (pT, η, φ, mass, float32, and
  ``nConstituents``), linked to them through ``FatJetPFCands`` (``jetIdx``, ``pFCandsIdx``) as
  in PFNano: the published jet, not a reclustering;
- ``run``, ``luminosityBlock`` (the block), ``event`` (the row, from 1), ``genWeight`` = 1 and
  ``Truth_label`` (``is_signal_new``); a ``Runs`` tree with the event count.

To use the real set: download ``test.h5`` (404k jets) from https://zenodo.org/records/2603256
and run ``jetad convert toptag test.h5 toptag.root``; every jet-level feature set and model
then reads ``toptag.root`` like a generated file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from jetad._hdf import block_ranges, hdf_frame, table_branches, write_table

__all__ = ["convert_toptag", "read_toptag", "toptag_blocks"]

#: How error messages name the layout.
LAYOUT = "a Top Tagging HDF5 table"
COMPONENTS = ("E", "PX", "PY", "PZ")


def read_toptag(path: str | Path, start: int = 0, stop: int | None = None):
    """Constituents and labels of rows ``start:stop``.

    Returns:
        ``constituents``: ``events × constituents`` with ``pt, eta, phi, mass`` (float32,
        GeV) and ``charge``, ``pdgId`` (0: unknown), the zero padding removed; ``label``:
        int32 per event (``is_signal_new``).

    Raises:
        ValueError: naming the file and the missing columns when the layout is not the set's.
    """
    from jetad.kinematics import ptetaphim

    path = Path(path)
    frame = hdf_frame(path, start, stop, LAYOUT)
    n = sum(1 for column in frame.columns if str(column).startswith("E_"))
    needed = [f"{c}_{i}" for i in range(n) for c in COMPONENTS] + ["is_signal_new"]
    missing = [c for c in needed if c not in frame.columns]
    if n == 0 or missing:
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        raise ValueError(
            f"{str(path)!r} is not {LAYOUT}: missing column(s) "
            f"{shown or 'E_0'} (expected E_i, PX_i, PY_i, PZ_i per constituent and "
            "is_signal_new)"
        )
    e, px, py, pz = (frame[[f"{c}_{i}" for i in range(n)]].to_numpy(np.float64)
                     for c in COMPONENTS)  # fmt: skip
    present = e > 0
    kinematics = ptetaphim(px[present], py[present], pz[present], e[present])
    unknown = np.zeros(int(present.sum()), dtype=np.int32)
    fields = {k: v.astype(np.float32) for k, v in kinematics.items()}
    constituents = ak.unflatten(
        ak.zip({**fields, "charge": unknown, "pdgId": unknown}), present.sum(axis=1)
    )
    return constituents, frame["is_signal_new"].to_numpy().astype(np.int32)


def _jets(constituents: ak.Array) -> tuple[ak.Array, ak.Array]:
    """One FatJet per event, the four-momentum sum of all its constituents, and its links."""
    from jetad.kinematics import four_momenta, ptetaphim

    p = four_momenta(constituents)
    total = {c: ak.to_numpy(ak.sum(p[c], axis=1)) for c in ("px", "py", "pz", "E")}
    record = {k: v.astype(np.float32)
              for k, v in ptetaphim(total["px"], total["py"], total["pz"], total["E"]).items()}
    record["nConstituents"] = ak.to_numpy(ak.num(constituents, axis=1)).astype(np.int32)
    jets = ak.unflatten(ak.zip(record), np.ones(len(constituents), dtype=np.int64))
    index = ak.unflatten(ak.local_index(constituents, axis=1), 1, axis=0)  # events × 1 × n
    return jets, index


def toptag_blocks(
    path: str | Path, block_size: int = 10_000, max_events: int | None = None
) -> Iterator[dict]:
    """NanoAOD-like branches (see the module) of every ``block_size`` rows."""
    for block, start, stop in block_ranges(path, LAYOUT, block_size, max_events):
        constituents, label = read_toptag(path, start, stop)
        empty = ak.to_numpy(ak.num(constituents, axis=1) == 0)
        if empty.any():
            row = start + int(np.argmax(empty))
            raise ValueError(f"{str(path)!r}: row {row} has no constituent (all E_i are 0)")
        fatjets, index = _jets(constituents)
        yield table_branches(block, start, constituents, fatjets, index, label)


def convert_toptag(
    source: str | Path,
    output: str | Path,
    block_size: int = 10_000,
    max_events: int | None = None,
) -> int:
    """Write the Top Tagging table ``source`` as a PFNano-like ROOT file ``output``
    (atomically). Returns the number of jets (events) written."""
    return write_table(toptag_blocks(source, block_size, max_events), output)
