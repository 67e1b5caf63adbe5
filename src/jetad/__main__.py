"""``python -m jetad``: the same command line as ``jetad``."""

from jetad.cli import main

main()
