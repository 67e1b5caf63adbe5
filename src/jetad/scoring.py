"""Columnar anomaly scoring inside coffea, through ``coffea.ml_tools.torch_wrapper``.

:class:`AnomalyScorer` loads an exported jetad model (``MODEL.pt`` and ``MODEL.json``) and
scores a feature table computed by a :class:`jetad.features.FeatureSet`:

>>> scorer = AnomalyScorer("vae.pt", feature_set="lhco")          # doctest: +SKIP
>>> scores = scorer(FEATURE_SETS["lhco"](events))                  # events × scores

- Event-level tables (``events`` records) give ``events × scores``; jet-level tables
  (``events × jets`` records) give ``events × jets × scores``. Missing rows (None, e.g. events
  without two jets) score NaN, like rows with non-finite features.
- It works eagerly, on virtual arrays and with dask-awkward (inherited from torch_wrapper), on
  empty chunks, and on the GPU when one is present.
- Ensembles are combined inside the model (the mean of every member's scores).
- A model trained on other features is refused with both lists of names; rows with NaN or
  infinite features get NaN scores (the policy is inside the exported model).
- The model's bytes travel with the scorer (and so with the processor that holds it): Dask
  workers load the model from them, not from ``model_path``, so a cluster whose workers do
  not share the submitting machine's filesystem runs it too.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from pathlib import Path

import awkward as ak
import numpy as np
import torch
from coffea.ml_tools.torch_wrapper import torch_wrapper

from jetad._dask import eager_numpy
from jetad.models.export import load_metadata, load_model

#: Loaded models by (content digest, device), once per process: coffea ships a processor's
#: scorers to each chunk without their model (a non-serialisable attribute), and loading the
#: TorchScript file again for every chunk cost 35 ms a chunk (bench/pipeline.py's profile).
_LOADED: dict[tuple[str, str], torch.jit.ScriptModule] = {}

__all__ = ["AnomalyScorer", "event_score", "load_scorers", "primary_scores"]


def _check_selection(model_path, metadata: dict, selection: dict) -> None:
    """Warn, naming both, when a model's working points come from another event selection:
    its cuts then keep another fraction of the background than their names say."""
    import warnings

    trained = metadata.get("selection")
    if trained != selection:
        warnings.warn(
            f"model {str(model_path)!r}: working points computed on "
            f"{'no recorded selection' if trained is None else trained}, scored after "
            f"{selection}; the cuts will not keep the stated QCD fractions",
            stacklevel=3,
        )


class AnomalyScorer(torch_wrapper):
    """Score jetad feature tables with an exported model.

    Args:
        model_path: the TorchScript file written by ``jetad train``.
        feature_set: the name of the set the table comes from; it must match the model's.
        features: the table's feature names, in order; the set's names by default.
        selection: the event selection the caller scores after (``DijetSelection.to_dict()``):
            a warning names both when the model's working points were computed on another.
    """

    def __init__(
        self,
        model_path: str | Path,
        feature_set: str | None = None,
        features: tuple[str, ...] | None = None,
        selection: dict | None = None,
    ):
        self.metadata = load_metadata(model_path)
        load_model(model_path)  # a corrupt file fails here, in one line, not on a worker
        expected = tuple(self.metadata["features"])
        if feature_set is not None and feature_set != self.metadata["feature_set"]:
            raise ValueError(
                f"model {str(model_path)!r} was trained on feature set "
                f"{self.metadata['feature_set']!r} {list(expected)}, not {feature_set!r}"
            )
        if features is None and feature_set is not None:
            from jetad.features import get_feature_set

            features = get_feature_set(feature_set).names
        if features is not None and tuple(features) != expected:
            raise ValueError(
                f"model {str(model_path)!r} expects features {list(expected)}, got {list(features)}"
            )
        if selection is not None:
            _check_selection(model_path, self.metadata, selection)
        self.features = expected
        self.score_names = tuple(self.metadata["scores"])
        self.model_bytes = Path(model_path).read_bytes()
        self.model_digest = hashlib.sha256(self.model_bytes).hexdigest()  # once, not per chunk
        super().__init__(str(model_path), expected_output_shape=(None, len(self.score_names)))

    def _create_model(self):
        """The model from the bytes read at construction (``torch_wrapper`` reads its path,
        which a worker on another machine does not have)."""
        key = (self.model_digest, str(self.device))
        if key not in _LOADED:
            model = torch.jit.load(io.BytesIO(self.model_bytes), map_location=self.device)
            _LOADED[key] = model.eval()
        return _LOADED[key]

    def _check_fields(self, table: ak.Array) -> None:
        missing = [n for n in self.features if n not in ak.fields(table)]
        if missing:
            raise ValueError(
                f"the feature table lacks {missing}; the model expects {list(self.features)}"
            )

    def validate_numpy_input(self, matrix: np.ndarray) -> None:
        """The matrix handed to the model must be rows × the model's features."""
        if matrix.ndim != 2 or matrix.shape[1] != len(self.features):
            raise ValueError(
                f"expected a rows × {len(self.features)} feature matrix, got shape {matrix.shape}"
            )

    def prepare_awkward(self, table: ak.Array):
        self._check_fields(table)
        rows = ak.flatten(table, axis=1) if table.ndim == 2 else table
        if ak.backend(rows) == "cpu":  # eager or virtual: one numpy matrix, the same values
            # (awkward's per-call cost on each column was most of the scoring time of a chunk)
            matrix = np.column_stack(
                [eager_numpy(ak.values_astype(rows[name], np.float32)) for name in self.features]
            )
            return (ak.from_numpy(matrix.reshape(len(rows), len(self.features))),), {}
        columns = [
            ak.fill_none(ak.values_astype(rows[name], np.float32), np.nan)[:, np.newaxis]
            for name in self.features
        ]
        return (ak.concatenate(columns, axis=1),), {}

    def postprocess_awkward(self, return_array, table: ak.Array):
        if table.ndim == 2:
            return ak.unflatten(return_array, ak.num(table, axis=1))
        return return_array


def load_scorers(
    models: Mapping[str, str | Path], feature_set: str | None = None, selection: dict | None = None
) -> dict[str, AnomalyScorer]:
    """``{name: AnomalyScorer}`` for ``{name: MODEL.pt}``, each checked against
    ``feature_set`` and ``selection`` as :class:`AnomalyScorer` does."""
    return {
        name: AnomalyScorer(path, feature_set=feature_set, selection=selection)
        for name, path in models.items()
    }


def event_score(jet_scores: ak.Array) -> ak.Array:
    """One score per event from ``events × jets`` scores: the larger of its jets', so an event
    passes a working point (defined on the jets' background efficiency) when any jet does."""
    return ak.max(jet_scores, axis=1)


def primary_scores(
    scorers: Mapping[str, AnomalyScorer],
    table: ak.Array,
    per_event: Callable[[ak.Array], ak.Array] | None = None,
    working_points: Callable[[dict], dict] | None = None,
) -> dict[str, tuple[dict, str, ak.Array]]:
    """``{name: (working points, score name, scores)}`` of every model's first (primary)
    score on ``table``: what :func:`jetad.histograms.fill_analysis` cuts on and fills (numpy
    for eager tables, dask-awkward for dask ones).

    Args:
        scorers: as from :func:`load_scorers`.
        table: a feature table holding each model's features (extra fields are ignored).
        per_event: reduces jet-level scores to one per event (e.g. :func:`event_score`).
        working_points: more working points from a model's metadata, e.g. the m_jj-dependent
            thresholds of :func:`jetad.decorrelation.mjj_thresholds`.
    """
    found = {}
    for name, scorer in scorers.items():
        score = scorer(table[list(scorer.features)])[..., 0]
        points = dict(scorer.metadata["working_points"])
        if working_points is not None:
            points.update(working_points(scorer.metadata))
        if per_event is not None:
            score = per_event(score)
        # eager: numpy from here on, for the cuts, fills and counts of every chunk
        points = {cut: eager_numpy(threshold) for cut, threshold in points.items()}
        found[name] = (points, scorer.score_names[0], eager_numpy(score))
    return found
