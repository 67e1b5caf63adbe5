"""Epoch-selection rules, as pure functions of a validation history."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["kl_peak_epoch", "min_epoch"]


def kl_peak_epoch(kl: Sequence[float], rise: int = 5, fall: int = 5) -> int | None:
    """The KL-peak epoch of Bortolato et al., or None while no peak is established.

    A peak is established once the validation KL has risen for at least ``rise`` consecutive
    epochs and then fallen for at least ``fall`` consecutive epochs; the chosen epoch is the
    one with the largest KL up to that point (0-based).
    """
    kl = np.asarray(kl, dtype=float)
    steps = np.sign(np.diff(kl))
    run_up = 0
    for i, step in enumerate(steps):
        if step > 0:
            run_up += 1
            continue
        if run_up >= rise:
            falling = steps[i : i + fall]
            if len(falling) == fall and np.all(falling < 0):
                return int(np.argmax(kl[: i + fall + 1]))
        run_up = 0
    return None


def min_epoch(values: Sequence[float]) -> int:
    """The epoch (0-based) with the smallest value, the first one on ties (e.g. min EMD)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        raise ValueError("no finite value in the history")
    return int(np.nanargmin(values))
