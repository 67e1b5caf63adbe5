"""CATHODE's background density p(x | m_jj): a conditional normalizing flow (zuko), trained
outside a signal region and sampled inside it (used by :func:`jetad.weak_supervision.cathode`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jetad._extras import require
from jetad.models.preprocessing import Affine

__all__ = ["BackgroundFlow", "FlowConfig", "FlowEnsemble", "fit_background_flow", "validation_mask"]


@dataclass(frozen=True)
class FlowConfig:
    """The background density p(x | m_jj): a zuko masked autoregressive flow (affine, as
    CATHODE's), Adam; the states of the ``best_epochs`` epochs of smallest validation negative
    log-likelihood each draw an equal share of the samples (CATHODE samples its 10 best of 100
    epochs); ``oversampling`` samples per SR event (CATHODE: ≈ 4). A neural spline flow
    (``spline=True``) is more flexible and slower per step on a CPU."""

    transforms: int = 5
    hidden: tuple[int, ...] = (64, 64)
    spline: bool = False
    learning_rate: float = 1e-3
    batch_size: int = 512
    epochs: int = 50
    validation_fraction: float = 0.2
    best_epochs: int = 1
    oversampling: int = 4
    seed: int = 0

    def __post_init__(self):
        if not 1 <= self.best_epochs <= self.epochs:
            raise ValueError(f"best_epochs must be in 1..epochs, got {self.best_epochs}")


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


class FlowEnsemble(nn.Module):
    """The states of a flow's best epochs (``validation``: their validation losses, ``history``:
    every epoch's); each samples an equal share of the events."""

    def __init__(self, members: list[BackgroundFlow], validation: list[float],
                 history: list[float]):  # fmt: skip
        super().__init__()
        self.members = nn.ModuleList(members)
        self.validation, self.history = validation, history

    def log_prob(self, x: torch.Tensor, mjj: torch.Tensor) -> torch.Tensor:
        """ln of the members' mean density of the transformed inputs."""
        each = torch.stack([member.log_prob(x, mjj) for member in self.members])
        return torch.logsumexp(each, dim=0) - np.log(len(self.members))

    def sample(self, mjj: torch.Tensor) -> torch.Tensor:
        """One background event at each ``mjj`` (GeV): member k draws rows k, k + K, …"""
        k = len(self.members)
        out = torch.empty((len(mjj), self.members[0].low.shape[0]))
        for i, member in enumerate(self.members):
            out[i::k] = member.sample(mjj[i::k])
        return out


def fit_background_flow(x: np.ndarray, mjj: np.ndarray, config: FlowConfig) -> FlowEnsemble:
    """Train :class:`BackgroundFlow` on (x, m_jj); the ensemble of its ``best_epochs`` states of
    smallest validation loss."""
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    x = np.asarray(x, dtype=np.float32)
    flow = BackgroundFlow(x, mjj, config)
    xt, mt = torch.from_numpy(x), torch.from_numpy(np.asarray(mjj, dtype=np.float32))
    held = validation_mask(len(x), config.validation_fraction, rng)
    train_rows = torch.from_numpy(np.flatnonzero(~held))
    held_rows = torch.from_numpy(np.flatnonzero(held))
    optimiser = torch.optim.Adam(flow.flow.parameters(), lr=config.learning_rate)
    best, history = [], []  # (validation loss, epoch, state) of the best epochs
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
        if np.isfinite(value) and (len(best) < config.best_epochs or value < best[-1][0]):
            state = {k: v.clone() for k, v in flow.state_dict().items()}
            best = sorted([*best, (value, len(history), state)], key=lambda b: b[:2])
            best = best[: config.best_epochs]
    if not best:
        raise RuntimeError("the background flow's validation likelihood was never finite")
    members = []
    for _, _, state in best:
        member = copy.deepcopy(flow)
        member.load_state_dict(state)
        members.append(member.eval())
    return FlowEnsemble(members, [b[0] for b in best], history).eval()
