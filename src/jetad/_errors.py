"""One-line error messages from the exceptions of the libraries jetad calls."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(err: BaseException) -> str:
    """``Type: message`` on one line (uproot's and LZ4's messages span several)."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}"
