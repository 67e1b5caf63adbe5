"""Reading the field's pandas HDF5 tables (LHC Olympics, Top Tagging) block by block, with one
line naming the file when it is not one."""

from __future__ import annotations

from pathlib import Path

from jetad._errors import one_line
from jetad._extras import require

__all__ = ["hdf_frame", "hdf_rows"]


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
