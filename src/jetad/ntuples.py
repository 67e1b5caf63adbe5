"""Flat ntuples of features and anomaly scores for production jobs, one file per input chunk.

:func:`ntuple_rows` turns a chunk of events into flat rows:

- event-level feature sets (``lhco``, ``hlt21``…) give one row per input event, with
  ``selected`` False and NaN features for events that fail the set's preselection, so an
  ntuple always holds exactly the input's events;
- jet-level sets (``svj8``…) give one row per FatJet, with its ``jet_index``.

Every row carries ``run``, ``luminosityBlock``, ``event``, ``genWeight`` (1 for data),
``label`` (``Truth_label`` of jetad samples: 1 signal, 0 background; −1 when absent) and one
column ``MODEL_SCORE`` per model and score head.

Chunks are written by :func:`write_chunk` under a temporary name and renamed, so a chunk file
exists only when it is complete; :func:`chunk_path` names it after its input file and entry
range, so a rerun can see which chunks are done and skip them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import awkward as ak
import numpy as np

from jetad.datasets import event_weight
from jetad.features import FeatureSet

__all__ = [
    "FORMATS",
    "chunk_path",
    "chunk_rows",
    "ntuple_rows",
    "remove_partial_chunks",
    "write_chunk",
    "write_manifest",
]

FORMATS = ("parquet", "root")
TREE = "ntuple"


def ntuple_rows(events: ak.Array, feature_set: FeatureSet, scorers: Mapping) -> ak.Array:
    """Flat rows of identifiers, ``feature_set`` features and scores for ``events``.

    Args:
        scorers: ``{model name: jetad.scoring.AnomalyScorer}`` trained on ``feature_set``.
    """
    table = feature_set(events)
    columns = {
        "run": events.run,
        "luminosityBlock": events.luminosityBlock,
        "event": events.event,
        "genWeight": ak.values_astype(event_weight(events), np.float64),
        "label": events.Truth.label if "Truth" in events.fields else ak.full_like(events.run, -1),
    }
    for model, scorer in scorers.items():
        scores = scorer(table)
        for k, head in enumerate(scorer.score_names):
            columns[f"{model}_{head}"] = scores[..., k]
    if feature_set.level == "event":
        columns["selected"] = ~ak.is_none(table)
        features = {name: ak.fill_none(table[name], np.nan) for name in feature_set.names}
        return ak.zip({**columns, **features}, depth_limit=1)
    columns["jet_index"] = ak.local_index(table, axis=1)
    columns.update({name: table[name] for name in feature_set.names})
    jets = ak.zip(columns)  # broadcasts the event columns over the jets
    return ak.flatten(jets, axis=1)


def chunk_path(directory: str | os.PathLike, dataset: str, filename: str, start: int,
               stop: int, fmt: str) -> Path:  # fmt: skip
    """``DIRECTORY/DATASET/STEM-HASH_START-STOP.EXT`` for the entries [start, stop) of
    ``filename``; the hash of the full path keeps files of the same name apart."""
    digest = hashlib.sha1(filename.encode()).hexdigest()[:8]
    extension = {"parquet": "parquet", "root": "root"}[fmt]
    name = f"{Path(filename).stem}-{digest}_{start}-{stop}.{extension}"
    return Path(directory) / dataset / name


def write_chunk(rows: ak.Array, path: Path, fmt: str) -> Path:
    """Write ``rows`` to ``path`` (Parquet, or a ROOT TTree ``ntuple``), atomically."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown ntuple format {fmt!r}; valid: {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if fmt == "parquet":
        ak.to_parquet(rows, temporary)
    else:
        import uproot

        arrays = {name: ak.to_numpy(rows[name]) for name in rows.fields}
        with uproot.recreate(temporary) as file:
            file.mktree(TREE, {name: array.dtype for name, array in arrays.items()})
            file[TREE].extend(arrays)
    os.replace(temporary, path)
    return path


def chunk_rows(path: Path) -> int:
    """The number of rows of a finished chunk file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet

        return pyarrow.parquet.read_metadata(path).num_rows
    import uproot

    with uproot.open(path) as file:
        return file[TREE].num_entries


def write_manifest(directory: Path, chunks: Mapping[str, dict], **summary) -> Path:
    """``DIRECTORY/manifest.json``: every chunk's input range and counts, and their totals."""
    entries = dict(sorted(chunks.items()))
    manifest = {
        **summary,
        "events": sum(c["events"] for c in entries.values()),
        "rows": sum(c["rows"] for c in entries.values()),
        "chunks": entries,
    }
    path = directory / "manifest.json"
    temporary = path.with_name(".manifest.json.tmp")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, path)
    return path


def remove_partial_chunks(directory: Path) -> int:
    """Delete the temporary files an interrupted run left under ``directory``; their number."""
    partial = list(Path(directory).glob("*/.*.tmp-*"))
    for path in partial:
        path.unlink()
    return len(partial)
