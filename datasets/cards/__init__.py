"""Pythia 8 cards for ``jetad generate``, one per process.

The cards are plain Pythia command files in which ``${name}`` marks a parameter that
``jetad.generate.processes`` fills in (``--param name=value`` on the command line).
"""
