"""Histograms and event counts of the analyses: declared once, with category axes, weighted
per dataset.

Every histogram has the axes ``dataset`` and ``model`` (string categories) and, for the
observables, ``cut``: ``none``, then each working point stored with the model (``eff10``,
``eff1``, ``eff0p1``: the score thresholds at 10%, 1% and 0.1% background efficiency) and
``systematic``: ``nominal``, then the weight variations of :func:`event_weights` (``ISRUp``,
``ISRDown``, ``FSRUp``, ``FSRDown`` from NanoAOD's ``PSWeight``, where a sample has it). The
mass axes have variable bins whose width follows the dijet mass resolution, about 6%:

- ``mjj``: m_jj from 1 to 9 TeV
- ``mt``: the transverse mass of dijet + E_T^miss, from 0.5 to 6 TeV

The same code fills eager (coffea ``Runner``) and dask-awkward (``apply_to_fileset``) arrays:
with dask inputs the histograms are ``hist.dask`` histograms and the counts are lazy scalars.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import hist
import numpy as np

from jetad._dask import eager_numpy, is_dask

__all__ = [
    "MASS_AXES",
    "MJJ_EDGES",
    "MT_EDGES",
    "count",
    "cut_masks",
    "cutflow",
    "dataset_weight",
    "event_weights",
    "feature_histogram",
    "fill_analysis",
    "fill_scored",
    "fill_with_cuts",
    "mass_histogram",
    "mjj_histogram",
    "nominal",
    "sculpting",
    "score_histogram",
    "score_range",
    "truth_counts",
    "weight_variations",
]

#: m_jj bin edges (GeV): each bin about 6% wide, the dijet mass resolution.
MJJ_EDGES = np.round(1000.0 * 1.06 ** np.arange(38), 1)
#: M_T(jj, MET) bin edges (GeV), the same 6% bins from 0.5 to 6 TeV.
MT_EDGES = np.round(500.0 * 1.06 ** np.arange(44), 1)

#: Mass observables by name: bin edges and axis label.
MASS_AXES = {
    "mjj": (MJJ_EDGES, r"$m_{jj}$ [GeV]"),
    "mt": (MT_EDGES, r"$M_{T}(jj, E_{T}^{miss})$ [GeV]"),
}


def _categories(with_cut: bool = True) -> list:
    """The category axes: ``dataset``, ``model`` and, for observables, ``cut`` and
    ``systematic`` (``nominal``, then the weight variations a sample carries)."""
    names = ("dataset", "model", "cut", "systematic") if with_cut else ("dataset", "model")
    return [hist.axis.StrCategory([], name=n, growth=True) for n in names]


def nominal(histogram: hist.Hist) -> hist.Hist:
    """The ``nominal`` slice of a histogram with a ``systematic`` axis (others unchanged)."""
    if "systematic" in histogram.axes.name:
        return histogram[{"systematic": "nominal"}]
    return histogram


def _new(axes: list, lazy: bool) -> hist.Hist:
    if lazy:
        from hist.dask import Hist as LazyHist

        return LazyHist(*axes, storage=hist.storage.Weight())
    return hist.Hist(*axes, storage=hist.storage.Weight())


def mass_histogram(observable: str = "mjj", lazy: bool = False) -> hist.Hist:
    """An empty weighted histogram of a mass in :data:`MASS_AXES` with the category axes.

    ``lazy`` gives a ``hist.dask.Hist`` for dask-awkward inputs.
    """
    if observable not in MASS_AXES:
        raise ValueError(f"unknown mass observable {observable!r}; valid: {', '.join(MASS_AXES)}")
    edges, label = MASS_AXES[observable]
    return _new([*_categories(), hist.axis.Variable(edges, name=observable, label=label)], lazy)


def mjj_histogram(lazy: bool = False) -> hist.Hist:
    """An empty weighted m_jj histogram with the dataset, model and cut axes."""
    return mass_histogram("mjj", lazy)


def score_histogram(
    label: str, low: float, high: float, bins: int = 50, lazy: bool = False
) -> hist.Hist:
    """An empty weighted histogram of an anomaly score; its axis is called ``score``."""
    axis = hist.axis.Regular(bins, low, high, name="score", label=label)
    return _new([*_categories(with_cut=False), axis], lazy)


def score_range(working_points: Mapping[str, float]) -> tuple[float, float]:
    """The score-histogram range, from a model's (checked, finite) working points only, never
    from the data: 0 to 3× the 0.1% threshold for positive scores; for scores that reach
    below zero, the 10%-to-0.1% spread widened by one spread below and two above."""
    low, high = working_points["eff10"], working_points["eff0p1"]
    if high > 0 and low >= 0:
        return 0.0, 3.0 * high
    spread = high - low
    return low - spread, high + 2.0 * spread


#: Axis labels (with units) of the features histogrammed by name; others show their name.
FEATURE_LABELS = {
    "lep_pt": r"lepton $p_{T}$ [GeV]",
    "mt": r"$m_{T}(\ell, p_{T}^{miss})$ [GeV]",
    "met_parallel": r"$p_{T}^{miss}$ along the lepton [GeV]",
    "st": r"$S_{T}$ [GeV]",
    "n_jets": "number of jets",
    "n_b": "number of b-tagged jets",
}


def feature_histogram(
    name: str, bins: int, low: float, high: float, lazy: bool = False
) -> hist.Hist:
    """An empty weighted histogram of the feature ``name`` (its axis, labelled from
    :data:`FEATURE_LABELS`), with the dataset, model, cut and systematic axes."""
    label = FEATURE_LABELS.get(name, name.replace("_", " "))
    axis = hist.axis.Regular(bins, low, high, name=name, label=label)
    return _new([*_categories(), axis], lazy)


def dataset_weight(metadata: Mapping) -> float:
    """Cross-section (pb) / Σ generator weights of a fileset entry, so that genWeight × this
    is an event weight for 1 pb⁻¹. Datasets without ``xsec`` (real or pseudo-data) weigh 1."""
    if "xsec" not in metadata:
        return 1.0
    sumw = metadata.get("sumw", metadata.get("nevents"))
    if not sumw:
        raise ValueError(
            f"dataset metadata has xsec but neither sumw nor nevents: {dict(metadata)}"
        )
    return float(metadata["xsec"]) / float(sumw)


def event_weights(events, passed):
    """``coffea.analysis_tools.Weights`` of the events ``passed`` selects: ``genWeight``
    (1 for data) and ``normalisation`` (σ / Σw of the dataset, :func:`dataset_weight`), so
    that ``.weight()`` weighs each event for 1 pb⁻¹."""
    from coffea.analysis_tools import Weights

    from jetad.datasets import event_weight

    generator = event_weight(events)[passed]
    weights = Weights(None if is_dask(generator) else len(generator))
    weights.add("genWeight", generator)
    ones = ak.ones_like(generator)
    weights.add("normalisation", ones * dataset_weight(events.metadata))
    if "PSWeight" in events.fields:  # NanoAOD order: ISR=2, FSR=2, ISR=0.5, FSR=0.5 (μ_R)
        ps = events.PSWeight[passed]
        complete = ak.num(ps, axis=1) == 4  # some samples store 1 (nominal) or 0 entries
        ps = ak.pad_none(ps, 4, axis=1)
        for k, name in enumerate(("ISR", "FSR")):
            up = ak.where(complete, ak.fill_none(ps[:, k], 1.0), 1.0)
            down = ak.where(complete, ak.fill_none(ps[:, k + 2], 1.0), 1.0)
            weights.add(name, ones, weightUp=up, weightDown=down)
    return weights


def weight_variations(weights) -> dict[str, ak.Array]:
    """``{"nominal": w, "ISRUp": w_ISRUp, …}`` from ``coffea.analysis_tools.Weights`` (every
    variation it holds, sorted), or ``{"nominal": weights}`` for a plain array."""
    if not hasattr(weights, "variations"):
        return {"nominal": weights}
    return {"nominal": weights.weight(),
            **{v: weights.weight(modifier=v) for v in sorted(weights.variations)}}  # fmt: skip


def cut_masks(score: ak.Array, working_points: Mapping[str, float]) -> dict[str, ak.Array]:
    """``{"none": all, name: score > threshold, …}`` for an event's primary score."""
    passing = {name: score > threshold for name, threshold in working_points.items()}
    everything = (np.ones_like(score, dtype=bool) if isinstance(score, np.ndarray)
                  else ak.ones_like(score, dtype=bool))  # fmt: skip
    return {"none": everything, **passing}


def fill_with_cuts(
    histogram: hist.Hist,
    dataset: str,
    model: str,
    score: ak.Array,
    working_points: Mapping[str, float],
    weight,
    **values: ak.Array,
) -> None:
    """Fill ``histogram`` with ``values`` (its observable axes, by name) once per cut of
    :func:`cut_masks` and per systematic; ``weight`` is an array (``nominal``) or
    ``{systematic: array}``; ``score``, the weights and the values are aligned one per entry."""
    weights = weight if isinstance(weight, Mapping) else {"nominal": weight}
    for cut, mask in cut_masks(score, working_points).items():
        for systematic, w in weights.items():
            histogram.fill(
                dataset=dataset,
                model=model,
                cut=cut,
                systematic=systematic,
                weight=w[mask],
                **{name: value[mask] for name, value in values.items()},
            )


def fill_scored(
    histograms: Mapping[str, hist.Hist],
    values: Mapping[str, ak.Array],
    dataset: str,
    scores: Mapping[str, tuple[Mapping[str, float], str, ak.Array]],
    weight,
    lazy: bool = False,
) -> tuple[dict[str, hist.Hist], dict[str, int]]:
    """Fill each observable histogram with and without every model's cuts, and score histograms.

    Args:
        histograms: ``{observable: histogram}`` whose observable axis is named ``observable``.
        values: ``{observable: values}``, one per selected event; non-finite values are left
            out of that observable's histogram.
        scores: ``{model: (working_points, score label, score)}``; with no models the
            observables are filled once, as model ``none`` and cut ``none``.
        weight: the selected events' weights: ``coffea.analysis_tools.Weights`` (its
            variations fill the ``systematic`` axis) or an array (``nominal`` only).

    Returns:
        ``{model: score histogram}`` (range from :func:`score_range`) and
        ``{"unscored (model)": events with a non-finite score}`` for the cutflow.
    """
    score_histograms, unscored = {}, {}
    variations = weight_variations(weight)
    if not lazy:  # eager: numpy columns, the same values (scores are numpy already)
        values = {k: eager_numpy(v) for k, v in values.items()}
        variations = {k: eager_numpy(v) for k, v in variations.items()}
    for name, (working_points, label, score) in (
        scores or {"none": ({}, "", ak.zeros_like(variations["nominal"]))}
    ).items():
        for observable, h in histograms.items():
            finite = np.isfinite(values[observable])
            fill_with_cuts(h, dataset, name, score[finite], working_points,
                           {s: w[finite] for s, w in variations.items()},
                           **{observable: values[observable][finite]})  # fmt: skip
        if not working_points:
            continue
        h = score_histogram(label, *score_range(working_points), lazy=lazy)
        h.fill(dataset=dataset, model=name, score=score, weight=variations["nominal"])
        score_histograms[name] = h
        unscored[f"unscored ({name})"] = count(~np.isfinite(score))
    return score_histograms, unscored


def truth_counts(is_signal: ak.Array, scores: Mapping[str, tuple]) -> dict:
    """True-signal events selected, and passing each model's working points: how much of an
    injected signal the cuts keep. ``scores`` as in :func:`fill_scored`."""
    is_signal = eager_numpy(is_signal)
    counts = {"signal (truth)": count(is_signal)}
    for name, (working_points, _, score) in scores.items():
        for cut, mask in cut_masks(score, working_points).items():
            if cut != "none":
                counts[f"signal (truth), {name} {cut}"] = count(is_signal & mask)
    return counts


def count(mask: ak.Array):
    """The number of True entries of ``mask``: an ``int``, or a lazy scalar for dask."""
    if isinstance(mask, np.ndarray):
        return int(np.count_nonzero(mask))
    total = ak.sum(mask, axis=0)
    return total if is_dask(mask) else int(total)


def cutflow(selection, names: tuple[str, ...]) -> dict:
    """Events passing each cut of a ``coffea.analysis_tools.PackedSelection`` and all the cuts
    before it, in order, after ``all`` events."""
    counts = {"all": count(ak.ones_like(selection.all(names[0]), dtype=bool))}
    for k, name in enumerate(names, start=1):
        counts[name] = count(selection.all(*names[:k]))
    return counts


def sculpting(histogram: hist.Hist, dataset: str, model: str) -> dict[str, dict[str, float]]:
    """How much each cut reshapes a dataset's mass spectrum (``mjj`` or ``mt``), for the
    decorrelation check: ``{cut: {"efficiency", "js_divergence"}}`` per cut other than
    ``none``, with the fraction of the (weighted) events the cut keeps and the Jensen–Shannon
    divergence (base 2: 0 for the same shape, 1 for disjoint ones) between the normalised
    spectra after and before it. A cut that keeps nothing gets NaN."""
    from scipy.spatial.distance import jensenshannon

    one = nominal(histogram)[{"dataset": dataset, "model": model}]
    before = one[{"cut": "none"}].values()
    found = {}
    for cut in histogram.axes["cut"]:
        if cut == "none":
            continue
        after = one[{"cut": cut}].values()
        kept = after.sum() / before.sum() if before.sum() > 0 else float("nan")
        divergence = (
            float(jensenshannon(after, before, base=2) ** 2) if after.sum() > 0 else float("nan")
        )
        found[cut] = {"efficiency": float(kept), "js_divergence": divergence}
    return found


def fill_analysis(
    events,
    passed: ak.Array,
    selection,
    cuts: tuple[str, ...],
    histograms: Mapping[str, hist.Hist],
    values: Mapping[str, ak.Array],
    scores: Mapping[str, tuple],
    group: str | None = None,
    counts: Mapping | None = None,
) -> dict:
    """What every jetad processor returns after its selection and scoring.

    The events' weights (:func:`event_weights` of the ``passed`` ones), the ``values`` filled
    into ``histograms`` with and without each model's cuts (:func:`fill_scored`), the score
    histograms, the cutflow of ``selection``'s ``cuts`` with each model's unscored events and
    the extra ``counts``, and, under coffea's Runner, the events processed per file.

    Args:
        events: the chunk's NanoEvents (eager, virtual or dask).
        passed: the events the selection keeps; ``values`` and ``scores`` are of these only.
        selection: a ``coffea.analysis_tools.PackedSelection`` holding ``cuts``.
        group: put the histograms under this key of the output (e.g. ``"features"``) rather
            than at its top level.
    """
    dataset, lazy = events.metadata["dataset"], is_dask(events)
    weights = event_weights(events, passed)
    score_histograms, unscored = fill_scored(histograms, values, dataset, scores, weights, lazy)
    counted = {**cutflow(selection, cuts), **unscored, **(counts or {})}
    filled = {group: dict(histograms)} if group else dict(histograms)
    output = {**filled, "score": score_histograms, "cutflow": {dataset: counted}}
    if "filename" in events.metadata:
        output["processed"] = {events.metadata["filename"]: counted["all"]}
    return output
