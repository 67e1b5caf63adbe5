"""Normalized autoencoders: the NAE (Yoon et al.) and the Wasserstein NAE (WNAE; Eble, CMS
MLG-24-002, arXiv:2510.02168).

The energy of a point is its reconstruction error, E(x) = Σ_d (x_d − x̂_d)² / D. Negative
samples come from Langevin dynamics on that energy,

    x ← clamp(x − (λ/T) ∇_x E(x) + σ ε, bounds),   λ = σ²/2,

and the loss is the exact earth mover's distance (POT's ``ot.emd2`` on squared Euclidean
costs, uniform weights) between a data batch and the negatives, back-propagated through the
unrolled chain. The chains start from the data batch (``cd``); for ``pcd``, from a replay
buffer of past negatives (probability ``replay``) or fresh uniform noise; for ``omi``
(on-manifold initialisation), from the decoder's image of a short Langevin chain in latent
space that starts from the prior. The WNAE epoch is chosen at the smallest validation EMD,
measured with fresh chains that never touch the buffer, which keeps the choice signal-agnostic.

The NAE is an AE trained first on the MSE, then on E(x⁺) − E(x⁻) + γ·E(x⁻)² with detached
OMI negatives (on-manifold initialisation is essential: CD and PCD diverge). Its training has
no well-defined best epoch, so the last epoch is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from jetad._extras import require
from jetad.models.networks import AE

__all__ = ["NAE", "LangevinSampler", "SamplerConfig", "WNAE", "emd"]


@dataclass(frozen=True)
class SamplerConfig:
    """Langevin MCMC settings; the defaults are the WNAE paper's example settings."""

    steps: int = 10
    sigma: float = 0.22
    temperature: float = 0.063
    bounds: tuple[float, float] = (-3.0, 3.0)
    init: str = "pcd"
    buffer_size: int = 10_000
    replay: float = 0.95
    latent_steps: int = 10
    latent_sigma: float = 0.1
    latent_temperature: float = 1.0
    gamma: float = 1.0

    def __post_init__(self):
        if self.init not in ("pcd", "cd", "omi"):
            raise ValueError(f"unknown chain initialisation {self.init!r}; valid: pcd, cd, omi")

    @property
    def step_size(self) -> float:
        return self.sigma**2 / 2


class WNAE(AE):
    """An AE whose score is its energy E(x), the per-event reconstruction MSE."""

    score_names = ("energy",)


class NAE(WNAE):
    """The normalized autoencoder: the same network and energy, a different training loss."""


def emd(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exact EMD between two equal-size point clouds, differentiable in both."""
    weights = torch.full((len(x),), 1.0 / len(x), dtype=x.dtype, device=x.device)
    ot = require("ot", "the WNAE's Wasserstein loss")
    return ot.emd2(weights, weights, ot.dist(x, y))


class LangevinSampler:
    """Langevin chains on an energy, with an optional persistent replay buffer."""

    def __init__(self, config: SamplerConfig, n_features: int):
        self.config = config
        self.n_features = n_features
        self.buffer = torch.empty(0, n_features)

    def noise(self, n: int) -> torch.Tensor:
        low, high = self.config.bounds
        return low + (high - low) * torch.rand(n, self.n_features)

    def on_manifold(self, network: AE, n: int) -> torch.Tensor:
        """Decoded end points of latent Langevin chains started from the prior."""
        c = self.config
        latent = network.decoder[0].in_features
        z = torch.randn(n, latent).requires_grad_(True)
        step = c.latent_sigma**2 / 2
        for _ in range(c.latent_steps):
            decoded = network.decoder(z)
            energy = ((network(decoded) - decoded) ** 2).mean(dim=1)
            grad = torch.autograd.grad(energy.sum(), z)[0]
            z = z - (step / c.latent_temperature) * grad + c.latent_sigma * torch.randn_like(z)
            z = z.detach().requires_grad_(True)
        with torch.no_grad():
            return network.decoder(z).clamp(*c.bounds)

    def start(self, data: torch.Tensor, network: AE | None = None) -> torch.Tensor:
        if self.config.init == "cd":
            return data.detach().clone()
        if self.config.init == "omi":
            return self.on_manifold(network, len(data)).to(data.device)
        start = self.noise(len(data)).to(data.device)
        if len(self.buffer):
            replay = torch.rand(len(data)) < self.config.replay
            picks = torch.randint(len(self.buffer), (int(replay.sum()),))
            start[replay.to(data.device)] = self.buffer[picks].to(data.device)
        return start

    def run(self, energy, start: torch.Tensor, create_graph: bool) -> torch.Tensor:
        """Run the chain; with ``create_graph`` the result stays differentiable in the network."""
        c = self.config
        low, high = c.bounds
        x = start.detach().requires_grad_(True)
        for _ in range(c.steps):
            grad = torch.autograd.grad(energy(x).sum(), x, create_graph=create_graph)[0]
            x = x - (c.step_size / c.temperature) * grad + c.sigma * torch.randn_like(x)
            x = x.clamp(low, high)
            if not create_graph:
                x = x.detach().requires_grad_(True)
        return x

    def remember(self, negatives: torch.Tensor) -> None:
        if self.config.init != "pcd":
            return
        self.buffer = torch.cat([negatives.detach().cpu(), self.buffer])[: self.config.buffer_size]

    def loss(self, network: WNAE, data: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The training EMD of a batch, with the chain unrolled into the graph."""
        negatives = self.run(network.mse, self.start(data, network), create_graph=True)
        self.remember(negatives)
        distance = emd(data, negatives)
        return distance, {
            "emd": distance,
            "e_pos": network.mse(data).mean().detach(),
            "e_neg": network.mse(negatives).mean().detach(),
        }

    def nae_loss(self, network: NAE, data: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """E(x⁺) − E(x⁻) + γ·E(x⁻)² with detached on-manifold negatives."""
        negatives = self.run(network.mse, self.on_manifold(network, len(data)), create_graph=False)
        positive = network.mse(data).mean()
        negative = network.mse(negatives.detach()).mean()
        loss = positive - negative + self.config.gamma * negative**2
        return loss, {"e_pos": positive.detach(), "e_neg": negative.detach()}

    def validation(self, network: WNAE, data: torch.Tensor) -> dict[str, float]:
        """EMD with fresh chains (noise, or on-manifold for ``omi``); the buffer is untouched."""
        if self.config.init == "omi":
            start = self.on_manifold(network, len(data)).to(data.device)
        else:
            start = self.noise(len(data)).to(data.device)
        negatives = self.run(network.mse, start, create_graph=False)
        with torch.no_grad():
            return {
                "emd": float(emd(data, negatives.detach())),
                "e_pos": float(network.mse(data).mean()),
                "e_neg": float(network.mse(negatives).mean()),
            }
