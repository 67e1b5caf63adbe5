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
    β ∈ {0.1, 0.5, 1, 5}. Score heads:

    - ``kl_background``: the per-event KL divergence of q(z|x) to the *background's aggregate
      posterior*, N(m_B, v_B) per latent dimension, with m_B the mean of the latent means and
      v_B their variance plus the mean latent variance on held-out background
      (:meth:`set_reference`, called at the end of training; N(0, 1) until then);
    - ``kl``: the KL divergence to the prior N(0, 1), Bortolato et al.'s anomaly score;
    - ``mse`` (the reconstruction of the latent mean) and ``elbo`` (α·MSE + β·KL).

    Why the first head: the KL to N(0, 1) ranks events by where they sit along the latent
    coordinate whenever the background's latent means are not centred on the prior's. On
    jetad's QCD (jet masses up to 1 TeV, MaxAbs inputs, Adadelta at Keras' step) they sit at
    0.8–1.0 with σ_z ≈ 0.75, the coordinate follows the lighter jet's τ21, and the KL ranks
    2-prong W′ events *below* QCD (AUC 0.11–0.15 over three seeds); the KL to the background's
    own latent distribution measures how far an event is from that distribution, whatever its
    offset or sign, and gives 0.75–0.80 (``python bench/models.py``). An ensemble averages
    each member's own ``kl_background``, so a member whose latent coordinate is flipped needs
    no alignment.
    """

    score_names = ("kl_background", "kl", "mse", "elbo")

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
        self.register_buffer("reference_mean", torch.zeros(latent))
        self.register_buffer("reference_var", torch.ones(latent))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        return out[:, : self.latent], out[:, self.latent :]

    def kl(self, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        return 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=1)

    def kl_background(self, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """KL(N(mean, e^log_var) ‖ N(reference_mean, reference_var)), summed over z."""
        ratio = log_var.exp() / self.reference_var
        offset = (mean - self.reference_mean) ** 2 / self.reference_var
        return 0.5 * (ratio + offset - 1.0 - ratio.log()).sum(dim=1)

    @torch.jit.ignore
    def set_reference(self, background: torch.Tensor) -> None:
        """Set the background's aggregate posterior from preprocessed background rows."""
        with torch.no_grad():
            mean, log_var = self.encode(background)
            self.reference_mean.copy_(mean.mean(dim=0))
            self.reference_var.copy_(mean.var(dim=0) + log_var.exp().mean(dim=0))

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
        return torch.stack(
            [self.kl_background(mean, log_var), kl, mse, self.alpha * mse + self.beta * kl],
            dim=1,
        )


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
