"""Coffea filesets: ``{dataset: {"files": {path: "Events"}, "metadata": {...}}}``.

Paths in a fileset JSON written by jetad are relative to the JSON file's own directory, so a
fileset and its files can be moved together; :func:`load_fileset` makes them absolute.
Metadata carries ``process``, ``label`` (1 signal, 0 background), ``xsec`` (pb), ``nevents``
and ``seed``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from coffea.nanoevents import PFNanoAODSchema

from jetad._errors import one_line

__all__ = [
    "JetadSchema",
    "event_weight",
    "feature_rows",
    "generator_sums",
    "load_fileset",
    "open_events",
    "require_branches",
    "write_fileset",
]


class JetadSchema(PFNanoAODSchema):
    """coffea's ``PFNanoAODSchema``, quiet about cross-references to collections a file does
    not store (jetad's samples have no ``SV``, ``GenJet``, ``SubJet``…; skims often drop
    them too), and reading files without ``luminosityBlock`` (some skims drop it): no jetad
    analysis needs the event IDs, so coffea's check is a warning here, not an error.
    Everything else, the ``FatJet.constituents.pf`` links included, is unchanged."""

    warn_missing_crossrefs = False
    error_missing_event_ids = False


def load_fileset(path: str | os.PathLike) -> dict:
    """Read a fileset JSON and resolve relative file paths against its directory.

    Raises:
        ValueError: naming the file and the dataset when the layout is not coffea's.
    """
    path = Path(path)
    try:
        fileset = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read fileset {str(path)!r}: {err}") from None
    if not isinstance(fileset, dict):
        raise ValueError(f"fileset {str(path)!r} must map dataset names to entries")
    resolved = {}
    for dataset, entry in fileset.items():
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict):
            raise ValueError(
                f"dataset {dataset!r} in {str(path)!r} needs a 'files' mapping of path to tree"
            )
        resolved[dataset] = {
            **entry,
            "files": {_resolve(name, path.parent): tree for name, tree in files.items()},
            "metadata": dict(entry.get("metadata", {})),
        }
    return resolved


def _resolve(name: str, base: Path) -> str:
    if "://" in name or os.path.isabs(name):
        return name
    return str((base / name).resolve())


def write_fileset(fileset: dict, path: str | os.PathLike) -> Path:
    """Write ``fileset`` as JSON with local file paths made relative to ``path``'s directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = path.parent.resolve()
    relative = {
        dataset: {
            **entry,
            "files": {
                os.path.relpath(Path(name).resolve(), base) if "://" not in name else name: tree
                for name, tree in entry["files"].items()
            },
        }
        for dataset, entry in fileset.items()
    }
    path.write_text(json.dumps(relative, indent=2) + "\n")
    return path


def open_events(path: str | os.PathLike, mode: str = "eager"):
    """NanoEvents of one ROOT file's ``Events`` tree with :class:`JetadSchema`.

    Raises:
        ValueError: naming the file when it is missing, corrupt or not NanoAOD-like.
    """
    import warnings

    from coffea.nanoevents import NanoEventsFactory

    path = str(path)
    if "://" not in path and not os.path.exists(path):
        raise ValueError(f"cannot read {path!r}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Branch .* already exists")
            return NanoEventsFactory.from_root(
                {path: "Events"}, schemaclass=JetadSchema, mode=mode
            ).events()
    except Exception as err:  # uproot and coffea raise many types for a bad file
        raise ValueError(f"cannot read {path!r} as NanoAOD: {one_line(err)}") from None


def require_branches(events, needed: dict[str, tuple[str, ...]]) -> None:
    """Check that ``events`` has the NanoAOD collections and fields a step needs.

    Args:
        needed: ``{collection: fields}``, e.g. ``{"FatJet": ("pt", "eta"), "MET": ("pt",)}``;
            a collection with no fields is a plain branch such as ``genWeight``.

    Raises:
        ValueError: naming the file and every missing branch (``FatJet_msoftdrop``).
    """
    import awkward as ak

    from jetad._dask import is_dask

    # read the form, not the collections: coffea's behaviours fail on incomplete records
    form = events.form if is_dask(events) else events.layout.form
    missing = []
    for collection, fields in needed.items():
        if collection not in form.fields:
            missing.append(f"{collection}_*" if fields else collection)
            continue
        content = form.content(collection)
        while not isinstance(content, ak.forms.RecordForm) and hasattr(content, "content"):
            content = content.content
        present = content.fields if isinstance(content, ak.forms.RecordForm) else []
        missing += [f"{collection}_{f}" for f in fields if f not in present]
    if missing:
        filename = getattr(events, "metadata", {}).get("filename", "the input")
        raise ValueError(f"{filename}: missing branch(es) {', '.join(missing)}")


def event_weight(events):
    """``genWeight`` of simulated events, 1 for data (no ``genWeight`` branch)."""
    import awkward as ak

    if "genWeight" in events.fields:
        return events.genWeight
    return ak.ones_like(events.event, dtype=np.float64)


def _file_sumw(path: str) -> float | None:
    """Σ genEventSumw of one file's ``Runs`` tree, or None when it has none."""
    import uproot

    try:
        with uproot.open(path) as file:
            runs = file.get("Runs")
            if runs is None or "genEventSumw" not in runs:
                return None
            return float(np.sum(runs["genEventSumw"].array(library="np")))
    except Exception:  # an unreadable file is reported by the run itself, naming it
        return None


def generator_sums(fileset: dict) -> dict:
    """``fileset`` with ``metadata["sumw"]`` (Σ generator weights) from the files' ``Runs``
    trees, for every dataset with an ``xsec`` and no ``sumw`` yet.

    NanoAOD stores Σ genWeight before any skim as ``Runs/genEventSumw`` (jetad's generator
    writes it too); with negative weights (NLO samples) it is the normalisation, not the event
    count. When a file has no ``genEventSumw``, the dataset keeps its fileset ``nevents`` (as
    Σw) and a warning names the file.
    """
    import warnings

    completed = {}
    for dataset, entry in fileset.items():
        metadata = dict(entry.get("metadata", {}))
        if "xsec" in metadata and "sumw" not in metadata:
            sums = {path: _file_sumw(path) for path in entry["files"]}
            missing = [path for path, sumw in sums.items() if sumw is None]
            if missing:
                warnings.warn(
                    f"dataset {dataset!r}: {missing[0]} has no Runs/genEventSumw"
                    f"{f' (nor {len(missing) - 1} other files)' if len(missing) > 1 else ''}; "
                    f"normalising to the fileset's nevents ({metadata.get('nevents')})",
                    stacklevel=2,
                )
            else:
                metadata["sumw"] = sum(sums.values())
        completed[dataset] = {**entry, "metadata": metadata}
    return completed


def feature_rows(feature_set, paths, also: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    """The rows × features matrix of ``feature_set`` over the files ``paths``.

    Jet-level sets give one row per FatJet, event-level sets one per event that the feature
    set's selection keeps (the processor's). Rows with a non-finite feature are dropped and
    counted, never silently kept. ``also`` appends columns that are not model inputs (e.g.
    ``mjj``) after the features, from the same rows.

    Returns:
        The float64 matrix and a summary ``{"files", "rows", "dropped_nonfinite",
        "selection"}``.
    """
    import awkward as ak

    from jetad.features import feature_matrix

    matrices = []
    for path in paths:
        events = open_events(path)
        if feature_set.selection is not None:  # the processor's events, and only those,
            events = events[feature_set.selection.passed(events.FatJet)]  # before substructure
        table = feature_set(events, also=also)
        rows = ak.flatten(table, axis=1) if feature_set.level == "jet" else ak.drop_none(table)
        # None (masked) entries become NaN, then dropped and counted with the other
        # non-finite rows; a file with no selected event gives an empty plain array
        matrices.append(np.ma.filled(feature_matrix(rows, (*feature_set.names, *also)), np.nan))
    width = len(feature_set.names) + len(also)
    matrix = np.concatenate(matrices) if matrices else np.empty((0, width))
    finite = np.all(np.isfinite(matrix), axis=1)
    summary = {
        "files": [str(p) for p in paths],
        "rows": int(finite.sum()),
        "dropped_nonfinite": int((~finite).sum()),
        "selection": None if feature_set.selection is None else feature_set.selection.to_dict(),
    }
    return matrix[finite], summary
