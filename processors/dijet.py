"""The LHC-Olympics-like dijet anomaly analysis, as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from jetad._dask import is_dask
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
from jetad.histograms import (
    count,
    cutflow,
    event_weights,
    fill_scored,
    mjj_histogram,
    truth_counts,
)
from jetad.observables import dijet_features
from jetad.observables.dijet import DijetSelection
from jetad.scoring import AnomalyScorer

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

    def __init__(self, models: dict[str, str], jets: str = "fatjet", radius: float = 1.0,
                 leading_ptmin: float = 1200.0, max_deta: float | None = 1.3):  # fmt: skip
        if jets not in ("fatjet", "recluster"):
            raise ValueError(f"jets must be 'fatjet' or 'recluster', got {jets!r}")
        self.selection = DijetSelection(leading_ptmin, max_deta)
        self.scorers = {
            name: AnomalyScorer(path, feature_set="lhco", selection=self.selection.to_dict())
            for name, path in models.items()
        }
        self.jets, self.radius = jets, radius

    def process(self, events):
        dataset, lazy = events.metadata["dataset"], is_dask(events)
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
        selected = dijet_features(
            jets[passed], None if constituents is None else constituents[passed]
        )
        weights = event_weights(events, passed)

        table = selected[list(FEATURE_SETS["lhco"].names)]
        mjj = ak.fill_none(selected.mjj, np.nan)
        scores = {name: ({**scorer.metadata["working_points"],
                          **mjj_thresholds(scorer.metadata, mjj)},  # decorrelated, if calibrated
                         scorer.score_names[0], scorer(table)[:, 0])
                  for name, scorer in self.scorers.items()}  # fmt: skip
        histograms = {"mjj": mjj_histogram(lazy)}
        score_histograms, unscored = fill_scored(
            histograms, {"mjj": selected.mjj}, dataset, scores, weights, lazy
        )
        counts = {**cutflow(selection, CUTS), **unscored}
        if "Truth" in events.fields:  # pseudo-data keeps the truth: count the signal kept
            counts.update(truth_counts(events.Truth.label[passed] == 1, scores))
        if constituents is not None:
            empty = ak.flatten(ak.num(constituents, axis=2) == 0)
            counts["jets without stored constituents"] = count(empty)
        output = {**histograms, "score": score_histograms, "cutflow": {dataset: counts}}
        if "filename" in events.metadata:
            output["processed"] = {events.metadata["filename"]: counts["all"]}
        return output

    def postprocess(self, accumulator):
        return accumulator
