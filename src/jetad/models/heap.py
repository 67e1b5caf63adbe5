"""Training's temporaries kept in the heap instead of handed back to the OS after each step.

A stacked training step allocates and frees the same few dozen tensors of a few MB each
(``(members, batch, 64)`` activations and their gradients). glibc's malloc serves blocks that
large with ``mmap`` and gives them back on ``free`` (or trims them off the heap's top), so
every step touches fresh pages and takes a page fault per 4 KiB: measured on this project's
2-core machine, a compiled 20-member training at batch 1000 is 1.12–1.16× slower without
it (``python bench/training.py --skip-health``, section 3). Known in the
field (ptmalloc's minor faults on the large chunks of deep-learning steps); the usual cure is
to preload jemalloc or tcmalloc, which a Python package cannot do for its user.

:func:`kept_heap` is the in-process equivalent: for the duration of the block, glibc's
``mallopt`` keeps blocks up to 32 MiB in the heap and trims it only above 1 GiB, so freed
blocks are reused. On leaving, ``malloc_trim`` hands the free memory back, and the thresholds
are those glibc's own adaptation reaches once a 32 MiB block has been freed (mmap above
32 MiB, trim above 64 MiB). ``mallopt`` cannot hand the adaptation back, and its fixed
defaults (128 KiB) would be worse than leaving: every later block above 128 KiB would be
mapped and faulted afresh, which made the EFPs of 11,790 jets computed after a training 3×
slower (11.4 s against 3.7 s in a fresh process; 3.5 s with these thresholds). Elsewhere than
glibc (macOS, musl) it does nothing.
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
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX)
_KEPT_TRIM_THRESHOLD = 1024 * 1024 * 1024
_ADAPTED_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD  # glibc's adaptation: twice the mmap threshold


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
        kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                    and libc.mallopt(_M_TRIM_THRESHOLD, _KEPT_TRIM_THRESHOLD))  # fmt: skip
    _depth[0] += 1
    try:
        yield kept
    finally:
        _depth[0] -= 1
        if libc is not None and outermost:
            libc.mallopt(_M_TRIM_THRESHOLD, _ADAPTED_TRIM_THRESHOLD)
            libc.malloc_trim(0)
