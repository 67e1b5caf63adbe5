"""``jetad.generate``: Pythia 8 events through a parametric detector into PFNano-like ROOT files.

The chain for one block of events is

    Pythia card ──> truth particles ──> PF candidates ──> jets, leptons, MET ──> NanoAOD branches

and :func:`generate` runs blocks (in parallel when asked) and writes them in order to one
``Events`` TTree, so the file depends only on the process, its parameters, the event count and
the seed.

Example:
    >>> from jetad.generate import generate
    >>> summary = generate("qcd_dijet", n_events=100, seed=1, output="qcd.root")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetad.clustering import cluster
from jetad.generate.detector import Detector, invisible_momentum, pf_candidates
from jetad.generate.nanoaod import write_events
from jetad.generate.processes import PROCESSES, Process, get_process, render_card
from jetad.generate.pythia import PS_WEIGHT_SETTINGS, block_seeds, generate_truth
from jetad.generate.reconstruction import (
    BTagModel,
    btag_ak4,
    constituent_links,
    event_ids,
    jet_id,
    leptons,
    missing_momentum,
    multiplicities,
)

__all__ = [
    "BLOCK_SIZE",
    "PROCESSES",
    "Detector",
    "GenerationSummary",
    "Process",
    "generate",
    "generate_many",
    "get_process",
    "simulate_block",
]

#: Events per block: each block has its own Pythia instance and seed.
BLOCK_SIZE = 250
#: anti-kT radius and pT threshold (GeV) of the AK4 ``Jet`` collection.
AK4_RADIUS, AK4_PTMIN = 0.4, 15.0
#: pT thresholds (GeV) of the NanoAOD ``Muon`` and ``Electron`` collections.
MUON_PTMIN, ELECTRON_PTMIN = 3.0, 5.0


@dataclass(frozen=True)
class BlockResult:
    """The NanoAOD branches of one block, with its cross-section estimate and timings (s)."""

    branches: dict[str, ak.Array]
    sigma_pb: float
    seconds_pythia: float
    seconds_detector: float


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate` wrote."""

    process: str
    output: Path
    n_events: int
    seed: int
    parameters: dict[str, float | str]
    fatjet_radius: float
    xsec_pb: float
    label: int
    seconds_pythia: float = 0.0
    seconds_detector: float = 0.0
    seconds_writing: float = 0.0

    def metadata(self) -> dict:
        """The fileset metadata of this sample (cross-section in pb)."""
        return {
            "process": self.process,
            "label": self.label,
            "xsec": self.xsec_pb,
            "nevents": self.n_events,
            "seed": self.seed,
            "parameters": self.parameters,
            "fatjet_radius": self.fatjet_radius,
        }


def simulate_block(
    process: Process,
    parameters: Mapping[str, float | str],
    seed: int,
    block: int,
    n_events: int,
    first_event: int,
    extra_settings: tuple[str, ...] = (),
    fatjet_radius: float | None = None,
) -> BlockResult:
    """Generate, simulate and reconstruct one block of events into NanoAOD branches.

    ``fatjet_radius`` overrides the process's anti-kT radius for ``FatJet``.
    """
    pythia_seed, sequence = block_seeds(seed, block)
    start = time.perf_counter()
    truth = generate_truth(
        [*render_card(process, parameters), *extra_settings], n_events, pythia_seed
    )
    middle = time.perf_counter()
    rng = np.random.default_rng(sequence)
    pf = pf_candidates(truth.final, rng, Detector())
    radius = fatjet_radius or process.fatjet_radius
    fatjets, fat_index = cluster(pf, radius, process.fatjet_ptmin)
    jets, jet_index = cluster(pf, AK4_RADIUS, AK4_PTMIN)
    jets = ak.zip(
        {
            **{f: jets[f] for f in ak.fields(jets)},
            **multiplicities(pf, jet_index),
            **jet_id(pf, jet_index),
            **btag_ak4(jets, truth.heavy_hadrons, rng, BTagModel()),
        }
    )
    met = missing_momentum(pf)
    genmet_pt, genmet_phi = invisible_momentum(truth.final)
    n = len(pf)
    branches = {
        **event_ids(n, block, first_event),
        "PFCands": pf,
        "FatJet": fatjets,
        "FatJetPFCands": constituent_links(fat_index),
        "Jet": jets,
        "Muon": leptons(pf, 13, MUON_PTMIN),
        "Electron": leptons(pf, 11, ELECTRON_PTMIN),
        "MET_pt": met["pt"],
        "MET_phi": met["phi"],
        "MET_sumEt": met["sumEt"],
        "GenMET_pt": ak.values_astype(genmet_pt, np.float32),
        "GenMET_phi": ak.values_astype(genmet_phi, np.float32),
        "Truth_label": np.full(n, process.label, dtype=np.int32),
        "Truth_process": np.full(n, process.code, dtype=np.int32),
    }
    if truth.ps_weights is not None:  # NanoAOD's PSWeight: w_variation / w_nominal, 4 per event
        branches["PSWeight"] = ak.from_regular(truth.ps_weights.astype(np.float32), axis=1)
    return BlockResult(
        branches=branches,
        sigma_pb=truth.sigma_pb,
        seconds_pythia=middle - start,
        seconds_detector=time.perf_counter() - middle,
    )


def _blocks(n_events: int, block_size: int) -> list[tuple[int, int, int]]:
    """(block index, events in block, first event) for ``n_events`` split in fixed blocks."""
    starts = range(0, n_events, block_size)
    return [(i, min(block_size, n_events - s), s) for i, s in enumerate(starts)]


def _run_blocks(
    tasks: list[tuple], jobs: int, pool: Executor | None = None
) -> Iterator[BlockResult]:
    if pool is not None:
        futures = [pool.submit(simulate_block, *task) for task in tasks]
        for future in futures:
            yield future.result()
        return
    if jobs == 1 or len(tasks) == 1:
        for task in tasks:
            yield simulate_block(*task)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as shared:
        yield from _run_blocks(tasks, jobs, shared)


def check_output_path(output: str | os.PathLike) -> Path:
    """The output path, resolved; raises ``ValueError`` naming it if it cannot be written."""
    path = Path(output).expanduser().resolve()
    if path.suffix != ".root":
        raise ValueError(f"output {str(output)!r} must end in .root")
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"cannot write {str(output)!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"cannot write {str(output)!r}: directory {str(parent)!r} is not writable")
    if path.is_dir():
        raise ValueError(f"cannot write {str(output)!r}: it is a directory")
    return path


def generate(
    process: str,
    n_events: int,
    seed: int,
    output: str | os.PathLike,
    jobs: int = 1,
    parameters: Mapping[str, str | float] | None = None,
    pythia_settings: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
    block_size: int = BLOCK_SIZE,
    fatjet_radius: float | None = None,
    pool: Executor | None = None,
    ps_weights: bool = False,
) -> GenerationSummary:
    """Generate ``n_events`` events of ``process`` into the PFNano-like ROOT file ``output``.

    Args:
        process: a name in :data:`PROCESSES`.
        n_events: number of events (≥ 1).
        seed: the random seed; the file depends on it and not on ``jobs``.
        output: the ``.root`` path. The file is written under a temporary name and renamed
            when complete, so an interrupted run never leaves a truncated file there.
        jobs: worker processes.
        parameters: process parameters overriding the card defaults (``m_wprime``, ``rinv``…).
        pythia_settings: extra Pythia settings appended after the card.
        fatjet_radius: anti-kT radius of ``FatJet``; the process's own (0.8 or 1.0) if None.
        progress: called with the number of events finished after each block.
        block_size: events per block; part of the seed's definition, so change it knowingly.
        pool: a process pool to run the blocks in instead of ``jobs`` new processes
            (:func:`generate_many` shares one between samples).
        ps_weights: also store the parton-shower variation weights as NanoAOD's ``PSWeight``
            (:data:`jetad.generate.pythia.PS_WEIGHT_SETTINGS`; Pythia takes longer).
    """
    proc = get_process(process)
    if ps_weights:
        pythia_settings = (*pythia_settings, *PS_WEIGHT_SETTINGS)
    if n_events < 1:
        raise ValueError(f"the number of events must be at least 1, got {n_events}")
    if fatjet_radius is not None and not 0.0 < fatjet_radius <= 2.0:
        raise ValueError(f"the fat-jet radius must lie in (0, 2], got {fatjet_radius}")
    if jobs < 1:
        raise ValueError(f"the number of jobs must be at least 1, got {jobs}")
    params = proc.parameters(parameters)
    render_card(proc, params)  # validates the parameters before any work starts
    path = check_output_path(output)
    tasks = [
        (proc, params, seed, block, size, first, tuple(pythia_settings), fatjet_radius)
        for block, size, first in _blocks(n_events, block_size)
    ]
    sigmas, weights = [], []
    timing = {"pythia": 0.0, "detector": 0.0}

    def results() -> Iterator[dict[str, ak.Array]]:
        for result in _run_blocks(tasks, jobs, pool):
            sigmas.append(result.sigma_pb)
            weights.append(len(result.branches["event"]))
            timing["pythia"] += result.seconds_pythia
            timing["detector"] += result.seconds_detector
            yield result.branches
            if progress is not None:
                progress(len(result.branches["event"]))

    xsec_holder: dict[str, float] = {}

    def runs_tree() -> dict[str, np.ndarray]:
        xsec_holder["xsec"] = float(np.average(sigmas, weights=weights))
        return {
            "run": np.array([1], dtype=np.uint32),
            "genEventCount": np.array([n_events], dtype=np.int64),
            "genEventSumw": np.array([float(n_events)]),
            "genEventSumw2": np.array([float(n_events)]),
            "crossSection": np.array([xsec_holder["xsec"]]),
        }

    seconds_writing = write_events(path, results(), runs_tree)
    return GenerationSummary(
        process=proc.name,
        output=path,
        n_events=n_events,
        seed=seed,
        parameters=params,
        fatjet_radius=fatjet_radius or proc.fatjet_radius,
        xsec_pb=xsec_holder["xsec"],
        label=proc.label,
        seconds_pythia=timing["pythia"],
        seconds_detector=timing["detector"],
        seconds_writing=seconds_writing,
    )


def generate_many(
    requests: list[Mapping],
    jobs: int = 1,
    done: Callable[[GenerationSummary], None] | None = None,
    pool: Executor | None = None,
) -> list[GenerationSummary]:
    """Generate several samples at once, their blocks sharing one pool of ``jobs`` processes.

    Args:
        requests: keyword arguments of :func:`generate`, one mapping per sample.
        done: called with each sample's summary as soon as its file is written.
        pool: an executor to run every block in instead (e.g. a Dask cluster's,
            ``client.get_executor()``); blocks keep their seeds, so the files are the same.

    Returns:
        The summaries, in the order of ``requests``. Each file is identical to what
        :func:`generate` alone writes for the same arguments.
    """
    if jobs < 1:
        raise ValueError(f"the number of jobs must be at least 1, got {jobs}")

    def one(request: Mapping, pool: Executor | None) -> GenerationSummary:
        summary = generate(**{**request, "jobs": 1}, pool=pool)
        if done is not None:
            done(summary)
        return summary

    if jobs == 1 and pool is None:
        return [one(request, None) for request in requests]
    with ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=jobs))
        threads = stack.enter_context(ThreadPoolExecutor(max_workers=len(requests) or 1))
        futures = [threads.submit(one, request, pool) for request in requests]
        return [future.result() for future in futures]
