"""Training's temporaries kept in the heap instead of handed back to the OS after each step.

A stacked training step allocates and frees the same few dozen tensors of a few MB each
(``(members, batch, 64)`` activations and their gradients). glibc's malloc serves blocks that
large with ``mmap`` and gives them back on ``free`` (or trims them off the heap's top), so
every step touches fresh pages and takes a page fault per 4 KiB: measured on this project's
2-core machine, about a quarter of a compiled 20-member step at batch 1000 (``python
bench/training.py --skip-health``, section 3: 1.29–1.40× slower without it). Known in the
field (ptmalloc's minor faults on the large chunks of deep-learning steps); the usual cure is
to preload jemalloc or tcmalloc, which a Python package cannot do for its user.

:func:`kept_heap` is the in-process equivalent: for the duration of the block, glibc's
``mallopt`` keeps blocks up to 32 MiB in the heap and trims it only above 1 GiB, so freed
blocks are reused. On leaving, glibc's default thresholds (128 KiB, now fixed instead of
adaptive: ``mallopt`` cannot restore the adaptation) are set again and ``malloc_trim`` hands
the free memory back. Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
from collections.abc import Iterator

__all__ = ["kept_heap"]

#: ``mallopt`` parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_DEFAULT = 128 * 1024
_KEPT_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed (HEAP_MAX_SIZE / 2)
_KEPT_TRIM_THRESHOLD = 1024 * 1024 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - present in glibc only
        return libc
    except (OSError, AttributeError, TypeError):
        return None


_depth = [0]  # kept_heap blocks open now: malloc's settings are the process's own


@contextlib.contextmanager
def kept_heap() -> Iterator[bool]:
    """Keep freed blocks of up to 32 MiB in the heap for reuse inside the block; yields
    whether it could (glibc only). A block inside another changes nothing."""
    libc = _glibc()
    outermost = _depth[0] == 0
    kept = libc is not None
    if kept and outermost:
        kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, _KEPT_MMAP_THRESHOLD)
                    and libc.mallopt(_M_TRIM_THRESHOLD, _KEPT_TRIM_THRESHOLD))  # fmt: skip
    _depth[0] += 1
    try:
        yield kept
    finally:
        _depth[0] -= 1
        if libc is not None and outermost:
            libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT)
            libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_DEFAULT)
            libc.malloc_trim(0)
