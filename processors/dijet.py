"""The LHC-Olympics-like dijet anomaly analysis, as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
import numpy as np
from coffea import processor

from jetad.constituents import fatjet_constituents, recluster
from jetad.features import FEATURE_SETS
from jetad.histograms import cut_masks, dataset_weight, mjj_histogram, score_histogram
from jetad.observables import dijet_features
from jetad.scoring import AnomalyScorer


class DijetAnomalyProcessor(processor.ProcessorABC):
    """Two large-R jets, a leading jet above ``leading_ptmin``; ``lhco`` features scored by
    each model; m_jj filled with and without each model's working-point cuts.

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
        dataset = events.metadata["dataset"]
        if self.jets == "fatjet":
            jets, constituents = events.FatJet, fatjet_constituents(events)
        else:
            jets, constituents = recluster(events, radius=self.radius, ptmin=200.0)
        missing = ak.sum(ak.num(constituents, axis=2) == 0)
        features = dijet_features(jets, constituents)
        two_jets = ~ak.is_none(features)
        leading = ak.fill_none(np.maximum(features.ptj1, features.ptj2) > self.leading_ptmin, False)
        selected = features[two_jets & leading]
        weight = events.genWeight[two_jets & leading] * dataset_weight(events.metadata)

        mjj = mjj_histogram()
        scores = {}
        table = selected[list(FEATURE_SETS["lhco"].names)]
        for name, scorer in self.scorers.items():
            score = scorer(table)[:, 0]
            working_points = scorer.metadata["working_points"]
            for cut, mask in cut_masks(score, working_points).items():
                mjj.fill(dataset=dataset, model=name, cut=cut, mjj=selected.mjj[mask],
                         weight=weight[mask])  # fmt: skip
            scores[name] = score_histogram(scorer.score_names[0], 0.0, 3 * working_points["eff0p1"])
            scores[name].fill(dataset=dataset, model=name, score=score, weight=weight)
        if not self.scorers:
            mjj.fill(dataset=dataset, model="none", cut="none", mjj=selected.mjj, weight=weight)
        cutflow = {
            "all": len(events),
            "two jets": int(ak.sum(two_jets)),
            "leading pT": int(ak.sum(two_jets & leading)),
            "jets without stored constituents": int(missing),
        }
        processed = {events.metadata["filename"]: len(events)}
        return {"mjj": mjj, "score": scores, "cutflow": {dataset: cutflow}, "processed": processed}

    def postprocess(self, accumulator):
        return accumulator
