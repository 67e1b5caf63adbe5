"""The generated samples the benches share, made once and cached in ``bench/.cache``.

A sample is named by process, event count, seed and fat-jet radius, so every bench that asks
for the same one reads the same file. Delete ``bench/.cache`` to regenerate. By hand:

    jetad generate qcd_dijet --events 100000 --seed 1 --jobs 2 \\
        --output bench/.cache/qcd_dijet_100000_seed1_R1.0.root
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent / ".cache"


def _tag(parameters: dict | None) -> str:
    return "".join(f"_{k}{v:g}" for k, v in sorted((parameters or {}).items()))


def sample(
    process: str,
    events: int,
    seed: int = 1,
    radius: float = 1.0,
    jobs: int = 2,
    parameters: dict | None = None,
) -> Path:
    """The path of a cached ``process`` sample (with card ``parameters``), generating it
    first when absent."""
    from jetad.generate import generate

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{process}{_tag(parameters)}_{events}_seed{seed}_R{radius:.1f}.root"
    if not path.exists():
        print(f"generating {events} {process} events into {path} ...", flush=True)
        generate(process, events, seed=seed, output=path, jobs=jobs, fatjet_radius=radius,
                 parameters=parameters)  # fmt: skip
    return path


def cached_rows(
    feature_set: str,
    process: str,
    events: int,
    seed: int = 1,
    radius: float = 1.0,
    parameters: dict | None = None,
    also: tuple[str, ...] = (),
) -> np.ndarray:
    """The finite rows of ``feature_set`` (then the ``also`` columns) on a cached sample, the
    events its selection keeps for event-level sets, themselves cached as .npy."""
    from jetad.datasets import feature_rows
    from jetad.features import get_feature_set

    name = f"{process}{_tag(parameters)}_{events}_seed{seed}_R{radius:.1f}"
    chosen = get_feature_set(feature_set)
    # The rows of a set with an event selection are the selected events (the processor's);
    # the name says so, so that rows cached before feature_rows applied it are not reused.
    selected = "_selected" if getattr(chosen, "selection", None) is not None else ""
    path = CACHE / f"{feature_set}{''.join('_' + a for a in also)}_rows{selected}_{name}.npy"
    if not path.exists():
        rows, _ = feature_rows(
            chosen,
            [sample(process, events, seed, radius, parameters=parameters)],
            also=also,
        )
        partial = path.with_suffix(".partial.npy")
        np.save(partial, np.ma.filled(rows.astype(np.float32), np.nan))
        partial.rename(path)
    return np.load(path)


def selected_rows(process: str, events: int, seed: int = 1, radius: float = 1.0) -> np.ndarray:
    """``lhco`` features and m_jj (the last column) of a cached sample's events that the dijet
    processor selects (``FEATURE_SETS["lhco"].selection``), themselves cached as .npy."""
    from jetad.datasets import feature_rows
    from jetad.features import FEATURE_SETS

    path = CACHE / f"lhco_mjj_selected_{process}_{events}_seed{seed}_R{radius:.1f}.npy"
    if not path.exists():
        rows, _ = feature_rows(FEATURE_SETS["lhco"], [sample(process, events, seed, radius)],
                               also=("mjj",))  # fmt: skip
        np.save(path, np.asarray(np.ma.filled(rows, np.nan)))
    return np.load(path)


#: (events, seed) of the generated QCD the search benches use: about 106k selected events, the
#: issue's "at least 100k after the selection".
SEARCH_QCD = ((100_000, 1), (130_000, 2))
#: ``SEARCH_QCD`` and 200k more of seed 3: about 198k selected events (``--large``).
LARGE_SEARCH_QCD = (*SEARCH_QCD, (200_000, 3))


def search_qcd(large: bool = False) -> np.ndarray:
    """The QCD of the search benches: the ``selected_rows`` of ``SEARCH_QCD`` (or, with
    ``large``, of ``LARGE_SEARCH_QCD``), concatenated."""
    chosen = LARGE_SEARCH_QCD if large else SEARCH_QCD
    return np.concatenate([selected_rows("qcd_dijet", n, seed=seed) for n, seed in chosen])
