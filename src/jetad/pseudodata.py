"""Pseudo-data: a background sample with a signal injected at a chosen S/B.

The LHC-Olympics recipe: take every event of the background file (e.g. ``qcd_dijet``) and
add ``round(s_over_b × N_background)`` events drawn at random, without replacement, from the
signal file (e.g. ``wprime_xy``), then shuffle. The result is a NanoAOD-like file that the
processors read like data:

- ``genWeight`` is 1 for every event (unweighted pseudo-data; give the fileset entry no
  ``xsec`` so that it weighs 1 per event);
- ``event`` is renumbered 1…N in the shuffled order (``run`` and ``luminosityBlock`` are 1);
- ``Truth_label`` (1 signal, 0 background) and ``Truth_process`` are kept, so every analysis
  step can still be evaluated against the truth.

S/B counts events before any selection, as in the LHCO R&D dataset.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

from jetad.generate import check_output_path
from jetad.generate.nanoaod import read_events, write_events

__all__ = ["InjectionSummary", "inject_signal"]


@dataclass(frozen=True)
class InjectionSummary:
    """What :func:`inject_signal` wrote: the counts and the files, for the fileset metadata."""

    output: str
    background: str
    signal: str
    s_over_b: float
    n_background: int
    n_signal: int
    seed: int

    def metadata(self) -> dict:
        """Fileset metadata of the pseudo-data (no ``xsec``: every event weighs 1)."""
        fields = {k: v for k, v in asdict(self).items() if k != "output"}
        nevents = self.n_background + self.n_signal
        return {"process": "pseudodata", "label": -1, "nevents": nevents, **fields}


def inject_signal(
    background: str | os.PathLike,
    signal: str | os.PathLike,
    s_over_b: float,
    output: str | os.PathLike,
    seed: int = 1,
) -> InjectionSummary:
    """Write ``output``: all of ``background`` plus ``s_over_b × N_b`` events of ``signal``.

    Raises:
        ValueError: for a negative S/B, for files without the same branches (naming them),
            or when the signal file has too few events (naming it and both counts).
    """
    if s_over_b < 0:
        raise ValueError(f"S/B must be non-negative, got {s_over_b}")
    path = check_output_path(output)
    bkg, sig = read_events(background), read_events(signal)
    if set(bkg) != set(sig):
        raise ValueError(
            f"{signal} and {background} have different branches: {sorted(set(bkg) ^ set(sig))}"
        )
    n_background, n_available = len(bkg["event"]), len(sig["event"])
    n_signal = round(s_over_b * n_background)
    if n_signal > n_available:
        raise ValueError(
            f"S/B = {s_over_b} needs {n_signal} signal events but {signal} has {n_available}"
        )
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n_available, size=n_signal, replace=False))
    order = rng.permutation(n_background + n_signal)
    mixed = {name: ak.concatenate([bkg[name], sig[name][chosen]])[order] for name in bkg}
    total = len(order)
    mixed["event"] = np.arange(1, total + 1, dtype=np.uint64)
    mixed["run"] = np.ones(total, dtype=np.uint32)
    mixed["luminosityBlock"] = np.ones(total, dtype=np.uint32)
    mixed["genWeight"] = np.ones(total, dtype=np.float32)

    def runs() -> dict[str, np.ndarray]:
        return {
            "run": np.array([1], dtype=np.uint32),
            "genEventCount": np.array([total], dtype=np.int64),
            "genEventSumw": np.array([float(total)]),
        }

    write_events(path, [mixed], runs)
    return InjectionSummary(
        output=str(path), background=str(background), signal=str(signal), s_over_b=s_over_b,
        n_background=n_background, n_signal=n_signal, seed=seed,
    )  # fmt: skip
