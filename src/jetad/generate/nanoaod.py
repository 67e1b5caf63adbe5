"""Writing NanoAOD-like ``Events`` and ``Runs`` TTrees with uproot, atomically.

uproot 5.7's ``file[name] = {...}`` writes an RNTuple, which NanoAOD readers do not expect,
so the trees are made with ``mktree`` and filled with ``extend``, one block at a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from jetad._errors import one_line

__all__ = ["read_events", "write_events"]

COMPRESSION = uproot.ZLIB(6)


def _branch_types(block: Mapping[str, ak.Array | np.ndarray]) -> dict:
    return {name: ak.type(ak.Array(array)).content for name, array in block.items()}


def write_events(
    path: Path,
    blocks: Iterable[Mapping[str, ak.Array | np.ndarray]],
    runs: Callable[[], Mapping[str, np.ndarray]],
) -> float:
    """Write ``blocks`` to the ``Events`` tree and ``runs()`` to ``Runs`` of ``path``.

    The file is written as ``.<name>.<pid>.tmp.root`` beside ``path`` and renamed onto it only
    once complete; on any error the temporary file is removed. ``runs`` is called after the
    last block, so it may summarise them (cross-section, event counts).

    Returns:
        The seconds spent writing, not counting the time spent producing the blocks.
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.root")
    seconds = 0.0
    try:
        with uproot.recreate(tmp, compression=COMPRESSION) as file:
            tree = None
            for block in blocks:
                start = time.perf_counter()
                if tree is None:
                    tree = file.mktree("Events", _branch_types(block), title="Events")
                tree.extend(dict(block))
                seconds += time.perf_counter() - start
            start = time.perf_counter()
            run_branches = dict(runs())
            runs_tree = file.mktree("Runs", {k: v.dtype for k, v in run_branches.items()})
            runs_tree.extend(run_branches)
            seconds += time.perf_counter() - start
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return seconds


def read_events(path: str | os.PathLike) -> dict[str, ak.Array]:
    """The ``Events`` tree of a NanoAOD-like file as :func:`write_events` blocks: jagged
    branches ``X_*`` counted by ``nX`` regrouped into one record array ``X``, other branches
    as they are. ``write_events(path, [read_events(src)], ...)`` copies the tree.

    Raises:
        ValueError: naming the file when it cannot be read.
    """
    try:
        with uproot.open(path) as file:
            arrays = file["Events"].arrays(how=dict)
    except Exception as err:  # uproot raises many types for a bad file
        raise ValueError(f"cannot read {str(path)!r}: {one_line(err)}") from None
    counters = {name[1:] for name in arrays if name.startswith("n") and name[1:]}
    block, collections = {}, {}
    for name, array in arrays.items():
        prefix, sep, field = name.partition("_")
        if sep and prefix in counters and array.ndim == 2:
            collections.setdefault(prefix, {})[field] = array
        elif not (name.startswith("n") and name[1:] in counters):
            block[name] = array
    block.update({name: ak.zip(fields) for name, fields in collections.items()})
    return block
