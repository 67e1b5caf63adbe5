"""Plots (matplotlib, mplhep style, no display needed): training and score performance
(:mod:`.models`), an analysis' histograms and the m_jj sculpting (:mod:`.histograms`), the bump
hunt, the spurious-signal test and the latent characterisation (:mod:`.search`)."""

from jetad.plotting.histograms import plot_observable, plot_sculpting
from jetad.plotting.models import plot_performance, plot_training
from jetad.plotting.search import (
    plot_bumphunt,
    plot_characterisation,
    plot_pass_fraction,
    plot_spurious_signal,
)

__all__ = [
    "plot_bumphunt",
    "plot_characterisation",
    "plot_observable",
    "plot_pass_fraction",
    "plot_performance",
    "plot_sculpting",
    "plot_spurious_signal",
    "plot_training",
]
