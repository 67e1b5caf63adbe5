"""The semivisible-jet analysis, as a coffea processor (wiring only)."""

from __future__ import annotations

import awkward as ak
from coffea import processor
from coffea.analysis_tools import PackedSelection

from jetad._dask import is_dask
from jetad.constituents import fatjet_constituents
from jetad.datasets import require_branches
from jetad.features import FEATURE_SETS
from jetad.histograms import fill_analysis, mass_histogram
from jetad.observables import dijet_mass, dijet_met_mt, missing_et
from jetad.observables.dijet import dijet_kinematics
from jetad.scoring import event_score, load_scorers, primary_scores

CUTS = ("two jets", "delta eta")


class SemivisibleJetProcessor(processor.ProcessorABC):
    """Two AK8 jets (pT > ``jet_ptmin``, |η| < ``jet_etamax``) with |Δη| < ``max_deta``; the
    ``svj8`` features of both scored by jet-level models (WNAE, NAE, AE); m_jj and
    M_T(jj, E_T^miss) filled with and without each model's working-point cuts.

    In NanoAOD without PF candidates the jets have no constituents: their features and scores
    are NaN (``unscored`` in the cutflow) and only the ``none`` cut is filled.

    The event's score is the larger of its two jets' scores: an event passes a working point
    (defined on the jets' background efficiency) when either jet does.

    Args:
        models: ``{name: MODEL.pt}`` of models trained on the ``svj8`` features.
        jet_ptmin: GeV.
    """

    feature_set = FEATURE_SETS["svj8"]

    def __init__(self, models: dict[str, str], jet_ptmin: float = 200.0,
                 jet_etamax: float = 2.4, max_deta: float = 1.5):  # fmt: skip
        self.scorers = load_scorers(models, "svj8")
        self.jet_ptmin, self.jet_etamax, self.max_deta = jet_ptmin, jet_etamax, max_deta

    def process(self, events):
        require_branches(events, {"FatJet": ("pt", "eta", "phi", "mass")})
        good = (events.FatJet.pt > self.jet_ptmin) & (abs(events.FatJet.eta) < self.jet_etamax)
        jets, constituents = events.FatJet[good], fatjet_constituents(events, missing="empty")[good]
        selection = PackedSelection()
        selection.add("two jets", ak.num(jets, axis=1) >= 2)
        _, deta = dijet_kinematics(jets)
        selection.add("delta eta", ak.fill_none(deta < self.max_deta, False))
        passed = selection.all(*CUTS)
        jets, constituents = jets[passed][:, :2], constituents[passed][:, :2]
        masses = {"mjj": dijet_mass(jets), "mt": dijet_met_mt(jets, missing_et(events)[passed])}
        table = self.feature_set(events[passed], constituents, jets=jets)
        scores = primary_scores(self.scorers, table, per_event=event_score)
        histograms = {name: mass_histogram(name, is_dask(events)) for name in masses}
        return fill_analysis(events, passed, selection, CUTS, histograms, masses, scores)

    def postprocess(self, accumulator):
        return accumulator
