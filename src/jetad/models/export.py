"""Export trained models as one self-contained TorchScript file plus a metadata JSON.

``MODEL.pt`` maps a ``(rows, features)`` float32 tensor of *raw* features to
``(rows, scores)``: preprocessing, every ensemble member and the ensemble mean are inside.
**NaN policy:** a row with any NaN or infinite feature gets NaN for every score; it is never
scored as if it were an ordinary event. ``MODEL.json`` beside it holds the feature set and
names, the score names, the training configuration, the chosen epochs and the working points:
the thresholds of the primary score at 10%, 1% and 0.1% background efficiency on held-out
background. Working points are checked when a model is written and when it is read: they must
be finite and ordered (the 10% threshold below the 1% one below the 0.1% one, the score rising
with anomaly), or the model is refused with its file named.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from jetad.models.metrics import thresholds_at_efficiency
from jetad.models.training import TrainedModel

__all__ = [
    "WORKING_POINTS",
    "ScoringModel",
    "check_working_points",
    "export",
    "export_classifier",
    "load_metadata",
    "load_model",
    "metadata_path",
    "score_matrix",
]

#: Working-point names and their background efficiencies.
WORKING_POINTS = {"eff10": 0.10, "eff1": 0.01, "eff0p1": 0.001}
NAN_POLICY = "rows with any non-finite feature get NaN scores"


class ScoringModel(nn.Module):
    """Preprocessing, then the mean of every member's ``scores``; NaN rows stay NaN."""

    def __init__(self, preprocessing: nn.Module, members: list[nn.Module]):
        super().__init__()
        self.preprocessing = preprocessing
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        finite = torch.isfinite(x).all(dim=1, keepdim=True)
        y = self.preprocessing(torch.where(finite, x, torch.zeros_like(x)))
        total = torch.zeros(0)
        count = 0
        for member in self.members:
            scores = member.scores(y)
            total = scores if count == 0 else total + scores
            count += 1
        total = total / count
        return torch.where(finite, total, torch.full_like(total, float("nan")))


def check_working_points(working_points: dict[str, float], where: str) -> None:
    """Raise ValueError unless every working point of :data:`WORKING_POINTS` is present,
    finite and the thresholds rise as the background efficiency falls."""
    missing = [name for name in WORKING_POINTS if name not in working_points]
    if missing:
        raise ValueError(f"{where}: working points {missing} are missing")
    values = {name: working_points[name] for name in WORKING_POINTS}
    bad = {name: v for name, v in values.items() if v is None or not np.isfinite(v)}
    if bad:
        raise ValueError(f"{where}: working points are not finite: {bad}")
    thresholds = list(values.values())
    if not all(a < b for a, b in zip(thresholds[:-1], thresholds[1:], strict=False)):
        raise ValueError(
            f"{where}: working-point thresholds must rise as the background efficiency falls, "
            f"got {values}"
        )


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def _selection(feature_set: str) -> dict | None:
    """The event selection a registered feature set's rows were taken after (what the
    working points' efficiencies refer to)."""
    from jetad.features import FEATURE_SETS

    selection = getattr(FEATURE_SETS.get(feature_set), "selection", None)
    return None if selection is None else selection.to_dict()


def _write(
    model: nn.Module, reference: np.ndarray, path: str | Path, feature_set: str,
    features: tuple[str, ...], scores: tuple[str, ...], metadata: dict,
) -> Path:
    """Script ``model``, set its working points on the ``reference`` rows (background), write
    both files; returns the model path."""
    path = Path(path)
    scripted = torch.jit.script(model.eval())
    with torch.no_grad():
        reference_scores = scripted(torch.from_numpy(np.asarray(reference, np.float32))).numpy()
    working_points = thresholds_at_efficiency(reference_scores[:, 0], WORKING_POINTS)
    check_working_points(working_points, f"cannot export {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    scripted.save(str(path))
    metadata = {
        "feature_set": feature_set,
        "features": list(features),
        "selection": _selection(feature_set),
        "scores": list(scores),
        "primary_score": scores[0],
        "working_points": working_points,
        "working_point_efficiencies": WORKING_POINTS,
        "nan_policy": NAN_POLICY,
        **metadata,
    }
    metadata_path(path).write_text(json.dumps(metadata, indent=2) + "\n")
    return path


def export(
    trained: TrainedModel,
    path: str | Path,
    feature_set: str,
    features: tuple[str, ...],
    extra: dict | None = None,
) -> Path:
    """Write ``path`` (TorchScript) and its metadata JSON; returns the model path."""
    metadata = {
        "config": trained.config.to_dict(),
        "chosen_epochs": trained.chosen_epochs,
        "epoch_rules": trained.rules,
        "members": [asdict(report) for report in trained.reports],
        "n_validation": int(len(trained.validation)),
        **(extra or {}),
    }
    model = ScoringModel(trained.preprocessing, trained.members)
    return _write(model, trained.validation, path, feature_set, features, trained.score_names,
                  metadata)  # fmt: skip


def export_classifier(
    model: ScoringModel,
    reference: np.ndarray,
    path: str | Path,
    feature_set: str,
    features: tuple[str, ...],
    extra: dict | None = None,
) -> Path:
    """Write a weakly supervised classifier (:mod:`jetad.weak_supervision`; score ``logit``)
    like every other model; its working points are set on ``reference``, rows that are
    background to a good approximation (e.g. the signal region's data)."""
    metadata = {"n_validation": int(len(reference)), **(extra or {})}
    return _write(model, reference, path, feature_set, features, ("logit",), metadata)


def load_metadata(model_path: str | Path) -> dict:
    """The metadata JSON of an exported model, its working points checked; a one-line
    ValueError naming the file when it is missing, unreadable or its working points are not
    finite and ordered."""
    path = metadata_path(model_path)
    if not path.exists():
        raise ValueError(f"model {str(model_path)!r} has no metadata file {str(path)!r}")
    try:
        metadata = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"model metadata {str(path)!r} is not valid JSON: {err}") from None
    check_working_points(metadata.get("working_points", {}), f"model metadata {str(path)!r}")
    return metadata


def load_model(model_path: str | Path) -> torch.jit.ScriptModule:
    """The exported TorchScript model; a one-line ValueError naming the file when it is
    missing, truncated or not a TorchScript archive."""
    try:
        return torch.jit.load(str(model_path), map_location="cpu")
    except Exception as err:  # torch raises RuntimeError, ValueError, OSError…
        message = " ".join(str(err).split()).split(". ")[0]
        raise ValueError(
            f"model {str(model_path)!r} is not a readable TorchScript file: "
            f"{type(err).__name__}: {message}"
        ) from None


def score_matrix(model_path: str | Path, x: np.ndarray) -> np.ndarray:
    """Scores of a ``(rows, features)`` matrix with the exported model, on the CPU."""
    model = load_model(model_path)
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()
