"""Coffea processors that wire the jetad stages together, one analysis each."""

from jetad.processors.dijet import DijetAnomalyProcessor
from jetad.processors.lepton import LeptonTriggerProcessor
from jetad.processors.ntuple import NtupleProcessor
from jetad.processors.svj import SemivisibleJetProcessor

__all__ = [
    "DijetAnomalyProcessor",
    "LeptonTriggerProcessor",
    "NtupleProcessor",
    "SemivisibleJetProcessor",
]
