"""Dispatch helpers for dask-awkward, which stays an optional import."""

from __future__ import annotations

__all__ = ["is_dask"]


def is_dask(array) -> bool:
    """Whether ``array`` is a dask-awkward collection (without importing dask if unused)."""
    return type(array).__module__.startswith("dask_awkward")
