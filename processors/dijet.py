"""The LHC-Olympics-like dijet anomaly analysis, as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from jetad._dask import eager_numpy, is_dask
from jetad.constituents import (
    KINEMATICS,
    candidate_layout,
    fatjet_constituents,
    has_constituents,
    recluster,
)
from jetad.datasets import require_branches
from jetad.decorrelation import mjj_thresholds
from jetad.features import FEATURE_SETS
from jetad.histograms import count, fill_analysis, mjj_histogram, truth_counts
from jetad.observables.dijet import DijetSelection
from jetad.scoring import load_scorers, primary_scores

CUTS = ("two jets", "leading pT", "delta eta")


class DijetAnomalyProcessor(processor.ProcessorABC):
    """Two large-R jets, a leading jet above ``leading_ptmin`` and |Δη| < ``max_deta``;
    ``lhco`` features scored by each model; m_jj filled with and without each model's
    working-point cuts.

    The |Δη| cut (1.3, as in CMS dijet searches) suppresses t-channel QCD, so that above the
    turn-on (about 2.7 TeV for a 1.2 TeV leading jet) m_jj falls smoothly, as the bump hunt's
    dijet function assumes; ``max_deta=None`` removes it.

    Runs under coffea's ``Runner`` (eager, virtual arrays) and under
    ``coffea.dataset_tools.apply_to_fileset`` (dask-awkward; ``jets="fatjet"`` only).

    Args:
        models: ``{name: MODEL.pt}`` of models trained on the ``lhco`` features.
        jets: ``"fatjet"`` reads the file's FatJet and its constituents (or, in NanoAOD
            without PF candidates, its stored τ_N); ``"recluster"`` clusters the PF
            candidates with anti-kT of radius ``radius``.
        radius: the reclustering radius.
        leading_ptmin: the leading-jet pT threshold, GeV.
        max_deta: the largest |η_j1 − η_j2|, or None.
    """

    feature_set = FEATURE_SETS["lhco"]

    def __init__(self, models: dict[str, str], jets: str = "fatjet", radius: float = 1.0,
                 leading_ptmin: float = 1200.0, max_deta: float | None = 1.3):  # fmt: skip
        if jets not in ("fatjet", "recluster"):
            raise ValueError(f"jets must be 'fatjet' or 'recluster', got {jets!r}")
        self.selection = DijetSelection(leading_ptmin, max_deta)
        self.scorers = load_scorers(models, "lhco", self.selection.to_dict())
        self.jets, self.radius = jets, radius

    def process(self, events):
        if self.jets == "fatjet":
            require_branches(events, {"FatJet": ("pt", "eta", "phi", "mass")})
            jets = events.FatJet
            constituents = fatjet_constituents(events) if has_constituents(events) else None
        else:
            require_branches(events, {candidate_layout(events).candidates: KINEMATICS})
            jets, constituents = recluster(events, radius=self.radius, ptmin=200.0)
        selection = PackedSelection()
        for name, mask in self.selection.cuts(jets).items():
            selection.add(name, mask)
        passed = selection.all(*CUTS)
        # substructure only for the selected events: τ_N is most of the processor's time
        if constituents is not None:
            constituents = constituents[passed]
        table = self.feature_set(events[passed], constituents, also=("mjj",), jets=jets[passed])
        # NaN where an event has fewer than two jets; numpy for an eager chunk
        mjj = ak.fill_none(table.mjj, np.nan) if is_dask(events) else eager_numpy(table.mjj)
        scores = primary_scores(self.scorers, table,
                                working_points=lambda m: mjj_thresholds(m, mjj))  # fmt: skip
        counts = {}
        if "Truth" in events.fields:  # pseudo-data keeps the truth: count the signal kept
            counts.update(truth_counts(events.Truth.label[passed] == 1, scores))
        if constituents is not None:
            empty = ak.flatten(ak.num(constituents, axis=2))
            counts["jets without stored constituents"] = count(eager_numpy(empty) == 0)
        histograms = {"mjj": mjj_histogram(lazy=is_dask(events))}
        return fill_analysis(events, passed, selection, CUTS, histograms, {"mjj": table.mjj},
                             scores, counts=counts)  # fmt: skip

    def postprocess(self, accumulator):
        return accumulator
