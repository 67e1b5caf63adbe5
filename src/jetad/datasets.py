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

__all__ = ["load_fileset", "write_fileset"]


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
