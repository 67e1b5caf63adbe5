"""The ℓ+X trigger-level anomaly analysis of Cerri et al., as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
from coffea import processor
from coffea.analysis_tools import PackedSelection

from jetad._dask import is_dask
from jetad.datasets import require_branches
from jetad.features import FEATURE_SETS
from jetad.histograms import feature_histogram, fill_analysis
from jetad.observables.lepton_trigger import DEFAULT_ERA, btag_working_point
from jetad.scoring import load_scorers, primary_scores

CUTS = ("one lepton",)
NEEDED = {
    "Muon": ("pt", "eta", "phi", "mass", "charge", "pfRelIso03_all", "pfRelIso03_chg"),
    "Electron": ("pt", "eta", "phi", "mass", "charge", "pfRelIso03_all", "pfRelIso03_chg"),
    "Jet": ("pt", "eta", "phi", "mass"),
}

#: The features histogrammed, with their binning (bins, low, high; GeV where dimensionful).
KEY_FEATURES = {
    "lep_pt": (50, 0.0, 500.0),
    "mt": (50, 0.0, 500.0),
    "met_parallel": (50, -250.0, 250.0),
    "st": (50, 0.0, 2500.0),
    "n_jets": (15, 0.0, 15.0),
    "n_b": (6, 0.0, 6.0),
}


class LeptonTriggerProcessor(processor.ProcessorABC):
    """Events with an isolated e or μ above 23 GeV; the ℓ+X features scored by event-level
    models; the score and the :data:`KEY_FEATURES` histogrammed with and without each model's
    working-point cuts.

    Each model is scored on the feature set it was trained on: ``hlt21``, or ``hlt18_nano``
    for standard NanoAOD without PF candidates, where ``lep_iso_neu``, ``lep_iso_pho`` and
    the hadron counts are NaN (``jetad.observables.lepton_trigger``). Events whose features
    are not finite get a NaN score, fail every cut and are counted as ``unscored (MODEL)`` in
    the cutflow.

    Args:
        models: ``{name: MODEL.pt}`` of event-level models (``jetad train --model hltvae``).
        btag: the b-tag era or ``(branch, threshold)``, as for
            :func:`jetad.observables.lepton_trigger_features` (UL2018, which jetad's
            samples emulate, by default).
    """

    feature_set = FEATURE_SETS["hlt21"]

    def __init__(self, models: dict[str, str], btag: str | tuple[str, float] = DEFAULT_ERA):
        self.btag = btag_working_point(btag)
        self.scorers = load_scorers(models)
        for name, scorer in self.scorers.items():
            if scorer.metadata["feature_set"] not in ("hlt21", "hlt18_nano"):
                raise ValueError(
                    f"model {name!r} was trained on {scorer.metadata['feature_set']!r}; "
                    "the ℓ+X processor needs hlt21 or hlt18_nano"
                )
        # one computation for every model: hlt18_nano's NanoAOD isolation comes beside hlt21
        wanted = [*KEY_FEATURES, *(n for s in self.scorers.values() for n in s.features)]
        self.also = tuple(dict.fromkeys(n for n in wanted if n not in self.feature_set.names))

    def process(self, events):
        require_branches(events, {**NEEDED, "Jet": (*NEEDED["Jet"], self.btag[0])})
        features = self.feature_set(events, also=self.also, btag=self.btag)
        selection = PackedSelection()
        selection.add("one lepton", ~ak.is_none(features))
        passed = selection.all(*CUTS)
        table = features[passed]
        scores = primary_scores(self.scorers, table)
        histograms = {f: feature_histogram(f, *binning, lazy=is_dask(events))
                      for f, binning in KEY_FEATURES.items()}  # fmt: skip
        values = {feature: table[feature] for feature in KEY_FEATURES}
        return fill_analysis(events, passed, selection, CUTS, histograms, values, scores,
                             group="features")  # fmt: skip

    def postprocess(self, accumulator):
        return accumulator
