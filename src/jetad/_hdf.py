"""The field's pandas HDF5 tables (LHC Olympics, Top Tagging) as PFNano-like ROOT: reading them
block by block, with one line naming the file when it is not one, and writing the blocks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import awkward as ak
import numpy as np

from jetad._errors import one_line
from jetad._extras import require

__all__ = ["block_ranges", "hdf_frame", "hdf_rows", "table_branches", "write_table"]


def _key(store, path: Path) -> str:
    """The file's one table. A table stored under the key ``table`` (the Top Tagging files)
    also lists the root group ``/``, which is not a second table."""
    keys = [key for key in store.keys() if key != "/"]
    if len(keys) != 1:
        raise ValueError(f"{str(path)!r} holds tables {keys}; expected one")
    return keys[0]


def hdf_frame(path: Path, start: int, stop: int | None, what: str):
    """Rows ``start:stop`` of the file's one pandas table (``what`` names the layout)."""
    pd = require("pandas", f"reading {what}")
    try:
        with pd.HDFStore(path, mode="r") as store:
            return store.select(_key(store, path), start=start, stop=stop)
    except ValueError:
        raise
    except Exception as err:  # pandas and PyTables raise many types for a bad file
        raise ValueError(f"cannot read {str(path)!r} as {what}: {one_line(err)}") from None


def hdf_rows(path: Path, what: str) -> int:
    """The number of rows of the file's one pandas table."""
    pd = require("pandas", f"reading {what}")
    try:
        with pd.HDFStore(path, mode="r") as store:
            storer = store.get_storer(_key(store, path))
            # "fixed" frames (the published files) know their shape, "table" ones their rows
            rows = getattr(storer, "nrows", None)
            return int(rows if rows is not None else storer.shape[0])
    except ValueError:
        raise
    except Exception as err:
        raise ValueError(f"cannot read {str(path)!r} as {what}: {one_line(err)}") from None


def block_ranges(
    path: Path, what: str, block_size: int, max_events: int | None
) -> Iterator[tuple[int, int, int]]:
    """``(block, start, stop)`` of every ``block_size`` rows of the file's table (at most
    ``max_events``)."""
    total = hdf_rows(Path(path), what)
    if max_events is not None:
        total = min(total, max_events)
    for block, start in enumerate(range(0, total, block_size)):
        yield block, start, min(start + block_size, total)


def table_branches(
    block: int, start: int, particles: ak.Array, fatjets: ak.Array, index: ak.Array,
    label: np.ndarray,
) -> dict:
    """NanoAOD-like branches of one block of table rows from ``start``: ``run`` 1,
    ``luminosityBlock`` (the block, from 1), ``event`` (the row, from 1), ``genWeight`` 1,
    ``PFCands``, ``FatJet`` with their ``FatJetPFCands`` links (``index``: events × jets ×
    constituents) and ``Truth_label``."""
    from jetad.generate.reconstruction import constituent_links, event_ids

    return {
        **event_ids(len(particles), block, start),
        "PFCands": particles,
        "FatJet": fatjets,
        "FatJetPFCands": constituent_links(index),
        "Truth_label": label,
    }


def write_table(blocks: Iterable[dict], output: str | Path) -> int:
    """Write :func:`table_branches` blocks to ``output`` (atomically) with a ``Runs`` tree of
    unit weights; returns the number of events written."""
    from jetad.generate.nanoaod import write_events

    written = 0

    def counted():
        nonlocal written
        for block in blocks:
            written += len(block["event"])
            yield block

    def runs():
        return {
            "run": np.array([1], dtype=np.uint32),
            "genEventCount": np.array([written], dtype=np.int64),
            "genEventSumw": np.array([float(written)]),
            "genEventSumw2": np.array([float(written)]),
        }

    write_events(Path(output), counted(), runs)
    return written
