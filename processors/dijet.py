"""The LHC-Olympics-like dijet anomaly analysis, as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
import numpy as np
from coffea import processor
from coffea.analysis_tools import PackedSelection

from jetad._dask import is_dask
from jetad.constituents import fatjet_constituents, recluster
from jetad.datasets import event_weight, require_branches
from jetad.features import FEATURE_SETS
from jetad.histograms import count, cutflow, dataset_weight, fill_with_cuts, mjj_histogram
from jetad.histograms import score_histogram
from jetad.observables import dijet_features
from jetad.scoring import AnomalyScorer

CUTS = ("two jets", "leading pT")


class DijetAnomalyProcessor(processor.ProcessorABC):
    """Two large-R jets, a leading jet above ``leading_ptmin``; ``lhco`` features scored by
    each model; m_jj filled with and without each model's working-point cuts.

    Runs under coffea's ``Runner`` (eager, virtual arrays) and under
    ``coffea.dataset_tools.apply_to_fileset`` (dask-awkward; ``jets="fatjet"`` only).

    Args:
        models: ``{name: MODEL.pt}`` of models trained on the ``lhco`` features.
        jets: ``"fatjet"`` reads the file's FatJet and its constituents; ``"recluster"``
            clusters the PF candidates with anti-kT of radius ``radius``.
        radius: the reclustering radius.
        leading_ptmin: the leading-jet pT threshold, GeV.
    """

    def __init__(self, models: dict[str, str], jets: str = "fatjet", radius: float = 1.0,
                 leading_ptmin: float = 1200.0):  # fmt: skip
        if jets not in ("fatjet", "recluster"):
            raise ValueError(f"jets must be 'fatjet' or 'recluster', got {jets!r}")
        self.scorers = {
            name: AnomalyScorer(path, feature_set="lhco") for name, path in models.items()
        }
        self.jets, self.radius, self.leading_ptmin = jets, radius, leading_ptmin

    def process(self, events):
        dataset, lazy = events.metadata["dataset"], is_dask(events)
        if self.jets == "fatjet":
            require_branches(events, {"FatJet": ("pt", "eta", "phi", "mass")})
            jets, constituents = events.FatJet, fatjet_constituents(events)
        else:
            require_branches(events, {"PFCands": ("pt", "eta", "phi", "mass")})
            jets, constituents = recluster(events, radius=self.radius, ptmin=200.0)
        features = dijet_features(jets, constituents)
        selection = PackedSelection()
        selection.add("two jets", ~ak.is_none(features))
        leading = np.maximum(features.ptj1, features.ptj2) > self.leading_ptmin
        selection.add("leading pT", ak.fill_none(leading, False))
        passed = selection.all(*CUTS)
        selected = features[passed]
        weight = event_weight(events)[passed] * dataset_weight(events.metadata)

        mjj, scores = mjj_histogram(lazy), {}
        table = selected[list(FEATURE_SETS["lhco"].names)]
        for name, scorer in self.scorers.items():
            score = scorer(table)[:, 0]
            working_points = scorer.metadata["working_points"]
            fill_with_cuts(mjj, dataset, name, score, working_points, weight, mjj=selected.mjj)
            high = 3 * working_points["eff0p1"]
            scores[name] = score_histogram(scorer.score_names[0], 0.0, high, lazy=lazy)
            scores[name].fill(dataset=dataset, model=name, score=score, weight=weight)
        if not self.scorers:
            fill_with_cuts(mjj, dataset, "none", selected.mjj, {}, weight, mjj=selected.mjj)
        counts = cutflow(selection, CUTS)
        counts["jets without stored constituents"] = count(
            ak.flatten(ak.num(constituents, axis=2) == 0)
        )
        output = {"mjj": mjj, "score": scores, "cutflow": {dataset: counts}}
        if "filename" in events.metadata:
            output["processed"] = {events.metadata["filename"]: counts["all"]}
        return output

    def postprocess(self, accumulator):
        return accumulator
