"""Epoch-selection and health rules, as pure functions of a validation history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["DIVERGENCE_FACTOR", "choose_epoch", "divergence", "kl_peak_epoch", "min_epoch"]

#: A loss that grows beyond this many times its value at initialisation has diverged.
DIVERGENCE_FACTOR = 100.0


def kl_peak_epoch(kl: Sequence[float], rise: int = 5, fall: int = 5) -> int | None:
    """The KL-peak epoch of Bortolato et al., or None while no peak is established.

    A peak is established once the validation KL has risen for at least ``rise`` consecutive
    epochs and then fallen for at least ``fall`` consecutive epochs; the chosen epoch is the
    one with the largest KL up to that point (0-based). A non-finite value breaks a run.
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
                return int(np.nanargmax(kl[: i + fall + 1]))
        run_up = 0
    return None


def min_epoch(values: Sequence[float]) -> int:
    """The epoch (0-based) with the smallest finite value, the first one on ties."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("no finite value in the history")
    return int(np.argmin(np.where(finite, values, np.inf)))


def _finite_epochs(history: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Epochs at which every recorded metric is finite."""
    columns = [np.asarray(v, dtype=float) for v in history.values()]
    return np.all(np.isfinite(np.vstack(columns)), axis=0)


def choose_epoch(model: str, history: Mapping[str, Sequence[float]]) -> tuple[int, str]:
    """The epoch to keep and the name of the rule that chose it; never a non-finite epoch.

    - ``vae``: ``kl_peak`` (Bortolato et al.); while no peak is established,
      ``min_val_loss``: the smallest validation loss among finite epochs;
    - ``wnae``: ``min_val_emd`` (Eble); ``nae``: ``last_finite`` (no well-defined optimum);
    - every other model: ``min_val_loss``.

    Raises ValueError when no epoch has every metric finite.
    """
    finite = _finite_epochs(history)
    if not finite.any():
        raise ValueError("no epoch with every validation metric finite")
    masked = {k: np.where(finite, np.asarray(v, dtype=float), np.nan) for k, v in history.items()}
    if model == "vae":
        peak = kl_peak_epoch(masked["val_kl"])
        if peak is not None and finite[peak]:
            return peak, "kl_peak"
    if model == "wnae":
        return min_epoch(masked["val_emd"]), "min_val_emd"
    if model == "nae":
        return int(np.flatnonzero(finite)[-1]), "last_finite"
    return min_epoch(masked["val_loss"]), "min_val_loss"


def divergence(
    train_loss: float, validation: Mapping[str, float], reference: float,
    factor: float = DIVERGENCE_FACTOR,
) -> str | None:
    """Why an epoch counts as diverged, or None when it is healthy.

    An epoch has diverged when its training loss or any validation metric is not finite, or
    when ``|training loss|`` exceeds ``factor`` × ``|reference|``, the validation loss at
    initialisation (floored at 1, so losses near zero are not flagged).
    """
    bad = [k for k, v in {"train_loss": train_loss, **validation}.items() if not np.isfinite(v)]
    if bad:
        return f"{bad[0]} is {train_loss if bad[0] == 'train_loss' else validation[bad[0]]}"
    limit = factor * max(abs(reference), 1.0)
    if abs(train_loss) > limit:
        return f"train_loss {train_loss:.3g} > {factor:g}x the initial {reference:.3g}"
    return None
