"""The plots' common style: matplotlib without a display (Agg), mplhep's CMS style, and the
experiment label."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402

plt.style.use(mplhep.style.CMS)


def neutral_label(ax, luminosity: float | None, simulation: bool) -> None:
    """An experiment-neutral label with √s and, for data, the luminosity (fb⁻¹)."""
    mplhep.label.exp_label(exp="jetad", loc=0, data=not simulation, com=13, ax=ax,
                           lumi=None if luminosity is None else f"{luminosity:g}")  # fmt: skip
