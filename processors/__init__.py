"""Coffea processors that wire the jetad stages together, one analysis each."""

from jetad.processors.dijet import DijetAnomalyProcessor

__all__ = ["DijetAnomalyProcessor"]
