"""CATHODE's background density p(x | m_jj): a conditional normalizing flow (zuko), trained
outside a signal region and sampled inside it (used by :func:`jetad.weak_supervision.cathode`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jetad._extras import require
from jetad.models.preprocessing import Affine

__all__ = ["BackgroundFlow", "FlowConfig", "fit_background_flow", "validation_mask"]


@dataclass(frozen=True)
class FlowConfig:
    """The background density p(x | m_jj): a zuko masked autoregressive flow (affine, as
    CATHODE's), Adam, best validation negative log-likelihood; ``oversampling`` samples per SR
    event (CATHODE: ≈ 4). A neural spline flow (``spline=True``) is more flexible and slower
    per step on a CPU."""

    transforms: int = 5
    hidden: tuple[int, ...] = (64, 64)
    spline: bool = False
    learning_rate: float = 1e-3
    batch_size: int = 512
    epochs: int = 50
    validation_fraction: float = 0.2
    oversampling: int = 4
    seed: int = 0


def validation_mask(n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask of ``fraction`` of ``n`` rows, for validation."""
    mask = np.zeros(n, dtype=bool)
    mask[rng.permutation(n)[: max(1, int(round(fraction * n)))]] = True
    return mask


class BackgroundFlow(nn.Module):
    """p(x | m_jj): inputs mapped to the real line (min–max to (0, 1), logit, standardised),
    context ln m_jj standardised, a zuko flow in between."""

    def __init__(self, x: np.ndarray, mjj: np.ndarray, config: FlowConfig):
        zuko = require("zuko", "CATHODE's background flow")

        super().__init__()
        span = x.max(axis=0) - x.min(axis=0)
        self.register_buffer("low", torch.as_tensor(x.min(axis=0) - 0.01 * span))
        self.register_buffer("width", torch.as_tensor(1.02 * span))
        u = self._to_real(torch.as_tensor(x)).numpy()
        self.scale_x = Affine(u.mean(axis=0), u.std(axis=0))
        log_m = np.log(mjj)
        self.scale_m = Affine(np.array([log_m.mean()]), np.array([log_m.std()]))
        kind = zuko.flows.NSF if config.spline else zuko.flows.MAF
        self.flow = kind(
            x.shape[1], context=1, transforms=config.transforms, hidden_features=config.hidden
        )

    def _to_real(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logit((x - self.low) / self.width)

    def _context(self, mjj: torch.Tensor) -> torch.Tensor:
        return self.scale_m(torch.log(mjj)[:, None])

    def log_prob(self, x: torch.Tensor, mjj: torch.Tensor) -> torch.Tensor:
        """ln p of the *transformed* inputs (the Jacobian is constant in the parameters)."""
        return self.flow(self._context(mjj)).log_prob(self.scale_x(self._to_real(x)))

    def sample(self, mjj: torch.Tensor) -> torch.Tensor:
        """One background event at each ``mjj`` (GeV), in raw feature units."""
        with torch.no_grad():
            u = self.flow(self._context(mjj)).sample()
            u = u * self.scale_x.scale + self.scale_x.shift
            return torch.sigmoid(u) * self.width + self.low


def fit_background_flow(x: np.ndarray, mjj: np.ndarray, config: FlowConfig) -> BackgroundFlow:
    """Train :class:`BackgroundFlow` on (x, m_jj), keeping the best validation epoch."""
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    x = np.asarray(x, dtype=np.float32)
    flow = BackgroundFlow(x, mjj, config)
    xt, mt = torch.from_numpy(x), torch.from_numpy(np.asarray(mjj, dtype=np.float32))
    held = validation_mask(len(x), config.validation_fraction, rng)
    train_rows = torch.from_numpy(np.flatnonzero(~held))
    held_rows = torch.from_numpy(np.flatnonzero(held))
    optimiser = torch.optim.Adam(flow.flow.parameters(), lr=config.learning_rate)
    best, best_state, history = np.inf, None, []
    for _ in range(config.epochs):
        flow.train()
        for batch in train_rows[torch.randperm(len(train_rows))].split(config.batch_size):
            optimiser.zero_grad()
            (-flow.log_prob(xt[batch], mt[batch]).mean()).backward()
            optimiser.step()
        flow.eval()
        with torch.no_grad():
            value = float(-flow.log_prob(xt[held_rows], mt[held_rows]).mean())
        history.append(value)
        if np.isfinite(value) and value < best:
            best, best_state = value, {k: v.clone() for k, v in flow.state_dict().items()}
    if best_state is None:
        raise RuntimeError("the background flow's validation likelihood was never finite")
    flow.load_state_dict(best_state)
    flow.history = history
    return flow.eval()
