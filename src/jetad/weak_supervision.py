"""Weakly supervised searches in a signal region of m_jj: CWoLa hunting and CATHODE.

Both train a classifier to tell the events of a signal region (SR) of m_jj from a model of
the background *in the same region*, without any truth label; where a signal hides in the SR,
the classifier learns it, and a cut on its output raises S/B in the SR (REFERENCE.md §5):

- **CWoLa hunting** (Collins, Howe, Nachman, PRL 121 (2018) 241803; arXiv:1902.02634): the
  background model is the data of the two neighbouring sidebands. Simple, but whatever the
  features learn of m_jj itself (QCD jet masses grow with m_jj) the classifier learns too.
- **CATHODE** (Hallin et al., arXiv:2109.00546): a conditional normalizing flow p(x | m_jj)
  (zuko's masked autoregressive flow) is trained on every event outside the SR, then sampled
  *in* the SR at m_jj drawn from a kernel density estimate of the SR's m_jj, ``oversampling`` ×
  as many samples as SR events. The classifier separates SR data from those samples; its output
  approximates p_data / p_background in the SR and knows nothing of m_jj beyond the flow's
  interpolation.

The classifier (:mod:`jetad.models.classifier`) is CATHODE's (3 hidden layers of 64 ReLU
units, Adam lr 1e-3, batch 128), fitted
with balanced class weights; as in CATHODE, the states of the ``best_epochs`` epochs of smallest
validation loss are kept and their logits averaged (:class:`EpochEnsemble`), over ``seeds``
classifiers per fold, which steadies a classifier that sees only a few signal events. Training is
*k*-fold: every SR event (and, for CWoLa, every sideband event) is scored by the member that
did not see it, and every other event by one member drawn at random — not by the members'
mean, whose narrower distribution would pass a different fraction of the background at a
cut than the single members do inside the SR, and so make a bump of the SR. The
members are exported as one TorchScript model (:func:`jetad.models.export.export_classifier`)
and scored through :class:`jetad.scoring.AnomalyScorer` like every other model; the score is
the members' mean logit, rising with "signal-region-like".

Inputs are CATHODE's: the heavier jet's mass, both jets' τ21 and the lighter jet's mass (which
carries Δm_J = m_J2 − m_J1) — m_jj is never an input. A search scans signal-region
hypotheses and cuts on the score with thresholds that follow m_jj
(:mod:`jetad.decorrelation`), so the bump hunt sees a QCD spectrum of unchanged shape.

Example:
    >>> region = SignalRegion(3500.0)                         # 3.22–3.78 TeV   # doctest: +SKIP
    >>> found = cathode(rows, mjj, region, features=FEATURE_SETS["lhco"].names)  # doctest: +SKIP
    >>> found.score        # one value per event                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from jetad.models.background_flow import FlowConfig, fit_background_flow
from jetad.models.classifier import (
    ClassifierConfig,
    EpochEnsemble,
    fold_scores,
    kfold_members,
    on_numpy,
    standardiser,
    train_classifier,
)
from jetad.models.export import ScoringModel

__all__ = [
    "INPUTS",
    "METHODS",
    "ClassifierConfig",
    "EpochEnsemble",
    "FlowConfig",
    "SignalRegion",
    "WeakResult",
    "against_template",
    "cathode",
    "check_out_of_sample",
    "cwola",
    "fit_background_flow",
    "train_classifier",
    "train_on_files",
]

#: CATHODE's inputs, as ``lhco`` columns (Δm_J enters through the lighter jet's mass).
INPUTS = ("mj1", "mj2", "tau21_j1", "tau21_j2")


@dataclass(frozen=True)
class SignalRegion:
    """A signal-region hypothesis: m_jj within ``mass`` × (1 ± ``half_width``) (GeV); CWoLa's
    sidebands are the next bands out to ``mass`` × (1 ± ``sideband``)."""

    mass: float
    half_width: float = 0.08
    sideband: float = 0.16

    def __post_init__(self):
        if not (self.mass > 0 and 0 < self.half_width < self.sideband < 1):
            raise ValueError(
                f"a signal region needs mass > 0 and 0 < half_width < sideband < 1, got {self}"
            )

    @property
    def edges(self) -> tuple[float, float]:
        """(low, high) m_jj edges in GeV."""
        return self.mass * (1 - self.half_width), self.mass * (1 + self.half_width)

    def contains(self, mjj: np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(mjj) / self.mass - 1) < self.half_width

    def sidebands(self, mjj: np.ndarray) -> np.ndarray:
        distance = np.abs(np.asarray(mjj) / self.mass - 1)
        return (distance >= self.half_width) & (distance < self.sideband)


@dataclass
class WeakResult:
    """Each event's score (the logit of one member, the one that did not see it where the
    event was trained on) and the members as one scoring model on the raw feature columns
    (their mean logit: what a processor applies to new events)."""

    score: np.ndarray
    model: ScoringModel
    region: SignalRegion
    method: str
    summary: dict = field(default_factory=dict)


def _columns(features: Sequence[str], inputs: Sequence[str]) -> list[int]:
    missing = [name for name in inputs if name not in features]
    if missing:
        raise ValueError(f"the weakly supervised inputs {missing} are not among {list(features)}")
    return [list(features).index(name) for name in inputs]


def _check(rows: np.ndarray, mjj: np.ndarray, features: Sequence[str]) -> None:
    if rows.ndim != 2 or rows.shape[1] != len(features) or len(mjj) != len(rows):
        raise ValueError(
            f"rows must be (events, {len(features)}) matching {len(features)} feature names "
            f"and one m_jj per row; got {rows.shape} and {len(mjj)} m_jj values"
        )
    if not (np.isfinite(rows).all() and np.isfinite(mjj).all()):
        raise ValueError("rows and m_jj must be finite; drop the non-finite rows first")


def cwola(
    rows: np.ndarray,
    mjj: np.ndarray,
    region: SignalRegion,
    features: Sequence[str],
    inputs: Sequence[str] = INPUTS,
    config: ClassifierConfig = ClassifierConfig(),
) -> WeakResult:
    """CWoLa hunting: signal region against its sidebands, k-fold (see the module).

    Args:
        rows: (events, features) raw feature values, e.g. the ``lhco`` set.
        mjj: each event's dijet mass in GeV.
        region: the signal-region hypothesis.
        features: the names of ``rows``' columns.
        inputs: the columns the classifier uses.
    """
    _check(rows, mjj, features)
    inside, beside = region.contains(mjj), region.sidebands(mjj)
    used = inside | beside
    if inside.sum() < config.folds or beside.sum() < config.folds:
        raise ValueError(f"too few events in the signal region or sidebands of {region}")
    standardise = standardiser(rows[used], _columns(features, inputs))
    y = on_numpy(standardise, rows)
    fold = np.random.default_rng(config.seed).integers(0, config.folds, len(rows))
    members = kfold_members(y[used], inside[used].astype(float), fold[used], config)
    summary = {"signal_region_events": int(inside.sum()), "sideband_events": int(beside.sum())}
    return WeakResult(fold_scores(members, y, fold), ScoringModel(standardise, members), region,
                      "cwola", summary)  # fmt: skip


def _mjj_in_region(mjj: np.ndarray, region: SignalRegion, n: int, seed: int) -> np.ndarray:
    """``n`` m_jj values from a Gaussian KDE of the SR's ``mjj``, redrawn until inside it."""
    from scipy.stats import gaussian_kde

    kde, rng, drawn = gaussian_kde(mjj), np.random.default_rng(seed), []
    while sum(len(d) for d in drawn) < n:
        values = kde.resample(2 * n, seed=rng)[0]
        drawn.append(values[region.contains(values)])
    return np.concatenate(drawn)[:n]


def _mass_pair(inputs: Sequence[str]) -> tuple[int | None, int | None]:
    """The positions of the heavier (``mj1``) and lighter (``mj2``) jet masses in ``inputs``."""
    names = list(inputs)
    if "mj1" in names and "mj2" in names:
        return names.index("mj1"), names.index("mj2")
    return None, None


def _to_mass_difference(x: np.ndarray, heavier: int | None, lighter: int | None) -> np.ndarray:
    """The flow's coordinates: the heavier jet's mass replaced by Δm_J = m_J1 − m_J2 ≥ 0 (GeV),
    CATHODE's. The support of (m_J1, m_J2) is the triangle m_J2 ≤ m_J1, whose diagonal a flow
    cannot model sharply (its samples spill across, and the classifier learns the QCD just
    inside as signal-like); (Δm_J, m_J2) has the axis-aligned bounds the flow's min–max logit
    maps to the real line."""
    if heavier is None:
        return x
    out = np.array(x, dtype=np.float32)
    out[:, heavier] = x[:, heavier] - x[:, lighter]
    return out


def _from_mass_difference(u: np.ndarray, heavier: int | None, lighter: int | None) -> np.ndarray:
    """The inverse of :func:`_to_mass_difference`."""
    if heavier is None:
        return u
    out = np.array(u)
    out[:, heavier] = u[:, heavier] + u[:, lighter]
    return out


def cathode(
    rows: np.ndarray,
    mjj: np.ndarray,
    region: SignalRegion,
    features: Sequence[str],
    inputs: Sequence[str] = INPUTS,
    config: ClassifierConfig = ClassifierConfig(),
    flow_config: FlowConfig = FlowConfig(),
) -> WeakResult:
    """CATHODE: a flow learns the background outside the SR, is sampled inside it, and a
    k-fold classifier separates SR data from the samples (see the module). Arguments as
    :func:`cwola`; the flow is trained on every event outside the SR."""
    _check(rows, mjj, features)
    inside = region.contains(mjj)
    if inside.sum() < config.folds:
        raise ValueError(f"too few events in the signal region {region}")
    columns = _columns(features, inputs)
    heavier, lighter = _mass_pair(inputs)
    flow = fit_background_flow(_to_mass_difference(rows[~inside][:, columns], heavier, lighter),
                               mjj[~inside], flow_config)  # fmt: skip
    n_samples = flow_config.oversampling * int(inside.sum())
    sample_mjj = _mjj_in_region(mjj[inside], region, n_samples, flow_config.seed)
    samples = flow.sample(torch.from_numpy(sample_mjj.astype(np.float32))).numpy()
    samples = _from_mass_difference(samples, heavier, lighter)
    # the samples written into the full column layout, so that one standardiser serves
    # training and the exported model
    padded = np.zeros((n_samples, rows.shape[1]), dtype=rows.dtype)
    padded[:, columns] = samples
    score, model = _against_background(rows, inside, padded, columns, config)
    summary = {"signal_region_events": int(inside.sum()), "flow_events": int((~inside).sum()),
               "samples": n_samples, "flow_validation_nll": min(flow.history)}  # fmt: skip
    return WeakResult(score, model, region, "cathode", summary)


def _against_background(rows, inside, background, columns, config):
    """The k-fold classifier of SR data (label 1) against ``background`` rows (0, the same
    column layout): each event's score from its fold's member, and the scoring model."""
    train_x = np.concatenate([rows[inside], background])
    label = np.concatenate([np.ones(inside.sum()), np.zeros(len(background))])
    standardise = standardiser(train_x, columns)
    rng = np.random.default_rng(config.seed)
    fold = rng.integers(0, config.folds, len(rows))
    fold_train = np.concatenate([fold[inside], rng.integers(0, config.folds, len(background))])
    members = kfold_members(on_numpy(standardise, train_x), label, fold_train, config)
    score = fold_scores(members, on_numpy(standardise, rows), fold)
    return score, ScoringModel(standardise, members)


def against_template(
    rows: np.ndarray,
    mjj: np.ndarray,
    region: SignalRegion,
    features: Sequence[str],
    template: np.ndarray,
    template_mjj: np.ndarray,
    inputs: Sequence[str] = INPUTS,
    config: ClassifierConfig = ClassifierConfig(),
) -> WeakResult:
    """The classifier of SR data against a background template's events in the same SR:
    simulated background (simulation-assisted CWoLa, arXiv:2009.02205), or, in a bench, an
    independent sample of the true background, which makes it CATHODE's *idealised anomaly
    detector* (arXiv:2109.00546, figure 6): what CATHODE would reach with a perfect flow.
    Arguments as :func:`cwola`, with ``template`` rows (same columns) and their m_jj (GeV)."""
    _check(rows, mjj, features)
    _check(template, template_mjj, features)
    inside, in_template = region.contains(mjj), region.contains(template_mjj)
    if inside.sum() < config.folds or in_template.sum() < config.folds:
        raise ValueError(f"too few events of the data or the template in {region}")
    score, model = _against_background(rows, inside, template[in_template],
                                       _columns(features, inputs), config)  # fmt: skip
    summary = {"signal_region_events": int(inside.sum()),
               "template_events": int(in_template.sum())}  # fmt: skip
    return WeakResult(score, model, region, "template", summary)


METHODS = {"cwola": cwola, "cathode": cathode}


def _same_file(name: str) -> str:
    """A file's identity for comparison: URLs as written, local paths resolved."""
    return name if "://" in name else str(Path(name).resolve())


def check_out_of_sample(models: Mapping[str, str | Path], fileset: Mapping) -> None:
    """Refuse, in one line, to score a weakly supervised classifier on a file it was trained
    on. Its exported score is the members' mean, and 4 of the 5 members saw each signal-region
    event of those files as "signal-region data": scored in-sample they pass a cut more often
    than the sidebands' events do, which makes a bump the data do not hold.

    Args:
        models: ``{name: MODEL.pt}`` as given to a processor.
        fileset: coffea's fileset (``{dataset: {"files": {path: tree} or [path, ...]}}``).
    """
    from jetad.models.export import load_metadata

    listed = [e.get("files", ()) if isinstance(e, Mapping) else () for e in fileset.values()]
    scored = {_same_file(str(name)) for files in listed for name in files}  # the run checks layout
    for name, path in models.items():
        metadata = load_metadata(path)
        if metadata.get("method") not in METHODS:
            continue
        trained = {_same_file(f) for f in metadata.get("data", {}).get("files", [])}
        overlap = sorted(scored & trained)
        if overlap:
            more = f" and {len(overlap) - 1} more" if len(overlap) > 1 else ""
            raise ValueError(
                f"model {name!r} ({path}) is a {metadata['method']} classifier trained on "
                f"{overlap[0]}{more}, which the fileset holds: scored on its own training data "
                "it raises the signal region above its sidebands; run it on other files"
            )


def train_on_files(
    method: str,
    files,
    region: SignalRegion,
    output,
    config: ClassifierConfig = ClassifierConfig(),
    flow_config: FlowConfig = FlowConfig(),
) -> tuple[WeakResult, dict]:
    """Train ``method`` on the ``lhco`` rows of ``files`` (the events the dijet processor
    selects, through :func:`jetad.datasets.feature_rows`) and export it to
    ``output``, its working points set on the signal region's data. Returns the result and the
    rows' summary. Follow with ``jetad decorrelate OUTPUT --background FILES`` for cuts that
    keep the QCD m_jj shape."""
    from jetad.datasets import feature_rows
    from jetad.features import FEATURE_SETS
    from jetad.models.export import export_classifier

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    feature_set = FEATURE_SETS["lhco"]
    rows, summary = feature_rows(feature_set, files, also=("mjj",))
    rows = np.asarray(rows, dtype=float)
    if len(rows) == 0:
        raise ValueError(f"no event of {[str(f) for f in files]} passes the dijet selection")
    x, mjj = rows[:, :-1], rows[:, -1]
    extra = {"method": method, "signal_region": {"mass": region.mass, "edges": region.edges},
             "inputs": list(INPUTS), "classifier": asdict(config), "data": summary}  # fmt: skip
    if method == "cathode":
        found = cathode(x, mjj, region, feature_set.names, config=config, flow_config=flow_config)
        extra["flow"] = asdict(flow_config)
    else:
        found = cwola(x, mjj, region, feature_set.names, config=config)
    extra["summary"] = found.summary
    export_classifier(found.model, x[region.contains(mjj)], output, feature_set.name,
                      feature_set.names, extra)  # fmt: skip
    return found, summary
