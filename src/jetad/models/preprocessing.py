"""Input preprocessing fitted on training data, as TorchScript-able modules.

The fitted module travels inside every exported model, so scoring applies exactly the
transformation the model was trained with:

- ``maxabs``: x / max|x| (Bortolato et al.)
- ``standard``: (x − mean) / std
- ``robust``: (x − median) / (q75 − q25) (Cheng et al.)
- ``quantile``: the empirical CDF of each feature mapped to a standard normal, with
  ``n_quantiles`` knots and linear interpolation, as scikit-learn's
  ``QuantileTransformer(output_distribution="normal")`` (the WNAE inputs).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["KINDS", "Affine", "QuantileNormal", "fit_preprocessing"]

KINDS = ("maxabs", "standard", "robust", "quantile", "none")
_CLIP = 1e-7


class Affine(nn.Module):
    """y = (x − shift) / scale, per feature."""

    def __init__(self, shift: np.ndarray, scale: np.ndarray):
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale


class QuantileNormal(nn.Module):
    """Per-feature empirical CDF (linear between quantile knots), then the normal quantile."""

    def __init__(self, knots: np.ndarray):
        super().__init__()
        self.register_buffer("knots", torch.as_tensor(knots.T.copy(), dtype=torch.float32))
        n = knots.shape[0]
        self.register_buffer("levels", torch.linspace(0.0, 1.0, n))
        self.clip = _CLIP

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = []
        for d in range(self.knots.shape[0]):
            knots = self.knots[d]
            value = x[:, d].contiguous()
            upper = torch.searchsorted(knots, value).clamp(1, knots.shape[0] - 1)
            lower = upper - 1
            width = (knots[upper] - knots[lower]).clamp_min(1e-12)
            fraction = ((value - knots[lower]) / width).clamp(0.0, 1.0)
            level = self.levels[lower] + fraction * (self.levels[upper] - self.levels[lower])
            columns.append(torch.special.ndtri(level.clamp(self.clip, 1.0 - self.clip)))
        return torch.stack(columns, dim=1)


def fit_preprocessing(kind: str, x: np.ndarray, n_quantiles: int = 1000) -> nn.Module:
    """Fit a preprocessing of ``kind`` on ``x`` (rows × features, finite values).

    Constant features get scale 1, so they map to 0 (or stay put) instead of dividing by 0.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown preprocessing {kind!r}; valid: {', '.join(KINDS)}")
    x = np.asarray(x, dtype=np.float64)
    if kind == "none":
        return nn.Identity()
    if kind == "quantile":
        levels = np.linspace(0.0, 1.0, min(n_quantiles, len(x)))
        return QuantileNormal(np.quantile(x, levels, axis=0))
    if kind == "maxabs":
        shift, scale = np.zeros(x.shape[1]), np.max(np.abs(x), axis=0)
    elif kind == "standard":
        shift, scale = x.mean(axis=0), x.std(axis=0)
    else:
        q25, shift, q75 = np.quantile(x, [0.25, 0.5, 0.75], axis=0)
        scale = q75 - q25
    return Affine(shift, np.where(scale > 0, scale, 1.0))
