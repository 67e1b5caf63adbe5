"""The ``jetad`` command line: one click group, one subcommand per pipeline stage.

Commands only parse arguments and print: the work is done by :mod:`jetad.workflow` (and the
stage modules), which scripts and notebooks call directly.

=================  ==========================================================================
module             commands
=================  ==========================================================================
``generation``     ``generate``, ``samples``, ``convert lhco``, ``convert toptag``
``training``       ``train``, ``evaluate``, ``decorrelate``, ``export-onnx``, ``weak``,
                   ``characterise``
``analysis``       ``run``, ``ntuple``, ``inject``, ``bumphunt``, ``demo``
=================  ==========================================================================
"""

from jetad.cli import analysis, generation, training  # noqa: F401  (registers the commands)
from jetad.cli._common import console, main

__all__ = ["console", "main"]
