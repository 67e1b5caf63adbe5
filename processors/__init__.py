"""Coffea processors that wire the jetad stages together, one analysis each."""
