"""Histograms of the analyses: declared once, with category axes, weighted per dataset.

Every histogram has the axes ``dataset`` and ``model`` (string categories) and ``cut``:
``none``, then each working point stored with the model (``eff10``, ``eff1``, ``eff0p1``: the
score thresholds at 10%, 1% and 0.1% background efficiency). The m_jj axis has variable bins
whose width follows the dijet mass resolution, about 6% of m_jj, from 1 to 9 TeV.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import hist
import numpy as np

__all__ = ["MJJ_EDGES", "cut_masks", "dataset_weight", "mjj_histogram", "score_histogram"]

#: m_jj bin edges (GeV): each bin about 6% wide, the dijet mass resolution.
MJJ_EDGES = np.round(1000.0 * 1.06 ** np.arange(38), 1)


def _categories() -> list:
    return [
        hist.axis.StrCategory([], name="dataset", growth=True),
        hist.axis.StrCategory([], name="model", growth=True),
        hist.axis.StrCategory([], name="cut", growth=True),
    ]


def mjj_histogram() -> hist.Hist:
    """An empty weighted m_jj histogram with the dataset, model and cut axes."""
    axis = hist.axis.Variable(MJJ_EDGES, name="mjj", label=r"$m_{jj}$ [GeV]")
    return hist.Hist(*_categories(), axis, storage=hist.storage.Weight())


def score_histogram(name: str, low: float, high: float, bins: int = 50) -> hist.Hist:
    """An empty weighted histogram of an anomaly score (or any feature)."""
    axis = hist.axis.Regular(bins, low, high, name="score", label=name)
    return hist.Hist(*_categories()[:2], axis, storage=hist.storage.Weight())


def dataset_weight(metadata: Mapping) -> float:
    """Cross-section (pb) / Σ generator weights of a fileset entry, so that genWeight × this
    is an event weight for 1 pb⁻¹. Datasets without ``xsec`` (real data) weigh 1."""
    if "xsec" not in metadata:
        return 1.0
    sumw = metadata.get("sumw", metadata.get("nevents"))
    if not sumw:
        raise ValueError(
            f"dataset metadata has xsec but neither sumw nor nevents: {dict(metadata)}"
        )
    return float(metadata["xsec"]) / float(sumw)


def cut_masks(score: ak.Array, working_points: Mapping[str, float]) -> dict[str, ak.Array]:
    """``{"none": all, name: score > threshold, …}`` for an event's primary score."""
    passing = {name: score > threshold for name, threshold in working_points.items()}
    return {"none": ak.ones_like(score, dtype=bool), **passing}
