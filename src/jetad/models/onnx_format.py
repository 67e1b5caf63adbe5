"""The exported model as ONNX, for Triton, ONNX Runtime and C++ frameworks.

TorchScript (``MODEL.pt``) stays the format coffea's ``torch_wrapper`` loads, but PyTorch
deprecated it in 2.11; :func:`export_onnx` converts it to ``MODEL.onnx`` with everything that
makes it self-contained: the preprocessing, every ensemble member and the mean are in the
graph (one input ``features``, rows × the model's raw features, float32; one output
``scores``), the NaN policy too (a row with a non-finite feature scores NaN), and
``MODEL.json``'s metadata, working points included, is the model's ``jetad`` metadata entry.

    jetad export-onnx vae.pt                        # writes vae.onnx

    from jetad.models.onnx_format import OnnxScorer
    scorer = OnnxScorer("vae.onnx")
    scores = scorer(rows)                           # rows × scorer.score_names

The conversion goes through ``torch.onnx``'s TorchScript exporter (the ``torch.export`` one
cannot trace a loaded TorchScript module); a test scores the same rows both ways. The AE, the
VAE and the constituent VAE convert; the ℓ+X VAE (``log_ndtr``) and the WNAE/NAE (the
quantile preprocessing's ``searchsorted``) use operators opset 17 lacks, and are refused in
one line naming the operator.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from jetad._extras import require
from jetad.models.export import check_working_points, load_metadata, load_model

__all__ = ["OPSET", "OnnxScorer", "export_onnx", "load_onnx_metadata"]

#: The ONNX opset written (supported by onnxruntime ≥ 1.14).
OPSET = 17


def export_onnx(model_path: str | Path, output: str | Path | None = None) -> Path:
    """Convert an exported jetad model (``MODEL.pt`` + ``MODEL.json``) to ONNX; returns the
    path written (``MODEL.onnx`` beside the model by default)."""
    onnx = require("onnx", "ONNX export")
    metadata = load_metadata(model_path)
    model = load_model(model_path)
    output = Path(output) if output is not None else Path(model_path).with_suffix(".onnx")
    output.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(2, len(metadata["features"]))
    with warnings.catch_warnings():  # the TorchScript exporter's own deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message="no signature found")
        try:
            torch.onnx.export(
                model, (example,), str(output), dynamo=False, opset_version=OPSET,
                input_names=["features"], output_names=["scores"],
                dynamic_axes={"features": {0: "rows"}, "scores": {0: "rows"}},
            )  # fmt: skip
        except Exception as err:  # torch.onnx raises UnsupportedOperatorError and others
            output.unlink(missing_ok=True)
            reason = " ".join(str(err).split()).split(". ")[0]
            raise ValueError(
                f"cannot convert {str(model_path)!r} ({metadata.get('config', {}).get('model')}) "
                f"to ONNX: {reason}"
            ) from None
    proto = onnx.load(str(output))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "jetad", json.dumps(metadata)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(output))
    return output


def load_onnx_metadata(path: str | Path) -> dict:
    """The ``jetad`` metadata of an ONNX model written by :func:`export_onnx`, its working
    points checked; one line naming the file otherwise."""
    onnx = require("onnx", "reading an ONNX model")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # protobuf raises DecodeError, OSError…
        raise ValueError(f"cannot read {str(path)!r} as an ONNX model: {err}") from None
    props = {p.key: p.value for p in proto.metadata_props}
    if "jetad" not in props:
        raise ValueError(f"{str(path)!r} is not a jetad ONNX model (no 'jetad' metadata)")
    metadata = json.loads(props["jetad"])
    check_working_points(metadata.get("working_points", {}), f"ONNX model {str(path)!r}")
    return metadata


class OnnxScorer:
    """Score rows × features with an ONNX model through ONNX Runtime (CPU).

    Attributes:
        metadata: the model's metadata (feature names, score names, working points…).
        features, score_names: from the metadata.
    """

    def __init__(self, path: str | Path):
        runtime = require("onnxruntime", "scoring an ONNX model")
        self.metadata = load_onnx_metadata(path)
        self.features = tuple(self.metadata["features"])
        self.score_names = tuple(self.metadata["scores"])
        self.session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != len(self.features):
            raise ValueError(
                f"expected a rows × {len(self.features)} feature matrix "
                f"({', '.join(self.features)}), got shape {rows.shape}"
            )
        if len(rows) == 0:
            return np.empty((0, len(self.score_names)), dtype=np.float32)
        return self.session.run(None, {"features": rows})[0]
