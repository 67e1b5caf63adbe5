"""The ℓ+X event VAE of Cerri et al. (arXiv:1811.10276), with per-feature likelihoods.

The decoder does not reconstruct the 21 ``hlt21`` features; it outputs the parameters of a
likelihood per feature, and the loss is the negative log-likelihood of the *raw* features plus
the KL divergence of the latent posterior. The anomaly score is that total loss per event.

=================  ===========================================================  ==============
likelihood         features                                                     parameters
=================  ===========================================================  ==============
clipped log-normal lep_pt, the isolations, st, m_jets, m_mu, pt_mu_tot, m_ele,   μ, log σ, and
                   pt_ele_tot                                                   the mass at 0
Gaussian           met_parallel, met_perpendicular                              μ, log σ
positive Gaussian  mt (a Gaussian truncated at 0)                               μ, log σ
discrete           n_jets, n_b, n_mu, n_ele (categories 0 … 9, the last         10 logits
                   collecting larger counts)
binomial           lep_charge (as (q + 1)/2), lep_is_ele                        logit p
Poisson            n_charged, n_neutral                                         log λ
=================  ===========================================================  ==============

The encoder sees the features standardised with the training sample's mean and spread, which
are buffers of the module, so the exported model takes raw features like every other jetad
model (its preprocessing is ``none``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from jetad.models.networks import mlp

__all__ = ["HLT21_LIKELIHOODS", "HLTVAE", "LIKELIHOODS", "likelihood_kinds"]

LOGNORMAL, GAUSSIAN, POSITIVE_GAUSSIAN, DISCRETE, BINOMIAL, POISSON, CHARGE = range(7)
N_CATEGORIES = 10
_N_PARAMETERS = {LOGNORMAL: 3, GAUSSIAN: 2, POSITIVE_GAUSSIAN: 2, DISCRETE: N_CATEGORIES,
                 BINOMIAL: 1, POISSON: 1, CHARGE: 1}  # fmt: skip
_CLIP = 1e-3  # values at or below this are the log-normal's point mass at 0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

#: The likelihood of every hlt21 feature, in the feature set's order.
HLT21_LIKELIHOODS = {
    "lep_pt": LOGNORMAL, "lep_iso_ch": LOGNORMAL, "lep_iso_neu": LOGNORMAL,
    "lep_iso_pho": LOGNORMAL, "lep_charge": CHARGE, "lep_is_ele": BINOMIAL,
    "st": LOGNORMAL, "n_jets": DISCRETE, "m_jets": LOGNORMAL, "n_b": DISCRETE,
    "met_parallel": GAUSSIAN, "met_perpendicular": GAUSSIAN, "mt": POSITIVE_GAUSSIAN,
    "n_mu": DISCRETE, "m_mu": LOGNORMAL, "pt_mu_tot": LOGNORMAL,
    "n_ele": DISCRETE, "m_ele": LOGNORMAL, "pt_ele_tot": LOGNORMAL,
    "n_charged": POISSON, "n_neutral": POISSON,
}  # fmt: skip


#: The likelihood of every ℓ+X feature jetad computes, by name (``hlt21`` and ``hlt18_nano``).
LIKELIHOODS = {**HLT21_LIKELIHOODS, "lep_iso_neu_pho": LOGNORMAL}


def likelihood_kinds(features: tuple[str, ...] | list[str]) -> list[int]:
    """The likelihood of each named feature, taken from its name, never its position.

    Raises:
        ValueError: naming the features without a likelihood and the known ones.
    """
    unknown = [name for name in features if name not in LIKELIHOODS]
    if unknown:
        raise ValueError(
            f"the hltvae has no likelihood for {unknown}; it knows {list(LIKELIHOODS)}"
        )
    return [LIKELIHOODS[name] for name in features]


class HLTVAE(nn.Module):
    """VAE with per-feature likelihoods; ``scores`` gives the total loss (NLL + KL)."""

    score_names = ("loss",)

    def __init__(
        self,
        kinds: list[int],
        hidden: list[int],
        latent: int,
        x_train: np.ndarray,
        activation: str = "relu",
    ):
        super().__init__()
        offsets = np.cumsum([0] + [_N_PARAMETERS[k] for k in kinds])
        self.latent = latent
        self.encoder = mlp([len(kinds), *hidden, 2 * latent], activation)
        self.decoder = mlp([latent, *reversed(hidden), int(offsets[-1])], activation)
        std = x_train.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        self.register_buffer("shift", torch.as_tensor(x_train.mean(axis=0), dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        # For every likelihood, the features it covers and the columns of their parameters.
        groups = {
            "lognormal": [LOGNORMAL],
            "gaussian": [GAUSSIAN, POSITIVE_GAUSSIAN],
            "positive": [POSITIVE_GAUSSIAN],
            "discrete": [DISCRETE],
            "binomial": [BINOMIAL, CHARGE],
            "poisson": [POISSON],
        }
        for name, members in groups.items():
            features = [d for d, k in enumerate(kinds) if k in members]
            width = 3 if name == "lognormal" else N_CATEGORIES if name == "discrete" else 2
            width = 1 if name in ("binomial", "poisson") else width
            columns = [[int(offsets[d]) + i for i in range(width)] for d in features]
            self.register_buffer(f"{name}_x", torch.tensor(features, dtype=torch.long))
            self.register_buffer(
                f"{name}_p", torch.tensor(columns, dtype=torch.long).reshape(len(features), width)
            )
        binomials = [k for k in kinds if k in (BINOMIAL, CHARGE)]
        shifts = [1.0 if k == CHARGE else 0.0 for k in binomials]  # charge ±1 → {0, 1}
        self.register_buffer("charge_shift", torch.tensor(shifts))
        self.clip = _CLIP
        self.half_log_2pi = _HALF_LOG_2PI

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.encoder((x - self.shift) / self.scale)
        return out[:, : self.latent], out[:, self.latent :]

    def nll(self, x: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
        """Per-event negative log-likelihood of the raw features."""
        softplus = nn.functional.softplus
        # clipped log-normal: a point mass at 0 (logit f), log-normal above
        value = x[:, self.lognormal_x]
        p = parameters[:, self.lognormal_p]
        log_sigma = p[..., 1].clamp(-6.0, 6.0)
        log_value = torch.log(value.clamp_min(self.clip))
        positive = ((log_value - p[..., 0]) / log_sigma.exp()) ** 2 / 2 + log_sigma + log_value
        lognormal = torch.where(
            value <= self.clip, softplus(-p[..., 2]), softplus(p[..., 2]) + positive
        )
        total = lognormal.sum(dim=1) + self.half_log_2pi * (value > self.clip).sum(dim=1)
        # Gaussians, and the normalisation of the one truncated at 0
        value = x[:, self.gaussian_x]
        p = parameters[:, self.gaussian_p]
        log_sigma = p[..., 1].clamp(-6.0, 8.0)
        gauss = ((value - p[..., 0]) / log_sigma.exp()) ** 2 / 2 + log_sigma + self.half_log_2pi
        total = total + gauss.sum(dim=1)
        p = parameters[:, self.positive_p]
        sigma = p[..., 1].clamp(-6.0, 8.0).exp()
        total = total + torch.special.log_ndtr(p[..., 0] / sigma).sum(dim=1)
        # counts in categories 0 … 9
        category = x[:, self.discrete_x].round().clamp(0, self.discrete_p.shape[1] - 1).long()
        log_p = torch.log_softmax(parameters[:, self.discrete_p], dim=2)
        total = total - log_p.gather(2, category[..., None])[..., 0].sum(dim=1)
        # binomials: is-electron, and the charge mapped to {0, 1}
        value = x[:, self.binomial_x]
        target = ((value + self.charge_shift) / (1.0 + self.charge_shift)).clamp(0.0, 1.0)
        logit = parameters[:, self.binomial_p][..., 0]
        bce = nn.functional.binary_cross_entropy_with_logits(logit, target, reduction="none")
        total = total + bce.sum(dim=1)
        # Poisson hadron counts
        value = x[:, self.poisson_x]
        log_rate = parameters[:, self.poisson_p][..., 0].clamp(-10.0, 10.0)
        total = total + (log_rate.exp() - value * log_rate + torch.lgamma(value + 1)).sum(dim=1)
        return total

    def kl(self, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        return 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=1)

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mean, log_var = self.encode(x)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        nll = self.nll(x, self.decoder(z)).mean()
        kl = self.kl(mean, log_var).mean()
        return nll + kl, {"nll": nll, "kl": kl}

    @torch.jit.export
    def scores(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.encode(x)
        return (self.nll(x, self.decoder(mean)) + self.kl(mean, log_var))[:, None]
