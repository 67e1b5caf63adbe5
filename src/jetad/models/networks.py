"""Autoencoder networks: the AE baseline and the VAE of Bortolato et al.

Each network exposes ``scores(x)`` returning one column per score head, so the exported
TorchScript model can be used without knowing its class.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "AE", "VAE", "mlp", "outlier_exposure"]

ACTIVATIONS = {"selu": nn.SELU, "relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh}


def mlp(sizes: list[int], activation: str) -> nn.Sequential:
    """Linear layers of ``sizes`` with ``activation`` between them and a linear output."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class AE(nn.Module):
    """A deterministic autoencoder; its anomaly score is the per-event MSE."""

    score_names = ("mse",)

    def __init__(self, n_features: int, hidden: list[int], latent: int, activation: str = "selu"):
        super().__init__()
        self.encoder = mlp([n_features, *hidden, latent], activation)
        self.decoder = mlp([latent, *reversed(hidden), n_features], activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def mse(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.forward(x) - x) ** 2).mean(dim=1)

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mse = self.mse(x).mean()
        return mse, {"mse": mse}

    @torch.jit.export
    def scores(self, x: torch.Tensor) -> torch.Tensor:
        return self.mse(x)[:, None]


class VAE(nn.Module):
    """A VAE with a Gaussian latent; loss α·MSE + β·KL.

    Bortolato et al. use α = 5000, β = 1; Cheng et al.'s constituent VAE uses α = 1 and
    β ∈ {0.1, 0.5, 1, 5}. Score heads: ``kl`` (the per-event KL divergence of q(z|x) to the
    prior, Bortolato et al.'s anomaly score), ``mse`` (the reconstruction of the latent mean)
    and ``elbo`` (α·MSE + β·KL).
    """

    score_names = ("kl", "mse", "elbo")

    def __init__(
        self,
        n_features: int,
        hidden: list[int],
        latent: int,
        activation: str = "selu",
        alpha: float = 5000.0,
        beta: float = 1.0,
    ):
        super().__init__()
        self.encoder = mlp([n_features, *hidden, 2 * latent], activation)
        self.decoder = mlp([latent, *reversed(hidden), n_features], activation)
        self.latent = latent
        self.alpha = alpha
        self.beta = beta

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        return out[:, : self.latent], out[:, self.latent :]

    def kl(self, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        return 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=1)

    def terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-event MSE of a sampled reconstruction and KL, for the training losses."""
        mean, log_var = self.encode(x)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        return ((self.decoder(z) - x) ** 2).mean(dim=1), self.kl(mean, log_var)

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mse, kl = (t.mean() for t in self.terms(x))
        return self.alpha * mse + self.beta * kl, {"mse": mse, "kl": kl}

    @torch.jit.export
    def scores(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.encode(x)
        kl = self.kl(mean, log_var)
        mse = ((self.decoder(mean) - x) ** 2).mean(dim=1)
        return torch.stack([kl, mse, self.alpha * mse + self.beta * kl], dim=1)


def outlier_exposure(
    network: VAE, inliers: torch.Tensor, outliers: torch.Tensor, kind: str, margin: float
) -> torch.Tensor:
    """The outlier-exposure term L_OE of Cheng et al., to be *subtracted* with weight λ.

    - ``mse``: mean over pairs of sigmoid(MSE(outlier) − MSE(inlier));
    - ``kl``: the KL margin, mean of min(0, KL(outlier) − KL(inlier) − margin).
    """
    mse_in, kl_in = network.terms(inliers)
    mse_out, kl_out = network.terms(outliers)
    if kind == "mse":
        return torch.sigmoid(mse_out - mse_in).mean()
    return torch.clamp(kl_out - kl_in - margin, max=0.0).mean()
